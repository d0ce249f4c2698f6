/**
 * One loaded room: its Y.Doc, the presence of the people in it, and its connections.
 *
 * Every change of the doc, from a client or from the server itself (rollups), takes one path:
 * the doc emits the update → it is appended to storage → only then is it sent to the other
 * connections and acknowledged to its sender. The updates of one event-loop turn are appended
 * together, in one transaction; appends run one after another, so the stored log and the
 * broadcasts keep the order in which the doc applied the updates.
 *
 * A client's update reaches the doc only once it has passed update-check.ts, which finds, before
 * any document sees it, everything Yjs would refuse, wait on, or put outside the room's layout.
 * Should the doc fail to apply it all the same (an unknown Yjs failure), nothing of it is stored:
 * the room reports itself broken; the server then closes its connections and drops it, and the
 * next connection loads it from the stored log, the truth.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { MESSAGE_AWARENESS, MESSAGE_SYNC } from '../../src/lib/sync/protocol';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { RoomName } from '../../src/lib/sync/rooms';
import type { RoomStorage } from '../storage/storage';
import { applyChecked, checkUpdate, rootsChanged, type UpdateRules } from './update-check';

/**
 * Past this many appended updates, the log is merged into one snapshot (a small, fast next load),
 * once the room has been quiet for COMPACT_WHEN_QUIET_MS: merging encodes the whole room, which in
 * a busy room would hold every edit waiting behind it. A room that is never quiet is merged anyway
 * past COMPACT_AT_MOST_AFTER updates.
 */
export const COMPACT_AFTER_UPDATES = 500;
export const COMPACT_WHEN_QUIET_MS = 1000;
export const COMPACT_AT_MOST_AFTER = 10 * COMPACT_AFTER_UPDATES;

/** What a room needs of a connection. */
export interface RoomMember {
  /** Sends one encoded message; must not throw (a closed socket ignores it). */
  send(message: Uint8Array): void;
  /** Called after updates this member sent are stored, with the doc's state vector. */
  saved(stateVector: Uint8Array): void;
  /** Ends the connection (the room is being dropped). */
  close(code: number, reason: string): void;
}

export interface RoomEvents {
  /** An update was stored (for metrics and the rollup worker). `origin` is its member, or another origin. */
  stored?(room: Room, update: Uint8Array, origin: unknown): void;
  /** Storing failed: the room stops accepting changes (its clients keep theirs and resend later). */
  failed?(room: Room, error: unknown): void;
  /**
   * The doc failed to apply an update its checks passed: it may never emit again. The room
   * takes no more changes; the server should close its connections and drop it (it loads afresh).
   */
  broken?(room: Room, reason: string): void;
  /** A compaction was tried: `problem` says why its snapshot was not proven (the log was kept). */
  compacted?(room: Room, problem: string | undefined): void;
}

/** Why a client's update was not applied; the sender should be closed, nobody told it was saved. */
/** `ahead`: the update builds on changes the server does not have (see UpdateCheck); nothing was touched. */
export type UpdateOutcome = { ok: true } | { ok: false; reason: string; ahead?: true };

export class Room {
  readonly doc = new Y.Doc({ gc: true });
  /**
   * The whole state as a sync step 2 answer, made once per state: in a reconnect storm hundreds of
   * clients with empty documents ask for it at once, and encoding a partner of 60,000 records each
   * time would hold the event loop for each of them. Dropped at every change of the doc.
   */
  private wholeStateAnswer: Uint8Array | undefined;
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly members = new Map<RoomMember, Set<number>>();
  /** Resolves when the stored state is in the doc; nothing is answered before. */
  readonly loaded: Promise<void>;
  private writes: Promise<void> = Promise.resolve();
  private lastSeq = 0;
  private appendedSinceCompaction = 0;
  /** Updates the doc has applied that are not stored yet, in the order it applied them. */
  private unstored: { update: Uint8Array; origin: unknown }[] = [];
  /** Waits for a quiet moment to merge the log (compactWhenQuiet). */
  private quietTimer: NodeJS.Timeout | undefined;
  private destroyed = false;
  private broken: unknown;
  /** Other parts of the server that keep this room loaded (the rollup worker holds program rooms). */
  private holds = 0;

