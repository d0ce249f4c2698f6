/**
 * SQLite's checkpoints on a thread of their own. In WAL mode every commit appends pages to the
 * write-ahead log, and by default the connection that commits copies the log back into the
 * database — with an fsync — once it passes 1,000 pages. At a thousand edits a second that was
 * two stalls a second of 10–15 ms on the engine's thread, each holding every edit behind it (the
 * sync bench's p99). Here a second connection, on a thread that does nothing else, runs a PASSIVE
 * checkpoint every `intervalMs`: it waits for no one, and the engine's commits never wait for it.
 * The engine's connection keeps a far higher threshold of its own (sqlite-storage.ts
 * `WAL_PAGES_CAP`), should this thread ever stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export const CHECKPOINT_INTERVAL_MS = 250;

export interface Checkpointer {
  /** Stops the thread; its connection, the file's last, checkpoints everything as it closes. */
  close(): Promise<void>;
}

// Plain JavaScript, evaluated in the thread: it needs nothing of this codebase.
const THREAD = `
const { workerData, parentPort } = process.getBuiltinModule('node:worker_threads');
const Database = process.getBuiltinModule('node:module').createRequire(workerData.module)(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let failed = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failed = false;
  } catch (error) {
    // Said once per run of failures (a lock held by a backup, a full disk), not every interval.
    if (!failed) parentPort.postMessage({ log: 'sqlite: a checkpoint failed: ' + error.message });
    failed = true;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Starts checkpointing `file`, which must exist and be in WAL mode (the engine's storage is open). */
export function startCheckpointer(
  file: string,
  { intervalMs = CHECKPOINT_INTERVAL_MS, log }: { intervalMs?: number; log: (line: string) => void },
): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD, { eval: true, workerData: { file, module, intervalMs } });
  worker.on('message', (message: { log: string }) => log(message.log));
  worker.on('error', (error) => log(`sqlite: the checkpoint thread stopped: ${error.message}`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      worker.postMessage('close');
      await exited;
    },
  };
}
