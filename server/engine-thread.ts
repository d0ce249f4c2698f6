/**
 * The body of the engine's thread (threaded-engine.ts starts it): runs the engine (engine.ts) — the
 * rooms, their checks and storage, the server's own writers — on sockets the app's thread relays
 * (sync/socket-bridge.ts), and answers that thread's calls (metrics, the partners API, close).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startEngine, type Engine, type EngineOptions } from './engine';
import { Batch, RemoteSocket, type SocketCommand } from './sync/socket-bridge';
import { threadSchedule } from './thread-schedule';
import type { EngineCall, EngineHeap, FromEngine, ToEngine } from './threaded-engine';

const port = parentPort!;
const post = (message: FromEngine) => port.postMessage(message);
/** The last batch of socket events taken in whole, told with the next commands (socket-bridge.ts). */
let consumed = 0;
let consumedTold = 0;
const commands = new Batch<SocketCommand>((items) => {
  consumedTold = consumed;
  post({ t: 'sockets', consumed, items });
});
const sockets = new Map<number, RemoteSocket>();

async function run(options: Omit<EngineOptions, 'storage' | 'now' | 'log'>): Promise<void> {
  let engine: Engine;
  try {
    engine = await startEngine({ ...options, log: (line) => post({ t: 'log', line }) });
  } catch (error) {
    post({ t: 'failed', message: (error as Error).message });
    return port.close();
  }
  port.on('message', (message: ToEngine) => {
    if (message.t === 'call') return void answer(engine, message);
    for (const event of message.items) {
      if (event.t === 'open') {
        const socket = new RemoteSocket(event.id, commands);
        sockets.set(event.id, socket);
        socket.once('close', () => sockets.delete(event.id));
        engine.sync.connect(socket, event.request);
      } else sockets.get(event.id)?.received(event);
    }
    consumed = message.seq;
    // Told with the commands this batch caused, or alone if it caused none.
    setImmediate(() => {
      commands.flush();
      if (consumedTold < consumed) {
        consumedTold = consumed;
        post({ t: 'sockets', consumed, items: [] });
      }
    });
  });
  post({ t: 'ready', demoUsers: engine.demoUsers });
}

async function answer(engine: Engine, { id, call }: Extract<ToEngine, { t: 'call' }>): Promise<void> {
  try {
    const value = await perform(engine, call);
    // What the call did to sockets (a close closes them all) goes first.
    commands.flush();
    post({ t: 'reply', id, value });
  } catch (error) {
    commands.flush();
    post({ t: 'reply', id, error: (error as Error).message });
  }
  if (call.method === 'close') port.close();
}

async function perform(engine: Engine, call: EngineCall): Promise<unknown> {
  switch (call.method) {
    case 'metrics':
      return { contentType: engine.metrics.contentType, text: await engine.metrics.metrics() };
    case 'partners':
      return engine.partners(call.token);
    case 'counters':
      return engine.sync.counters;
    case 'heap': {
      if (call.gc && globalThis.gc) {
        // Twice: the first pass may leave objects whose finalizers free more.
        globalThis.gc();
        globalThis.gc();
      }
      // A worker's own isolate: its heap, not the process's.
      const { heapUsed, external } = process.memoryUsage();
      return { heapUsed, external, schedule: threadSchedule() } satisfies EngineHeap;
    }
    case 'settled':
      return engine.settled();
    case 'close':
      return engine.close();
  }
}

void run(workerData as Omit<EngineOptions, 'storage' | 'now' | 'log'>);
