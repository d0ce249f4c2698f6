/**
 * The sync bench's handle on a server's child process (bench/sync/server-child.ts): one request,
 * one reply, in order (bench/sync/protocol.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildStats, ParentMessage, ServerKind, StartRequest } from './protocol';
import { SERVER_V8_FLAGS } from '../../server/v8-flags';

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The parent's handle on a server's process: one request, one reply, in order. */
export class ServerProcess {
  private readonly waiting: { resolve: (message: ChildMessage) => void; reject: (error: Error) => void }[] =
    [];
  private exited: Error | undefined;
  port = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      const waiter = this.waiting.shift();
      if (message.type === 'failed')
        waiter?.reject(new Error(`the server's process failed: ${message.message}`));
      else waiter?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`the server's process exited (${signal ?? code})`);
      for (const waiter of this.waiting.splice(0)) waiter.reject(this.exited);
    });
  }

  static async start(kind: ServerKind, options: Omit<StartRequest, 'type' | 'kind'>): Promise<ServerProcess> {
    const child = fork(CHILD, [], {
      cwd: ROOT,
      // --expose-gc: memory is read after a collection, so garbage does not count as connections.
      // BENCH_SERVER_CPU_PROFILE=<dir>: each server process writes a V8 CPU profile there (Chrome DevTools opens it).
      // BENCH_SERVER_FLAGS: more Node flags for the server processes, space-separated (--trace-gc, say).
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        // As `npm start` runs it (server/v8-flags.ts).
        ...SERVER_V8_FLAGS,
        ...(process.env.BENCH_SERVER_FLAGS ? process.env.BENCH_SERVER_FLAGS.split(' ') : []),
        ...(process.env.BENCH_SERVER_CPU_PROFILE
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_CPU_PROFILE}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child);
    try {
      const ready = await server.request({ type: 'start', kind, ...options });
      if (ready.type !== 'ready') throw new Error(`the server's process answered ${ready.type} to start`);
      server.port = ready.port;
      return server;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  request(message: ParentMessage): Promise<ChildMessage> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.send(message);
    });
  }

  async stats(gc = false): Promise<ChildStats> {
    const stats = await this.request({ type: 'stats', gc });
    if (stats.type !== 'stats') throw new Error(`the server's process answered ${stats.type} to stats`);
    return stats;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    try {
      await Promise.race([this.request({ type: 'stop' }), sleep(10_000)]);
    } catch {
      // It is going anyway; the kill below makes sure.
    }
    if (!this.exited) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
