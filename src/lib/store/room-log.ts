/**
 * One room's Y.Doc kept as an update log in IndexedDB: what the partner store and the program store
 * share. Each store owns a RoomLog and adds what is its own (the partner store its projected rows
 * and KPI buckets, the program store the values its screens read).
 *
 * Rows of every room live in the one `updates` table. Opening merges the room's rows into a new
 * Y.Doc; every update of the doc after that, local or remote (from the sync connection), is stored:
 * a write's update at once, in an IndexedDB transaction of its own and, where there is one, in the
 * room's write-ahead journal (journal.ts; the save is safe when the first of the two has it), other
 * updates of one task together as one row; then whatever the store adds (`FlushHook`) in a second
 * transaction. The store's rows are never ahead of the log, and a store that keeps `stateVector()`
 * with them knows on its next open whether they are behind. Saves that reached only the journal of
 * a tab that stopped are replayed into the log by `recoverJournal`.
 *
 * The log is also the sync connection's ledger (`syncLedger`, sync SPEC.md C1–C3): each local
 * change's mark is stored in the update row that holds it, and the server's last acknowledged state
 * under the settings key `sync:<room>`, so the count of changes not yet on the server survives a
 * reload.
 */
import * as Y from 'yjs';
import type { Table } from 'dexie';
import type { Problem } from '../domain/validate';
import {
  isOnServer,
  localChangeOf,
  mergeKnown,
  readServerState,
  storeServerState,
  type LocalChange,
  type ServerState,
  type SyncLedger,
} from '../sync/pending-changes';
import { TAB_ORIGIN } from '../sync/tab-channel';
import { appendRow, serverStateKey, type PartnerKpiDb, type UpdateRow } from './db';
import type { Journal, OpenJournal } from './journal';
import { describeStorageError, type StorageError, type WriteResult } from './write-result';

/** How long the server's acknowledged state waits before it is stored (storeServerStateSoon). */
const SERVER_STATE_WRITE_DELAY_MS = 500;

/** What a store stores after its room's updates, in an IndexedDB transaction once they are stored. */
export interface FlushHook {
  /** The tables its writes touch besides `updates`. */
  readonly tables?: Table[];
  /** Whether it has something to store even when no update is pending. */
  hasPending?(): boolean;
  /** Takes what it has pending for one flush, once the flush's updates are stored. */
  take(): FlushPart;
}

/** A store's part of one flush. */
export interface FlushPart {
  /** Starts its writes inside the flush's transaction. */
  writes?(): Promise<unknown>[];
  /** Called once the transaction has committed. */
  stored(): void;
  /** The transaction failed: keep what was taken for the next flush. */
  failed(): void;
}

/** When to look again for journal files another tab held at open (recoverJournal). */
const JOURNAL_CLAIM_RETRY_MS = [1_000, 5_000];

/** How long a settled write waits for the journal's answer once IndexedDB has its update (noteSafeTime). */
const JOURNAL_ANSWER_AFTER_COMMIT_MS = 100;

/** What `promise` resolves with within `ms`, else undefined. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The origin of the transaction that replays a journal's records (recoverJournal). */
const RECOVERED = Symbol('recovered from the journal');

/** The class of a document's refusal: a change its own rules forbid, with the problems by field. */
type RefusalClass = abstract new (...args: never[]) => Error & { readonly problems: Problem[] };

