/**
 * The write-ahead journal of a room's saves, as the room log sees it (room-log.ts): a save's update
 * is appended to a file of this tab's in the Origin Private File System by a worker
 * (journal-worker.ts), while the same update goes to the IndexedDB log. The save is safe when the
 * first of the two has it. An append is a write to a file the worker holds open (half a
 * millisecond from the page's message: the operating system then has it, as it has an IndexedDB
 * commit of relaxed durability, db.ts; the worker flushes it to the disk right after), where an
 * IndexedDB commit goes through the browser's database process and now and then waits several.
 *
 * The IndexedDB log stays the source of truth; the journal only covers the moments before an
 * update reaches it. Each tab writes its own file and holds it locked while it lives (OPFS allows
 * one sync handle per file). Opening a room claims the files nobody holds any longer — those of a
 * tab or app that stopped, perhaps between the two writes — and replays their records (Yjs updates
 * are idempotent: one already in the log changes nothing), then removes them once the log has
 * what they held. Where the browser has no OPFS sync handles, no journal is opened and saves
 * wait for IndexedDB alone.
 */
import { JOURNAL_FOLDER, JournalFile, type JournalRecord } from './journal-file';

export type { JournalRecord } from './journal-file';

/** Records of a file whose tab is gone, to replay. */
export interface Orphan {
  name: string;
  records: JournalRecord[];
}

/** What a claim found: the files of tabs that are gone, and how many others are still held. */
export interface Claim {
  orphans: Orphan[];
  /** Files another tab holds open: a live tab, or one that is going (a reload lets go a moment after the next page opens). */
  held: number;
}

export interface Journal {
  /**
   * Appends a save's record. `seq` numbers it for `drop`; `durable` resolves with when it was
   * written (`performance.now()` of this page), or rejects if it could not be.
   */
  append(record: JournalRecord): { seq: number; durable: Promise<number> };
  /** Everything appended up to `seq` is stored in the log: the journal may let it go. */
  drop(seq: number): void;
  /** Takes the files of tabs that are gone (see the module's comment). */
  claimOrphans(): Promise<Claim>;
  /** The log has every record of these files: removes them. */
  release(names: string[]): Promise<void>;
  /** Stops the journal; `empty`: the log has everything, its file can go. */
  close(empty: boolean): Promise<void>;
}

/** Opens a room's journal; `undefined` where there can be none (no OPFS, a private window). */
export type OpenJournal = (room: string) => Promise<Journal | undefined>;

/** No journal: for data the person only reads (a vendor manager's view of a partner). */
export const noJournal: OpenJournal = async () => undefined;

/** What the page asks of the worker. */
export type JournalRequest =
  | { type: 'open'; room: string }
  | { type: 'append'; seq: number; record: JournalRecord }
  | { type: 'drop'; seq: number }
  | { type: 'claim' }
  | { type: 'release'; names: string[] }
  | { type: 'close'; empty: boolean };

/** The worker's answer to request `id`: its result, or why it failed. */
export type JournalReply =
  { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string };

/**
 * A worker that has not answered an open, an append or a close within this is taken as broken:
 * the room opens without a journal, or saves go to IndexedDB alone from then on.
 */
const ANSWER_TIMEOUT_MS = 5_000;

/**
 * Removes every journal file of this device (signing out removes the data): call it once the
 * stores are closed. A file another open tab holds cannot be removed; that tab removes it when it
 * closes with everything in its log.
 */
export async function removeJournals(): Promise<void> {
  if (typeof navigator === 'undefined' || !navigator.storage?.getDirectory) return;
  const root = await navigator.storage.getDirectory().catch(() => undefined);
  await root?.removeEntry(JOURNAL_FOLDER, { recursive: true }).catch(() => {});
}

/** The journal in the Origin Private File System, written by a dedicated worker. */
export const openFileJournal: OpenJournal = async (room) => {
  if (typeof Worker === 'undefined' || typeof navigator === 'undefined' || !navigator.storage?.getDirectory)
    return undefined;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./journal-worker.ts', import.meta.url), { type: 'module' });
  } catch {
    return undefined;
  }
  const journal = new WorkerJournal(worker);
  try {
    await journal.call({ type: 'open', room }, ANSWER_TIMEOUT_MS);
    return journal;
  } catch {
    journal.stop();
    return undefined;
  }
};

class WorkerJournal implements Journal {
  private nextId = 1;
  private seq = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private broken: Error | undefined;
  /** Bytes appended since the file was last emptied, about: below the worker's threshold a drop does nothing. */
  private appendedBytes = 0;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<JournalReply>) => {
      const reply = event.data;
      const call = this.calls.get(reply.id);
      if (!call) return;
      this.calls.delete(reply.id);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(new Error(reply.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`The journal's worker failed: ${event.message}`));
    };
  }

  /** Asks the worker; one that does not answer within `timeoutMs` is taken as broken from then on. */
  call(request: JournalRequest, timeoutMs?: number): Promise<unknown> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.calls.delete(id);
              const error = new Error(`The journal did not answer a ${request.type} within ${timeoutMs} ms.`);
              reject(error);
              this.fail(error);
            }, timeoutMs);
      const done = () => clearTimeout(timer);
      this.calls.set(id, {
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
      this.worker.postMessage({ id, ...request });
    });
  }

  append(record: JournalRecord): { seq: number; durable: Promise<number> } {
    const seq = ++this.seq;
    this.appendedBytes += record.update.byteLength;
    // The worker's clock starts elsewhere: it answers in epoch milliseconds (timeOrigin + now).
    const durable = this.call({ type: 'append', seq, record }, ANSWER_TIMEOUT_MS).then(
      (at) => (at as number) - performance.timeOrigin,
    );
    return { seq, durable };
  }

  drop(seq: number): void {
    // No message a save for nothing: the worker empties its file only past this size.
    if (this.appendedBytes < JournalFile.DROP_AFTER_BYTES) return;
    this.call({ type: 'drop', seq })
      .then((emptied) => {
        if (emptied === true) this.appendedBytes = 0;
      })
      .catch(() => {});
  }

  async claimOrphans(): Promise<Claim> {
    return (await this.call({ type: 'claim' })) as Claim;
  }

  async release(names: string[]): Promise<void> {
    await this.call({ type: 'release', names });
  }

  async close(empty: boolean): Promise<void> {
    await this.call({ type: 'close', empty }, ANSWER_TIMEOUT_MS).catch(() => {});
    this.stop();
  }

  stop(): void {
    this.worker.terminate();
    this.fail(new Error('The journal is closed.'));
  }

  private fail(error: Error): void {
    this.broken = error;
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
  }
}