  constructor(
    readonly name: RoomName,
    private readonly storage: RoomStorage,
    private readonly rules: UpdateRules,
    private readonly events: RoomEvents = {},
  ) {
    this.awareness.setLocalState(null);
    this.loaded = this.load();
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      this.wholeStateAnswer = undefined;
      this.store(update, origin);
    });
    this.awareness.on('update', ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
      const member = origin as RoomMember | undefined;
      const ids = this.members.get(member as RoomMember);
      if (ids) {
        for (const id of added) ids.add(id);
        for (const id of removed) ids.delete(id);
      }
      const changed = [...added, ...updated, ...removed];
      // Presence goes to everyone, the sender too: the stock client closes a socket that has heard
      // nothing for 30 s, and its own presence renewal every 15 s echoing back is what it hears.
      this.broadcast(awarenessMessage(this.awareness, changed));
    });
  }

  private async load(): Promise<void> {
    const stored = await this.storage.load(this.name.name);
    this.lastSeq = stored.lastSeq;
    if (stored.updates.length > 0) {
      const state = stored.updates.length === 1 ? stored.updates[0]! : Y.mergeUpdates(stored.updates);
      // Applied with the storage as origin: `store` knows not to write them again.
      const problem = applyChecked(this.doc, state, this.storage);
      if (problem) throw new Error(`the stored log of ${this.name.name} does not load: ${problem}`);
    }
  }

  /** The seq of the last update of this room in storage: everything up to it is in the doc. */
  get storedSeq(): number {
    return this.lastSeq;
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** Whether the room can be unloaded: nobody in it, nothing holding it, every update stored. */
  get idle(): boolean {
    return this.members.size === 0 && this.holds === 0;
  }

  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (!released) this.holds--;
      released = true;
    };
  }

  join(member: RoomMember): void {
    this.members.set(member, new Set());
  }

  /** Removes a member and the presence it brought. */
  leave(member: RoomMember): void {
    const ids = this.members.get(member);
    this.members.delete(member);
    if (ids?.size) awarenessProtocol.removeAwarenessStates(this.awareness, [...ids], null);
  }

  /**
   * Applies a member's update once it has passed checkUpdate; it is then stored, and only then sent
   * to the others. A refused update changes nothing. Should the doc fail to apply it all the same
   * (throw, or be left unable to emit), or should it do what the checks say it cannot (change a
   * root outside the layout, leave structs waiting), the room reports itself broken: it stores and
   * sends nothing more, this update included, and the server reloads it from the stored log (R7).
   */
  applyUpdate(update: Uint8Array, origin: RoomMember | symbol): UpdateOutcome {
    if (this.broken !== undefined)
      return { ok: false, reason: `room ${this.name.name} cannot store changes: ${String(this.broken)}` };
    const checked = checkUpdate(this.doc, update, this.rules);
    if (!checked.ok) return checked;
    const pendingBefore = pendingBytes(this.doc);
    const touched = new Set<string>();
    const watch = (transaction: Y.Transaction) => {
      for (const root of rootsChanged(this.doc, transaction)) touched.add(root);
    };
    this.doc.on('afterTransaction', watch);
    let failure: string | undefined;
    try {
      failure = applyChecked(this.doc, update, origin);
    } finally {
      this.doc.off('afterTransaction', watch);
    }
    const outside = [...touched].filter((root) => !this.rules.roots.has(root));
    if (failure === undefined && outside.length > 0)
      failure = `it changed ${outside.join(', ')}, which is not this room's layout`;
    if (failure === undefined && pendingBytes(this.doc) > pendingBefore)
      failure = 'it left structs waiting for changes the server does not have';
    if (failure !== undefined) {
      this.broken = failure;
      this.events.broken?.(this, failure);
      return { ok: false, reason: `the room failed to apply it: ${failure}` };
    }
    return { ok: true };
  }

  /**
   * The sync step 2 message answering a client whose state vector is `stateVector`: for a client
   * that has nothing, the whole state, encoded once per state (`wholeStateAnswer`).
   */
  syncStep2Answer(stateVector: Uint8Array, { cache = true } = {}): Uint8Array {
    const empty = Y.decodeStateVector(stateVector).size === 0;
    if (empty && cache && this.wholeStateAnswer) return this.wholeStateAnswer;
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeSyncStep2(encoder, this.doc, stateVector);
    const answer = encoding.toUint8Array(encoder);
    if (empty && cache) this.wholeStateAnswer = answer;
    return answer;
  }

  /** Whether the room has stopped taking changes (storage failed, or the live doc did). */
  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  /** Resolves when every update applied so far is stored. */
  settled(): Promise<void> {
    return this.writes;
  }

  /**
   * Resolves once everything the doc holds now is stored, so that what was read from it may be
   * said to be stored (a sync step 2 answer, an acknowledgement); rejects if the room broke first.
   */
  async whenStored(): Promise<void> {
    await this.writes;
    if (this.broken !== undefined)
      throw new Error(`room ${this.name.name} cannot store changes: ${String(this.broken)}`);
  }

  /**
   * Stores the doc's updates (not those loaded from storage), together: the updates applied while the
   * event loop was busy — from any number of sockets — wait for the end of that turn (setImmediate)
   * and are appended in one transaction, after the writes before them. Under load that is one commit
   * for dozens of updates instead of one each. Every room's turn ends at the same moment, so the
   * storage is asked for all of them at once (SQLite commits them in one transaction).
   */
  private store(update: Uint8Array, origin: unknown): void {
    if (origin === this.storage) return;
    this.unstored.push({ update, origin });
    if (this.unstored.length > 1) return;
    this.writes = this.writes.then(endOfTurn).then(() => this.storeBatch());
  }

  private async storeBatch(): Promise<void> {
    const batch = this.unstored;
    this.unstored = [];
    if (this.broken !== undefined || batch.length === 0) return;
    // What the doc holds now is exactly what is stored once this batch is: every update applied
    // before is stored already, and every one applied after joins the next batch.
    const stateVector = encodeStateVector(this.doc);
    try {
      this.lastSeq = await this.storage.appendMany(
        this.name.name,
        batch.map((item) => item.update),
      );
    } catch (error) {
      this.broken = error;
      this.events.failed?.(this, error);
      return;
    }
    this.appendedSinceCompaction += batch.length;
    this.broadcastStored(batch);
    // One acknowledgement per sender, however many of its updates the batch held.
    const senders = new Set<RoomMember>();
    for (const { origin } of batch)
      if (this.members.has(origin as RoomMember)) senders.add(origin as RoomMember);
    for (const sender of senders) sender.saved(stateVector);
    for (const { update, origin } of batch) this.events.stored?.(this, update, origin);
    if (this.appendedSinceCompaction >= COMPACT_AT_MOST_AFTER) await this.compact();
    else if (this.appendedSinceCompaction >= COMPACT_AFTER_UPDATES) this.compactWhenQuiet();
  }

  /** Merges the log once no update has been stored for COMPACT_WHEN_QUIET_MS (each batch restarts the wait). */
  private compactWhenQuiet(): void {
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      this.writes = this.writes.then(async () => {
        if (
          this.broken === undefined &&
          !this.destroyed &&
          this.appendedSinceCompaction >= COMPACT_AFTER_UPDATES
        )
          await this.compact();
      });
    }, COMPACT_WHEN_QUIET_MS);
  }

  /**
   * Merges the stored log into one snapshot, proven before anything is deleted: the snapshot is
   * made from the stored log itself (never from the live doc, which may be in a state Yjs cannot
   * encode faithfully), and must load into a fresh document holding exactly the state (state vector
   * and deletions) the log loads into. A snapshot that fails is not stored; the log stays.
   */
  private async compact(): Promise<void> {
    this.appendedSinceCompaction = 0;
    // A compaction that fails (the storage busy or gone) keeps the log and must not stop the room:
    // it runs in the write queue, which every later store waits for.
    try {
      const stored = await this.storage.load(this.name.name);
      if (stored.updates.length < 2) return;
      const proven = proveSnapshot(stored.updates);
      if (typeof proven === 'string') return this.events.compacted?.(this, proven);
      await this.storage.compact(this.name.name, proven.snapshot, stored.lastSeq);
      this.events.compacted?.(this, undefined);
    } catch (error) {
      this.events.compacted?.(this, `storage failed: ${(error as Error).message}`);
    }
  }

  /**
   * Sends stored updates on. A batch goes as one message per socket, merged: under load the cost is
   * one socket write per message, so fewer, larger messages keep latency flat. Updates of one sender
   * go to everyone but it; merged from several, to everyone (a client ignores what it has).
   */
  private broadcastStored(batch: { update: Uint8Array; origin: unknown }[]): void {
    const origin = batch[0]!.origin;
    const oneSender = batch.every((item) => item.origin === origin);
    if (batch.length === 1) this.broadcast(updateMessage(batch[0]!.update), origin);
    else
      this.broadcast(
        updateMessage(Y.mergeUpdates(batch.map((item) => item.update))),
        oneSender ? origin : undefined,
      );
  }

  private broadcast(message: Uint8Array, except?: unknown): void {
    for (const member of this.members.keys()) if (member !== except) member.send(message);
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.quietTimer);
    this.awareness.destroy();
    this.doc.destroy();
  }
}

