/**
 * One loaded room: its Y.Doc, the presence of the people in it, and its connections.
 *
 * Every change of the doc, from a client or from the server itself (rollups), takes one path:
 * the doc emits the update → it is appended to storage → only then is it sent to the other
 * connections and acknowledged to its sender. The updates of one event-loop turn are appended
 * together, in one transaction; appends run one after another, so the stored log and the
 * broadcasts keep the order in which the doc applied the updates.
 */
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { MESSAGE_AWARENESS, MESSAGE_SYNC } from '../../src/lib/sync/protocol';
import * as awarenessProtocol from 'y-protocols/awareness';
import type { RoomName } from '../rooms';
import type { RoomStorage } from '../storage/storage';

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
}

export interface RoomEvents {
  /** An update was stored (for metrics and the rollup worker). `origin` is its member, or another origin. */
  stored?(room: Room, update: Uint8Array, origin: unknown): void;
  /** Storing failed: the room stops accepting changes (its clients keep theirs and resend later). */
  failed?(room: Room, error: unknown): void;
}

export class Room {
  readonly doc = new Y.Doc({ gc: true });
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
    private readonly events: RoomEvents = {},
  ) {
    this.awareness.setLocalState(null);
    this.loaded = this.load();
    this.doc.on('update', (update: Uint8Array, origin: unknown) => this.store(update, origin));
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
      // Applied with the storage as origin: `store` knows not to write them again.
      Y.applyUpdate(this.doc, stored.updates.length === 1 ? stored.updates[0]! : Y.mergeUpdates(stored.updates), this.storage);
    }
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

  /** Applies a member's update; it is stored, then sent to the others. */
  applyUpdate(update: Uint8Array, origin: RoomMember | symbol): void {
    if (this.broken !== undefined) throw new Error(`Room ${this.name.name} cannot store changes: ${String(this.broken)}`);
    Y.applyUpdate(this.doc, update, origin);
  }

  /** Resolves when every update applied so far is stored. */
  settled(): Promise<void> {
    return this.writes;
  }

  /**
   * Stores the doc's updates (not those loaded from storage), together: the updates applied while the
   * event loop was busy — from any number of sockets — wait for the end of that turn (setImmediate)
   * and are appended in one transaction, after the writes before them. Under load that is one commit
   * for dozens of updates instead of one each.
   */
  private store(update: Uint8Array, origin: unknown): void {
    if (origin === this.storage) return;
    this.unstored.push({ update, origin });
    if (this.unstored.length > 1) return;
    this.writes = this.writes
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.storeBatch());
  }

  private async storeBatch(): Promise<void> {
    const batch = this.unstored;
    this.unstored = [];
    if (this.broken !== undefined || batch.length === 0) return;
    // What the doc holds now is exactly what is stored once this batch is: every update applied
    // before is stored already, and every one applied after joins the next batch.
    const stateVector = Y.encodeStateVector(this.doc);
    try {
      this.lastSeq = await this.storage.appendMany(this.name.name, batch.map((item) => item.update));
    } catch (error) {
      this.broken = error;
      this.events.failed?.(this, error);
      return;
    }
    this.appendedSinceCompaction += batch.length;
    this.broadcastStored(batch);
    // One acknowledgement per sender, however many of its updates the batch held.
    const senders = new Set<RoomMember>();
    for (const { origin } of batch) if (this.members.has(origin as RoomMember)) senders.add(origin as RoomMember);
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
        if (this.broken === undefined && !this.destroyed && this.appendedSinceCompaction >= COMPACT_AFTER_UPDATES) await this.compact();
      });
    }, COMPACT_WHEN_QUIET_MS);
  }

  /** Merges the stored log into one snapshot of the current state. */
  private async compact(): Promise<void> {
    // Every update applied to the doc has been appended by now (this runs in the write queue), so
    // the snapshot covers exactly the log up to lastSeq.
    const snapshot = Y.encodeStateAsUpdate(this.doc);
    await this.storage.compact(this.name.name, snapshot, this.lastSeq);
    this.appendedSinceCompaction = 0;
  }

  /**
   * Sends stored updates on. A batch goes as one message per socket, merged: under load the cost is
   * one socket write per message, so fewer, larger messages keep latency flat. Alone, an update goes
   * to everyone but its sender; merged, it goes to everyone (a client ignores what it has).
   */
  private broadcastStored(batch: { update: Uint8Array; origin: unknown }[]): void {
    if (batch.length === 1) this.broadcast(updateMessage(batch[0]!.update), batch[0]!.origin);
    else this.broadcast(updateMessage(Y.mergeUpdates(batch.map((item) => item.update))));
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
