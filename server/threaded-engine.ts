/**
 * The engine (engine.ts) on a thread of its own, seen from the app's thread. This thread keeps
 * what cannot move — the HTTP server and the network sockets — and the engine's thread does the
 * documents' work: checking and applying every update, storing, folding rollups. At a
 * thousand edits a second in fifty rooms that work took some 60% of one thread, and every socket
 * waited behind it; here the sockets' thread does about what a bare relay does (bench/sync).
 *
 * Each sync socket is upgraded here (the path, the Origin and the token as the request gives it)
 * and relayed to the engine's sync server (sync/socket-bridge.ts), which checks the token and
 * everything after. The partners API, the metrics and closing are calls to the engine's thread.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { tokenFromRequest } from './auth/acl';
import { sqliteFile } from './config';
import type { EngineOptions } from './engine';
import { startCheckpointer, type Checkpointer } from './storage/checkpointer';
import type { DemoUser } from './seed';
import { DEFAULT_LIMITS } from './sync/limits';
import { SocketRelay, type SocketCommands, type SocketEvents } from './sync/socket-bridge';
import { syncSocketServer, upgradeToSync, type SyncCounters } from './sync/sync-server';
import { threadSource } from './thread-source';
import type { ThreadSchedule } from './thread-schedule';
import { setServerV8Flags } from './v8-flags';

/** What the app's thread asks of the engine's, besides relaying sockets. */
export type EngineCall =
  | { method: 'metrics' }
  | { method: 'partners'; token: string | undefined }
  | { method: 'counters' }
  | { method: 'heap'; gc: boolean }
  | { method: 'settled' }
  | { method: 'close' };

export type ToEngine = SocketEvents | { t: 'call'; id: number; call: EngineCall };

export type FromEngine =
  | SocketCommands
  | { t: 'reply'; id: number; value?: unknown; error?: string }
  | { t: 'log'; line: string }
  | { t: 'ready'; demoUsers: DemoUser[] }
  | { t: 'failed'; message: string };

/** Functions stay on this thread; everything else is handed to the engine's. */
export interface ThreadedEngineOptions extends Omit<EngineOptions, 'storage' | 'now'> {
  /** Called if the engine's thread stops on its own (an error nothing caught): the sync endpoint is then gone. */
  onFailure?: (error: Error) => void;
}

/** The engine thread's JS heap, and its time on a CPU and waiting for one (the bench). */
export interface EngineHeap {
  heapUsed: number;
  external: number;
  schedule: ThreadSchedule | undefined;
}

/** Starts the engine's thread; resolves once its storage is open and its rooms upgraded, rejects as startEngine would. */
export async function startEngineThread(options: ThreadedEngineOptions): Promise<ThreadedEngine> {
  const engine = new ThreadedEngine(options);
  await engine.ready;
  return engine;
}

export class ThreadedEngine {
  readonly ready: Promise<void>;
  demoUsers: DemoUser[] = [];
  private readonly worker: Worker;
  private readonly wss;
  private readonly log: (line: string) => void;
  private readonly relay: SocketRelay;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextCall = 1;
  private closing = false;
  private checkpointer: Checkpointer | undefined;
  /** Why nothing more can be asked of the engine: it was closed, or its thread stopped. */
  private over: Error | undefined;

