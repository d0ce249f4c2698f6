/**
 * One room's Y.Doc kept as an update log in IndexedDB: what the partner store and the program store
 * share. Each store owns a RoomLog and adds what is its own (the partner store its projected rows
 * and KPI buckets, the program store the values its screens read).
 *
 * Rows of every room live in the one `updates` table. Opening merges the room's rows into a new
 * Y.Doc; every update of the doc after that, local or remote (from the sync connection), is stored:
 * the updates of one task as one row, in one IndexedDB transaction with whatever the store adds to
 * it (`FlushHook`), so the store's own rows never disagree with the log.
 *
 * The log is also the sync connection's ledger (`syncLedger`, sync SPEC.md C1–C3): each local
 * change's mark is stored in the update row that holds it, and the server's last acknowledged state
 * under the settings key `sync:<room>`, so the count of changes not yet on the server survives a
 * reload.
 */
import * as Y from 'yjs';
import type { Table } from 'dexie';
import type { Problem } from '../domain/validate';
import { isOnServer, localChangeOf, readServerState, storeServerState, type LocalChange, type ServerState, type SyncLedger } from '../sync/pending-changes';
import type { PartnerKpiDb } from './db';
import { describeStorageError, type StorageError, type WriteResult } from './write-result';

/** How long the server's acknowledged state waits before it is stored (storeServerStateSoon). */
const SERVER_STATE_WRITE_DELAY_MS = 500;

/** Settings key of what the sync server was last known to have of a room (C3). */
export const serverStateKey = (room: string) => `sync:${room}`;

/** What a store stores with its room's updates, in the same IndexedDB transaction. */
export interface FlushHook {
  /** The tables its writes touch besides `updates`. */
  readonly tables?: Table[];
  /** Whether it has something to store even when no update is pending. */
  hasPending?(): boolean;
  /** Takes what it has pending for one flush, before the flush's transaction starts. */
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

/** The class of a document's refusal: a change its own rules forbid, with the problems by field. */
type RefusalClass = abstract new (...args: never[]) => Error & { readonly problems: Problem[] };

export class RoomLog {
  private loadedDoc: Y.Doc | undefined;
  private pendingUpdates: Uint8Array[] = [];
  /** The marks of the local changes among the pending updates. */
  private pendingLocalChanges: LocalChange[] = [];
  /** Local changes the server was not known to have (C1–C3); loaded with the document. */
  private localChanges: LocalChange[] = [];
  private serverState: ServerState | undefined;
  private readonly localChangeListeners = new Set<() => void>();
  private flushing: Promise<void> = Promise.resolve();
  private flushScheduled: Promise<void> | undefined;
  private lastError: StorageError | undefined;
  private committedAt = 0;
  private stopListening: () => void = () => {};
  private serverStateWrite: ReturnType<typeof setTimeout> | undefined;

  /** Past `compactAfter` stored updates, opening merges them into one. */
  constructor(
    private readonly db: PartnerKpiDb,
    readonly room: string,
    private readonly compactAfter: number,
    private readonly hook: FlushHook,
  ) {}

  /**
   * Reads the room's stored updates into a new Y.Doc, stores every update of it from then on, and
   * past `compactAfter` stored updates merges them into one. Returns the doc and how many updates
   * were stored before that.
   */
  async load(): Promise<{ doc: Y.Doc; storedUpdates: number }> {
    const [rows, saved] = await Promise.all([this.db.updates.where('room').equals(this.room).toArray(), this.db.settings.get(serverStateKey(this.room))]);
    this.serverState = readServerState(saved?.value);
    this.localChanges = rows.flatMap((row) => row.localChanges ?? []).filter((change) => !isOnServer(change, this.serverState?.stateVector));
    const doc = new Y.Doc();
    if (rows.length > 0) Y.applyUpdate(doc, Y.mergeUpdates(rows.map((row) => row.update)));
    this.loadedDoc = doc;
    this.listen(doc);
    if (rows.length > this.compactAfter) await this.compact(rows.map((row) => row.seq!));
    return { doc, storedUpdates: rows.length };
  }

  private listen(doc: Y.Doc): void {
    const onUpdate = (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
      this.pendingUpdates.push(update);
      const change = localChangeOf(transaction);
      if (change) {
        this.pendingLocalChanges.push(change);
        this.localChanges.push(change);
        for (const listener of this.localChangeListeners) listener();
      }
      this.scheduleFlush();
    };
    doc.on('update', onUpdate);
    this.stopListening = () => doc.off('update', onUpdate);
  }

  /** Stops storing the doc's updates and destroys the doc. */
  close(): void {
    this.stopListening();
    this.loadedDoc?.destroy();
    if (this.serverStateWrite !== undefined) {
      clearTimeout(this.serverStateWrite);
      this.storeServerStateNow();
    }
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
    if (state) this.db.settings.put({ key: serverStateKey(this.room), value: storeServerState(state) }).catch(() => {});
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
    try {
      change();
    } catch (error) {
      if (error instanceof refusal) return { ok: false, problems: error.problems.length ? error.problems : [{ field: '', message: error.message }] };
      throw error;
    }
    await this.settled();
    return this.lastError ? { ok: false, storageError: this.lastError } : { ok: true, value: result() };
  }

  /** The storage problem of the last write that could not be stored, while it is unsolved. */
  get storageError(): StorageError | undefined {
    return this.lastError;
  }

  /** When the last flush was committed to IndexedDB (`performance.now()`; 0 before the first). */
  get storedAt(): number {
    return this.committedAt;
  }

  /** Waits until every change made so far is stored (or failed to be). */
  async settled(): Promise<void> {
    await this.flushScheduled;
    await this.flushing;
  }

  /** Stores what is pending once the current task is done; the store calls it on its own change events. */
  scheduleFlush(): void {
    // The update event and the store's own change event of one transaction arrive together: store
    // them in one IndexedDB transaction once the current task is done.
    this.flushScheduled ??= Promise.resolve().then(() => {
      this.flushScheduled = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const updates = this.pendingUpdates;
    const localChanges = this.pendingLocalChanges;
    if (updates.length === 0 && !this.hook.hasPending?.()) return;
    this.pendingUpdates = [];
    this.pendingLocalChanges = [];
    const part = this.hook.take();
    try {
      await this.db.transaction('rw', [this.db.updates, ...(this.hook.tables ?? [])], (transaction) => {
        // All requests at once: IndexedDB runs them in order within the transaction, and one
        // commit waits for them all (awaiting each in turn cost a round trip per table).
        const writes: Promise<unknown>[] = [];
        if (updates.length > 0) {
          const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
          // A local change is stored with its mark or not at all (C3).
          writes.push(this.db.updates.add({ room: this.room, update, ...(localChanges.length ? { localChanges } : {}) }));
        }
        if (part.writes) writes.push(...part.writes());
        // Nothing more is asked of this transaction: IndexedDB may commit as soon as the writes are
        // done, instead of after the page has handled each write's success, which a busy page (the
        // screens following the change) would delay.
        transaction.idbtrans.commit();
        return Promise.all(writes);
      });
      this.committedAt = performance.now();
      this.lastError = undefined;
      part.stored();
    } catch (error) {
      // Nothing is lost: the change stays in the document and in the pending batch, and is stored
      // with the next write that succeeds.
      this.lastError = describeStorageError(error);
      this.pendingUpdates = [...updates, ...this.pendingUpdates];
      this.pendingLocalChanges = [...localChanges, ...this.pendingLocalChanges];
      part.failed();
    }
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
      await this.db.updates.add({ room: this.room, update: state, ...(unsent.length ? { localChanges: unsent } : {}) });
    });
  }
}
