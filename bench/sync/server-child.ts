/**
 * A server's child process in the sync bench, forked by bench/sync/server-process.ts: it starts one
 * server (ours or the relay), then answers the parent's requests (bench/sync/protocol.ts), one at a
 * time, in order. Its CPU time and memory are then the server's alone, not the clients'.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildStats, ParentMessage, StartRequest } from './protocol';
import { threadSchedule } from '../../server/thread-schedule';
import type { EngineHeap } from '../../server/threaded-engine';

const send = (message: ChildMessage, done?: () => void) => process.send!(message, undefined, undefined, done);

interface Started {
  port: number;
  stop(): Promise<void>;
  updatesStored?: () => Promise<number>;
  /** The JS heap of the server's other thread (ours: the engine's), after a collection if asked. */
  otherHeap?: (gc: boolean) => Promise<EngineHeap | undefined>;
}

/** Starts the server asked for. Imported here, not at the top: the relay's process should not carry the server's modules. */
async function start(message: StartRequest, log: (line: string) => void): Promise<Started> {
  if (message.kind !== 'ours') {
    const { startMinimalRelay } = await import('./relay');
    const relay = await startMinimalRelay({
      host: '127.0.0.1',
      port: 0,
      roomsOnThread: message.kind === 'threaded relay',
    });
    return { port: relay.port, stop: () => relay.close() };
  }
  const { startServer } = await import('../../server/main');
  const { readConfig } = await import('../../server/config');
  const config = readConfig({
    DATA_DIR: message.dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    DEMO: 'off',
    TOKEN_SECRET: message.tokenSecret,
  });
  const running = await startServer({
    config,
    staticDir: message.staticDir,
    limits: { connectionsPerAddress: message.connectionsPerAddress },
    log,
  });
  return {
    port: Number(new URL(running.origin).port),
    stop: () => running.close(),
    updatesStored: async () => (await running.counters()).updatesStored,
    otherHeap: (gc) => running.engineHeap(gc),
  };
}

function serve(): void {
  let server: Started | undefined;
  const log: string[] = [];
  let logLines = 0;
  const collect = (line: string) => {
    logLines++;
    if (log.length < 8) log.push(line);
  };
  const stats = async (gc: boolean): Promise<ChildStats> => {
    if (gc && globalThis.gc) {
      // Twice: the first pass may leave objects whose finalizers free more.
      globalThis.gc();
      globalThis.gc();
    }
    const other = await server?.otherHeap?.(gc);
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return {
      type: 'stats',
      cpuMicros: cpu.user + cpu.system,
      rss: memory.rss,
      // Every thread's heap: process.memoryUsage gives this thread's.
      heapUsed: memory.heapUsed + (other?.heapUsed ?? 0),
      external: memory.external + (other?.external ?? 0),
      // This function runs on the main thread, where the event loop and the sockets are.
      mainThread: threadSchedule(),
      engineThread: other?.schedule,
      updatesStored: await server?.updatesStored?.(),
      logLines,
      log: [...log],
    };
  };
  // An orphan would keep its port and temp folder: leave with the parent.
  process.on('disconnect', () => process.exit(0));
  let queue = Promise.resolve();
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    queue = queue.then(async () => {
      try {
        if (message.type === 'start') {
          server = await start(message, collect);
          send({ type: 'ready', port: server.port });
        } else if (message.type === 'stats') {
          send(await stats(message.gc));
        } else {
          await server?.stop();
          send({ type: 'stopped' }, () => process.exit(0));
        }
      } catch (error) {
        send({ type: 'failed', message: (error as Error).stack ?? String(error) });
      }
    });
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) serve();
