/**
 * SQLite storage on a thread of its own: the same file and rows as sqlite-storage.ts, but its
 * statements run beside the sync server's event loop instead of inside it. better-sqlite3 blocks
 * while it commits; at a thousand edits a second in many rooms those commits took about an eighth
 * of the server thread, which every socket then waited behind. Here the server thread only posts
 * the call (the updates are copied, a few hundred bytes each) and goes on reading sockets; the
 * answer comes back as a message. Calls run in the order they were made, one at a time, so every
 * guarantee of `ServerStorage` holds as it does in-process (the same contract tests run over both).
 * The calls of one turn (the sync server stores every room's updates at the end of a turn) go to
 * the thread as one message, and their answers come back as one.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { ServerStorage } from './storage';
import type { StorageReply, StorageRequest } from './storage-thread';

type Method = StorageRequest['method'];

/** Opens `file` on a new thread; rejects as the in-process storage would throw (a newer schema, say). */
export async function openSqliteThreadStorage(file: string): Promise<ServerStorage> {
  const storage = new SqliteThreadStorage(file);
  await storage.opened;
  return storage;
}

class SqliteThreadStorage implements ServerStorage {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  /** Why no call can succeed any more: closed, or the thread is gone. */
  private over: Error | undefined;
  readonly opened: Promise<void>;

  constructor(readonly file: string) {
    this.worker = new Worker(threadSource(), { eval: true, workerData: { file } });
    this.worker.unref();
    this.opened = new Promise<void>((resolve, reject) => {
      this.waiting.set(0, { resolve: () => resolve(), reject });
      this.worker.ref();
    });
    this.worker.on('message', (replies: StorageReply[]) => {
      for (const reply of replies) {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (reply.error) waiter?.reject(errorOf(reply.error));
        else waiter?.resolve(reply.value);
      }
      if (this.waiting.size === 0) this.worker.unref();
    });
    const end = (error: Error) => {
      this.over ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(this.over);
      this.waiting.clear();
    };
    this.worker.on('error', (error) => end(new Error(`Room storage ${file} failed: ${error.message}`)));
    this.worker.on('exit', () => end(new Error(`Room storage ${file} is closed`)));
  }

  private call<T>(method: Method, ...args: unknown[]): Promise<T> {
    if (this.over) return Promise.reject(this.over);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.outbox.push({ id, method, args }) === 1) queueMicrotask(() => this.post());
    });
  }

  /** Calls made together (every room's appends at the end of a turn) go as one message. */
  private readonly outbox: StorageRequest[] = [];

  private post(): void {
    if (this.over) return;
    this.worker.ref();
    this.worker.postMessage(this.outbox.splice(0));
  }

  load(room: string) {
    return this.call<Awaited<ReturnType<ServerStorage['load']>>>('load', room);
  }
  append(room: string, update: Uint8Array) {
    return this.call<number>('append', room, update);
  }
  appendMany(room: string, updates: readonly Uint8Array[]) {
    return this.call<number>('appendMany', room, updates);
  }
  compact(room: string, snapshot: Uint8Array, uptoSeq: number) {
    return this.call<void>('compact', room, snapshot, uptoSeq);
  }
  rooms() {
    return this.call<string[]>('rooms');
  }
  bytesStored() {
    return this.call<number>('bytesStored');
  }
  revoke(subject: string, revokedAt: number) {
    return this.call<number>('revoke', subject, revokedAt);
  }
  revocationsAfter(afterSeq: number) {
    return this.call<Awaited<ReturnType<ServerStorage['revocationsAfter']>>>('revocationsAfter', afterSeq);
  }
  markFolded(room: string, seq: number) {
    return this.call<void>('markFolded', room, seq);
  }
  unfolded() {
    return this.call<string[]>('unfolded');
  }

  async close(): Promise<void> {
    if (this.over) return;
    await this.call<void>('close');
    this.over = new Error(`Room storage ${this.file} is closed`);
    await this.worker.terminate();
  }
}

/** The thread's error as the in-process storage would have thrown it (a RangeError stays one). */
function errorOf({ name, message }: { name: string; message: string }): Error {
  const error = name === 'RangeError' ? new RangeError(message) : new Error(message);
  if (name !== error.name) error.name = name;
  return error;
}

let source: string | undefined;

/**
 * The thread's code, as one script made once per process from storage-thread.ts and what
 * it imports. A worker thread does not inherit the loader that lets this thread run TypeScript
 * (tsx, or Vitest in tests); registering one in it costs most of a second per thread, bundling a
 * few milliseconds. Packages (better-sqlite3) stay outside, required from here.
 */
function threadSource(): string {
  if (source) return source;
  const entry = fileURLToPath(new URL('./storage-thread.ts', import.meta.url));
  const { outputFiles } = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'iife',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  // Whether the worker reads it as a script or a module depends on the loader in use: `require`
  // is handed in either way.
  const requireHere = `process.getBuiltinModule('node:module').createRequire(${JSON.stringify(entry)})`;
  source = `(function (require) {\n${outputFiles[0]!.text}\n})(${requireHere});`;
  return source;
}
