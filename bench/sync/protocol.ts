/**
 * The messages between the sync bench and a server's child process (bench/sync/server-process.ts
 * sends, bench/sync/server-child.ts answers): one request, one reply, in order, over Node's IPC.
 */
import type { ThreadSchedule } from '../../server/thread-schedule';

/**
 * Our server (tokens, storage, rollups), the minimal relay (bench/sync/relay.ts), or the same relay
 * with its rooms on a second thread, as our engine is (the cost of that crossing alone).
 */
export type ServerKind = 'ours' | 'relay' | 'threaded relay';

export interface StartRequest {
  type: 'start';
  kind: ServerKind;
  dataDir: string;
  staticDir: string;
  tokenSecret: string;
  connectionsPerAddress: number;
}

export type ParentMessage = StartRequest | { type: 'stats'; gc: boolean } | { type: 'stop' };

export interface ChildStats {
  type: 'stats';
  /** process.cpuUsage(), user + system, in µs. */
  cpuMicros: number;
  rss: number;
  heapUsed: number;
  external: number;
  /**
   * The main thread's time on a CPU and waiting for one (Linux /proc/self/schedstat, ns): a server
   * that falls behind while neither is high is blocked elsewhere (disk).
   */
  mainThread: ThreadSchedule | undefined;
  /** The same of our engine's thread (the relay has none). */
  engineThread: ThreadSchedule | undefined;
  /** Our server's count of stored updates (the figure /metrics shows as partner_kpi_sync_updates_stored_total). */
  updatesStored: number | undefined;
  /** Lines the server logged (refused connections, closed floods…), and the first few of them. */
  logLines: number;
  log: string[];
}

export type ChildMessage =
  { type: 'ready'; port: number } | ChildStats | { type: 'stopped' } | { type: 'failed'; message: string };