  constructor(private readonly options: ThreadedEngineOptions) {
    const { log = (line: string) => console.log(line), onFailure: _onFailure, ...handed } = options;
    this.log = log;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.wss = syncSocketServer(limits);
    // Two of the largest messages may wait for the engine; past that, no socket is read.
    this.relay = new SocketRelay(
      (events, transfer) => this.post(events, transfer),
      2 * limits.maxMessageBytes,
      this.log,
    );
    // The engine's heap is the larger: it must not depend on node's command line (tests, tools).
    setServerV8Flags();
    this.worker = new Worker(threadSource(new URL('./engine-thread.ts', import.meta.url)), {
      eval: true,
      // Its code is bundled: no loader (--import tsx) is needed there. V8's flags (the heap flag
      // above, --expose-gc for the bench) are the process's and apply to it all the same; a CPU
      // profile (--cpu-prof, the bench's BENCH_SERVER_CPU_PROFILE) is per thread and asked again.
      execArgv: process.execArgv.filter((arg) => arg.startsWith('--cpu-prof')),
      workerData: { ...handed, checkpointsElsewhere: true } satisfies Omit<EngineOptions, 'storage' | 'now'>,
    });
    let started = false;
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: FromEngine) => {
        switch (message.t) {
          case 'sockets':
            return this.relay.perform(message);
          case 'reply':
            return this.replied(message);
          case 'log':
            return this.log(message.line);
          case 'ready':
            started = true;
            this.demoUsers = message.demoUsers;
            // The engine has opened the file, in WAL mode: its checkpoints go on a thread of their own.
            this.checkpointer = startCheckpointer(sqliteFile(options.config), { log: this.log });
            return resolve();
          case 'failed':
            return reject(new Error(message.message));
        }
      });
      const stopped = (error: Error) => {
        reject(error);
        // 'error' is followed by 'exit': once is enough.
        if (started && !this.closing && this.over === undefined) {
          this.log(`sync: the engine's thread stopped: ${error.message}`);
          this.options.onFailure?.(error);
        }
        this.end(error, { cutOff: true });
      };
      this.worker.on('error', stopped);
      this.worker.on('exit', () => stopped(new Error("the engine's thread has stopped")));
    });
  }

  /** Takes an HTTP upgrade if it is for the sync endpoint; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return upgradeToSync(this.wss, req, socket, head, {
      closing: this.closing || this.over !== undefined,
      allowedOrigins: this.options.config.allowedOrigins,
      tokenFromRequest,
      log: this.log,
      connect: (ws, request, socket) => this.relay.open(ws, request, socket),
    });
  }

  partners(token: string | undefined): Promise<{ status: number; body: unknown }> {
    return this.call({ method: 'partners', token });
  }

  metrics(): Promise<{ contentType: string; text: string }> {
    return this.call({ method: 'metrics' });
  }

  counters(): Promise<SyncCounters> {
    return this.call({ method: 'counters' });
  }

  /** The engine thread's JS heap, after a collection if `gc` (and Node runs with --expose-gc), and its schedule. */
  heap(gc: boolean): Promise<EngineHeap> {
    return this.call({ method: 'heap', gc });
  }

  settled(): Promise<void> {
    return this.call({ method: 'settled' });
  }

  private closed: Promise<void> | undefined;

  /** Closes every socket (clients reconnect later), has the engine store everything, and stops its thread. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      try {
        await this.call({ method: 'close' });
      } finally {
        this.end(new Error('the engine is closed'), { cutOff: false });
        await this.worker.terminate();
        await this.checkpointer?.close();
        this.wss.close();
      }
    })();
    return this.closed;
  }

  private call<T>(call: EngineCall): Promise<T> {
    if (this.over) return Promise.reject(this.over);
    const id = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // After the socket events before it: a call sees what they did.
      this.relay.flush();
      this.post({ t: 'call', id, call });
    });
  }

  private replied({ id, value, error }: Extract<FromEngine, { t: 'reply' }>): void {
    const waiter = this.waiting.get(id);
    this.waiting.delete(id);
    if (error !== undefined) waiter?.reject(new Error(error));
    else waiter?.resolve(value);
  }

  private post(message: ToEngine, transfer: ArrayBuffer[] = []): void {
    if (!this.over) this.worker.postMessage(message, transfer);
  }

  /**
   * Nothing more goes to the engine: calls waiting fail. After a close its sockets are closing
   * already; if its thread stopped, they are cut off (their clients reconnect, and are refused).
   */
  private end(error: Error, { cutOff }: { cutOff: boolean }): void {
    if (this.over) return;
    this.over = error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    if (cutOff) this.relay.terminateAll();
  }
}