let turnEnd: Promise<void> | undefined;

/** Resolves at the end of this turn of the event loop: the same promise for every room that asks in it. */
function endOfTurn(): Promise<void> {
  return (turnEnd ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    }),
  ));
}

/**
 * The doc's state vector as Y.encodeStateVector encodes it, less its map and its sort (a decoder
 * takes the clients in any order): made for every acknowledgement, Yjs's took a twentieth of the
 * engine's work per edit.
 */
export function encodeStateVector(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, doc.store.clients.size);
  for (const [client, structs] of doc.store.clients) {
    const last = structs[structs.length - 1]!;
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, last.id.clock + last.length);
  }
  return encoding.toUint8Array(encoder);
}

/** How much of a doc waits for structs it does not have, or deletes what it does not have yet (0: nothing). */
function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0);
}

/**
 * One snapshot of a stored log, or why there cannot be one: the log must load, its encoded state
 * must load into a fresh document, and both must hold the same state vector and deletions.
 */
export function proveSnapshot(updates: readonly Uint8Array[]): { snapshot: Uint8Array } | string {
  const fromLog = new Y.Doc({ gc: true });
  const fromSnapshot = new Y.Doc({ gc: true });
  try {
    let merged: Uint8Array;
    try {
      merged = Y.mergeUpdates(updates as Uint8Array[]);
    } catch (error) {
      return `the log cannot be merged: ${(error as Error).message}`;
    }
    const logProblem = applyChecked(fromLog, merged, null);
    if (logProblem) return `the log does not load: ${logProblem}`;
    const snapshot = Y.encodeStateAsUpdate(fromLog);
    const snapshotProblem = applyChecked(fromSnapshot, snapshot, null);
    if (snapshotProblem) return `the snapshot does not load: ${snapshotProblem}`;
    if (!Y.equalSnapshots(Y.snapshot(fromLog), Y.snapshot(fromSnapshot)))
      return 'the snapshot does not hold the state of the log';
    return { snapshot };
  } finally {
    fromLog.destroy();
    fromSnapshot.destroy();
  }
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

export function updateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeUpdate(encoder, update);
  return encoding.toUint8Array(encoder);
}

export function awarenessMessage(awareness: awarenessProtocol.Awareness, clients: number[]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, clients));
  return encoding.toUint8Array(encoder);
}