export class RoomLog {
  private loadedDoc: Y.Doc | undefined;
  private pendingUpdates: Uint8Array[] = [];
  /** The marks of the local changes among the pending updates. */
  private pendingLocalChanges: LocalChange[] = [];
  /** Updates from another tab were applied since the last flush: the store's part follows, the updates are that tab's to store. */
  private fromOtherTabs = false;
  /** Local changes the server was not known to have (C1–C3); loaded with the document. */
  private localChanges: LocalChange[] = [];
  private serverState: ServerState | undefined;
  private readonly localChangeListeners = new Set<() => void>();
  private flushing: Promise<void> = Promise.resolve();
  /** The journal's last record handed to IndexedDB with a row (journalUpdate; 0: none). */
  private journalSeq = 0;
  private flushScheduled: Promise<void> | undefined;
  /** Why the updates, or the store's part, could not be stored, while that is so. */
  private logError: StorageError | undefined;
  private partError: StorageError | undefined;
  /** When the last write's update was safe (journal or log), once known: `storedAt`. */
  private safeAt = 0;
  /** Resolves once the last write's `safeAt` is known. */
  private safeKnown: Promise<void> = Promise.resolve();
  private journal: Journal | undefined;
  private claimRetries = 0;
  private claimRetry: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Whether a write's change is running (its updates are stored as they come: onUpdate). */
  private writing = false;
  /** Rows of updates issued so far, and the last of them issued before a failure was known. */
  private attempts = 0;
  private failedAttempt = 0;
  private stopListening: () => void = () => {};
  private serverStateWrite: ReturnType<typeof setTimeout> | undefined;

  /** Past `compactAfter` stored updates, opening merges them into one. Writes go to the journal `openJournal` opens, if any. */
  constructor(
    private readonly db: PartnerKpiDb,
    readonly room: string,
    private readonly compactAfter: number,
    private readonly hook: FlushHook,
    private readonly openJournal?: OpenJournal,
  ) {}

  /**
   * Reads the room's stored updates into a new Y.Doc, stores every update of it from then on, and
   * past `compactAfter` stored updates merges them into one. Returns the doc and how many updates
   * were stored before that.
   */
  async load(): Promise<{ doc: Y.Doc; storedUpdates: number }> {
    // A journal that cannot be opened leaves saves to IndexedDB alone.
    const journal = this.openJournal?.(this.room).catch(() => undefined);
    const [rows, saved] = await Promise.all([
      this.db.updates.where('room').equals(this.room).toArray(),
      this.db.settings.get(serverStateKey(this.room)),
    ]);
    this.serverState = readServerState(saved?.value);
    this.localChanges = rows
      .flatMap((row) => row.localChanges ?? [])
      .filter((change) => !isOnServer(change, this.serverState?.stateVector));
    const doc = new Y.Doc();
    // Each row applied in turn, not merged first: merging re-encodes the whole log (a partner of
    // 60,000 records: ~0.5–1 s merging a 20 MB row with a few small ones, then ~0.4 s applying),
    // while applying the rows one after another costs about the apply alone.
    for (const row of rows) Y.applyUpdate(doc, row.update);
    this.loadedDoc = doc;
    this.listen(doc);
    if (rows.length > this.compactAfter) await this.compact(rows.map((row) => row.seq!));
    this.journal = await journal;
    return { doc, storedUpdates: rows.length };
  }

  /**
   * Replays the saves that reached only the journal of a tab that stopped (journal.ts): each
   * record is applied to the document — one the log already has changes nothing — and what is new
   * is stored like any update, with the marks of its local changes; then the files are removed.
   * The store calls it once it follows the document's changes, so that its rows follow too.
   */
  async recoverJournal(): Promise<void> {
    const journal = this.journal;
    const doc = this.loadedDoc;
    if (!journal || !doc || this.closed) return;
    const { orphans, held } = await journal.claimOrphans().catch(() => ({ orphans: [], held: 0 }));
    // A file still held may be a reloaded page's, let go a moment after this page opened: look again.
    if (held > 0 && this.claimRetries < JOURNAL_CLAIM_RETRY_MS.length) {
      this.claimRetry = setTimeout(
        () => void this.recoverJournal(),
        JOURNAL_CLAIM_RETRY_MS[this.claimRetries++],
      );
    }
    if (orphans.length === 0) return;
    const records = orphans.flatMap((orphan) => orphan.records);
    const before = new Map<number, number>();
    for (const { client } of records.flatMap((record) => record.localChanges))
      before.set(client, Y.getState(doc.store, client));
    // A record that is not a Yjs update (another app version's, say) is skipped, and its file kept:
    // the room opens all the same.
    let unreadable = 0;
    for (const record of records) {
      try {
        Y.applyUpdate(doc, record.update, RECOVERED);
      } catch {
        unreadable++;
      }
    }
    // The marks of the changes the log did not have go into the row that now stores them (C3).
    const recovered = records
      .flatMap((record) => record.localChanges)
      .filter(({ client, clock }) => clock > before.get(client)! && clock <= Y.getState(doc.store, client));
    this.pendingLocalChanges.push(...recovered);
    this.localChanges.push(...recovered);
    await this.settled();
    if (recovered.length) this.notifyLocalChange();
    if (!this.storageError && unreadable === 0)
      await journal.release(orphans.map((orphan) => orphan.name)).catch(() => {});
  }

  private listen(doc: Y.Doc): void {
    const onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      if (origin === TAB_ORIGIN) {
        // Another tab's change (sync SPEC T2): that tab stores it, in its journal and this log, with
        // its marks; storing it here too would only add a second row of the same update. What the
        // store derives from it (rows, buckets, the screens) follows as for any change.
        this.fromOtherTabs = true;
        this.scheduleFlush();
        return;
      }
      this.pendingUpdates.push(update);
      const change = localChangeOf(transaction);
      if (change) {
        this.pendingLocalChanges.push(change);
        this.localChanges.push(change);
      }
      // A write's update is stored at once, before anyone else hears of it (the sync connection
      // sending it, the sync status counting it); other updates, such as a burst arriving from the
      // server, once the task is done, together.
      if (this.writing) this.flush();
      else this.scheduleFlush();
      if (change) void this.flushing.then(() => this.notifyLocalChange());
    };
    doc.on('update', onUpdate);
    this.stopListening = () => doc.off('update', onUpdate);
  }

  /** Tells the ledger's listeners (the sync status) of a local change, once it is stored. */
  private notifyLocalChange(): void {
    for (const listener of this.localChangeListeners) listener();
  }

  /** Stops storing the doc's updates and destroys the doc; resolves once the journal is closed too. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.claimRetry);
    this.stopListening();
    this.loadedDoc?.destroy();
    if (this.serverStateWrite !== undefined) {
      clearTimeout(this.serverStateWrite);
      this.storeServerStateNow();
    }
    const journal = this.journal;
    // The journal's file goes if the log has everything in it; otherwise the next open replays it.
    return journal
      ? this.settled().then(() =>
          journal.close(this.logError === undefined && this.pendingUpdates.length === 0),
        )
      : Promise.resolve();
  }

  /**
   * Stores the server's last acknowledged state a moment after it arrives, the latest of a burst
   * once. An acknowledgement follows every save a few milliseconds later: in an IndexedDB
   * transaction of its own each time, it would queue between one save and the next. Not in a
   * write's transaction either: if it is lost, the next open counts the changes it acknowledged as
   * unsent until the next acknowledgement — too many, never too few.
   */
  private storeServerStateSoon(): void {
    this.serverStateWrite ??= setTimeout(() => {
      this.serverStateWrite = undefined;
      this.storeServerStateNow();
    }, SERVER_STATE_WRITE_DELAY_MS);
  }

  private storeServerStateNow(): void {
    const state = this.serverState;
    if (state)
      this.db.settings
        .put({ key: serverStateKey(this.room), value: storeServerState(state) })
        .catch(() => {});
  }

  /**
   * The sync connection's ledger (C1–C3): the local changes not known to be on the server, and the
   * server's last acknowledged state, both kept in IndexedDB. Complete once loaded.
   */
  get syncLedger(): SyncLedger {
    return {
      localChanges: () => this.localChanges,
      serverState: () => this.serverState,
      remember: (state) => {
        this.serverState = state;
        this.localChanges = this.localChanges.filter((change) => !isOnServer(change, state.stateVector));
        this.storeServerStateSoon();
      },
      adopt: (known) => {
        const merged = mergeKnown(this.localChanges, this.serverState, known);
        if (!merged.changed) return;
        const stateChanged = merged.serverState !== this.serverState;
        this.localChanges = merged.localChanges;
        this.serverState = merged.serverState;
        if (stateChanged) this.storeServerStateSoon();
        this.notifyLocalChange();
      },
      onLocalChange: (listener) => {
        this.localChangeListeners.add(listener);
        return () => this.localChangeListeners.delete(listener);
      },
    };
  }

  /**
   * Runs one change of the document, then waits until it is stored. The document refuses a change
   * that its own rules forbid (an error of class `refusal`, e.g. an id that exists): that is
   * reported as problems, and nothing was written.
   */
  async write<T>(change: () => void, result: () => T, refusal: RefusalClass): Promise<WriteResult<T>> {
    this.writing = true;
    try {
      change();
    } catch (error) {
      if (error instanceof refusal)
        return {
          ok: false,
          problems: error.problems.length ? error.problems : [{ field: '', message: error.message }],
        };
      throw error;
    } finally {
      this.writing = false;
    }
    await this.settled();
    const storageError = this.storageError;
    return storageError ? { ok: false, storageError } : { ok: true, value: result() };
  }

  /** The storage problem of the last write that could not be stored, while it is unsolved. */
  get storageError(): StorageError | undefined {
    return this.logError ?? this.partError;
  }

  /**
   * When the last write's update was safe: written to the journal or committed to IndexedDB,
   * whichever was first (`performance.now()`; 0 before the first). Known once the write is settled.
   */
  get storedAt(): number {
    return this.safeAt;
  }

  /** Waits until every change made so far is stored (or failed to be). */
  async settled(): Promise<void> {
    await this.flushScheduled;
    await this.flushing;
    await this.safeKnown;
  }

  /** Stores what is pending once the current task is done; the store calls it on its own change events. */
  scheduleFlush(): void {
    // The update event and the store's own change event of one transaction arrive together: store
    // them together once the current task is done.
    this.flushScheduled ??= Promise.resolve().then(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }

  /**
   * Stores what is pending, in two IndexedDB transactions. The updates first, in a transaction of
   * their own, issued now (a write's also handed to the journal): once it commits, or the journal
   * has it, the change is safe, whatever happens next. Then the store's part (its rows, its
   * buckets), prepared and stored once the first has committed. So the update's commit waits neither for the projection's writes nor for the page's work of preparing
   * them (the page's main thread has to be free to hear of the commit). The store's part carries
   * the document's state vector (`stateVector`): if the app stops between the two commits, the store
   * sees on its next open that its rows are behind the log, and rebuilds them.
   */
  private flush(): void {
    const updates = this.pendingUpdates;
    const localChanges = this.pendingLocalChanges;
    const fromOtherTabs = this.fromOtherTabs;
    this.fromOtherTabs = false;
    if (updates.length === 0 && !fromOtherTabs && !this.hook.hasPending?.()) return;
    this.pendingUpdates = [];
    this.pendingLocalChanges = [];
    const update =
      updates.length === 0 ? undefined : updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    // A write's update goes to the journal first (a message to its worker), then to IndexedDB.
    const journaled = this.writing && update ? this.journalUpdate(update, localChanges) : undefined;
    const logged = update ? this.storeUpdate(update, localChanges, journaled?.seq) : Promise.resolve(0);
    if (this.writing) this.noteSafeTime(logged, journaled?.durable);
    this.flushing = this.flushing.then(async () => {
      // What the store has pending stays with it until the updates are stored.
      if ((await logged) === undefined) return;
      // An earlier flush may have taken it all meanwhile; and rows never go ahead of the updates
      // that failed to be stored (they go with the flush that stores those).
      if (
        (updates.length === 0 && !fromOtherTabs && !this.hook.hasPending?.()) ||
        this.pendingUpdates.length > 0
      )
        return;
      const part = this.hook.take();
      try {
        const writes = part.writes;
        if (writes && this.hook.tables?.length) {
          await this.db.transaction('rw', this.hook.tables, (transaction) => {
            // All requests at once: IndexedDB runs them in order within the transaction, and one
            // commit waits for them all (awaiting each in turn cost a round trip per table).
            const requests = writes();
            // Nothing more is asked of this transaction: IndexedDB may commit as soon as the writes
            // are done, instead of after the page has handled each write's success.
            transaction.idbtrans.commit();
            return Promise.all(requests);
          });
        }
        // A part takes everything the store has pending: nothing of it is left unstored now.
        this.partError = undefined;
        part.stored();
      } catch (error) {
        this.partError = describeStorageError(error);
        part.failed();
      }
    });
  }

  /** Hands a write's update to the journal, if there is one; `durable` never rejects (undefined: not journaled). */
  private journalUpdate(
    update: Uint8Array,
    localChanges: LocalChange[],
  ): { seq: number; durable: Promise<number | undefined> } | undefined {
    if (!this.journal) return undefined;
    const { seq, durable } = this.journal.append({ update, localChanges });
    return { seq, durable: durable.catch(() => undefined) };
  }

  /**
   * The write's update is safe at the first of its journal write and its IndexedDB commit. A
   * journal that has not answered a moment after the commit is not waited for any longer: the
   * write is settled, and its time is the commit's.
   */
  private noteSafeTime(
    logged: Promise<number | undefined>,
    journaled: Promise<number | undefined> | undefined,
  ): void {
    this.safeKnown = logged.then(async (committedAt) => {
      const journalAt = journaled && (await withinMs(journaled, JOURNAL_ANSWER_AFTER_COMMIT_MS));
      const known = [committedAt, journalAt].filter((time): time is number => time !== undefined);
      if (known.length) this.safeAt = Math.min(...known);
    });
  }

  /**
   * Adds one row of updates to the log, in a transaction of its own; resolves with when it
   * committed, or undefined if it failed. Straight on IndexedDB: a save is safe at this commit when
   * there is no journal (or it is slower), and Dexie's layers cost a millisecond of the page's main
   * thread before the request is even sent. Transactions on one table run in the order they were made, so rows stay in order even
   * with several in flight. `journalSeq`: the journal's last record in this row, which, once the
   * log has everything, the journal may let go.
   */
  private storeUpdate(
    update: Uint8Array,
    localChanges: LocalChange[],
    journalSeq: number | undefined,
  ): Promise<number | undefined> {
    // A local change is stored with its mark or not at all (C3).
    const row: UpdateRow = { room: this.room, update, ...(localChanges.length ? { localChanges } : {}) };
    const attempt = ++this.attempts;
    if (journalSeq !== undefined) this.journalSeq = journalSeq;
    const journalThrough = this.journalSeq;
    return appendRow(this.db, row).then(
      () => {
        const committedAt = performance.now();
        // Cleared only by a row issued after the last failure: that one held what had failed.
        if (attempt > this.failedAttempt) {
          this.logError = undefined;
          if (journalThrough > 0 && this.pendingUpdates.length === 0) this.journal?.drop(journalThrough);
        }
        return committedAt;
      },
      (error: unknown) => {
        // Nothing is lost: the change stays in the document and goes with the next row stored.
        this.logError = describeStorageError(error);
        this.failedAttempt = this.attempts;
        this.pendingUpdates = [update, ...this.pendingUpdates];
        this.pendingLocalChanges = [...localChanges, ...this.pendingLocalChanges];
        return undefined;
      },
    );
  }

  /** The document's state vector: what a store keeps with its part to know later that it matches the log. */
  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.loadedDoc!);
  }

  /** Whether a state vector kept by `stateVector()` is the loaded document's (its stored log's). */
  isAt(stateVector: unknown): boolean {
    if (!(stateVector instanceof Uint8Array)) return false;
    const kept = Y.decodeStateVector(stateVector);
    const current = Y.decodeStateVector(this.stateVector());
    return kept.size === current.size && [...current].every(([client, clock]) => kept.get(client) === clock);
  }

  /**
   * Replaces the room's stored updates by one, in one transaction, so that the next open is fast.
   * The marks of local changes the server does not have yet move into the new row (C3).
   */
  private async compact(seqs: number[]): Promise<void> {
    const state = Y.encodeStateAsUpdate(this.loadedDoc!);
    const unsent = [...this.localChanges];
    await this.db.transaction('rw', this.db.updates, async () => {
      await this.db.updates.bulkDelete(seqs);
      await this.db.updates.add({
        room: this.room,
        update: state,
        ...(unsent.length ? { localChanges: unsent } : {}),
      });
    });
  }
}
