/**
 * A loaded room of the sync server: what the doc applies is stored before it is sent on or
 * acknowledged, and the updates of one event-loop turn are stored together in one transaction.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { Room, encodeStateVector, type RoomMember } from '../../../../server/sync/room';
import { createMemoryStorage } from '../../../../server/storage/memory-storage';
import type { RoomStorage } from '../../../../server/storage/storage';
import { MESSAGE_SYNC } from '../../../../src/lib/sync/protocol';

const NAME = { kind: 'partner', programId: 'p1', partnerId: 'x', name: 'program/p1/partner/x' } as const;
const OTHER = { kind: 'partner', programId: 'p1', partnerId: 'y', name: 'program/p1/partner/y' } as const;
const RULES = { roots: new Set(['records', 'meta']) };

/** Memory storage that counts its write calls, and can be made to fail. */
function countingStorage(): RoomStorage & { batches: number[]; failWith?: Error } {
  const inner = createMemoryStorage();
  const storage: RoomStorage & { batches: number[]; failWith?: Error } = {
    ...inner,
    batches: [],
    async append(room, update) {
      return storage.appendMany(room, [update]);
    },
    async appendMany(room, updates) {
      if (storage.failWith) throw storage.failWith;
      storage.batches.push(updates.length);
      return inner.appendMany(room, updates);
    },
  };
  return storage;
}

/** A connection that records what the room sends it and the acknowledgements it gets. */
class Member implements RoomMember {
  readonly doc = new Y.Doc();
  readonly sent: Uint8Array[] = [];
  readonly acks: Uint8Array[] = [];

  send(message: Uint8Array): void {
    this.sent.push(message);
  }

  saved(stateVector: Uint8Array): void {
    this.acks.push(stateVector);
  }

  readonly closes: number[] = [];
  close(code: number): void {
    this.closes.push(code);
  }

  /** An edit of its own doc, as the update it would send. */
  edit(key: string): Uint8Array {
    let update: Uint8Array | undefined;
    this.doc.once('update', (u: Uint8Array) => (update = u));
    this.doc.getMap('records').set(key, key);
    return update!;
  }

  /** Applies the sync messages it received to a copy of what it had. */
  received(into: Y.Doc): void {
    for (const message of this.sent) {
      const decoder = decoding.createDecoder(message);
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) continue;
      syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), into, 'server');
    }
  }
}

const covers = (stateVector: Uint8Array, doc: Y.Doc) => {
  const acknowledged = Y.decodeStateVector(stateVector);
  return [...Y.decodeStateVector(Y.encodeStateVector(doc))].every(
    ([client, clock]) => (acknowledged.get(client) ?? 0) >= clock,
  );
};

async function openRoom(storage: RoomStorage) {
  const failures: unknown[] = [];
  const stored: Uint8Array[] = [];
  const room = new Room(NAME, storage, RULES, {
    stored: (_room, update) => stored.push(update),
    failed: (_room, error) => failures.push(error),
  });
  await room.loaded;
  const a = new Member();
  const b = new Member();
  const c = new Member();
  for (const member of [a, b, c]) room.join(member);
  return { room, a, b, c, stored, failures };
}

describe('a room of the sync server', () => {
  it('stores a burst of updates from several members in one transaction, then sends every one on and acknowledges each sender once', async () => {
    const storage = countingStorage();
    const { room, a, b, c, stored } = await openRoom(storage);
    const updates = [a.edit('a1'), a.edit('a2'), b.edit('b1'), a.edit('a3'), b.edit('b2')];
    room.applyUpdate(updates[0]!, a);
    room.applyUpdate(updates[1]!, a);
    room.applyUpdate(updates[2]!, b);
    room.applyUpdate(updates[3]!, a);
    room.applyUpdate(updates[4]!, b);
    // Nothing goes out before it is stored.
    expect([a, b, c].map((member) => member.sent.length + member.acks.length)).toEqual([0, 0, 0]);
    await room.settled();

    expect(storage.batches).toEqual([5]);
    expect(stored).toEqual(updates);
    const fromStorage = new Y.Doc();
    Y.applyUpdate(fromStorage, Y.mergeUpdates((await storage.load(NAME.name)).updates));
    expect(fromStorage.getMap('records').toJSON()).toEqual({
      a1: 'a1',
      a2: 'a2',
      a3: 'a3',
      b1: 'b1',
      b2: 'b2',
    });

    expect(a.acks).toHaveLength(1);
    expect(b.acks).toHaveLength(1);
    expect(c.acks).toHaveLength(0);
    expect(covers(a.acks[0]!, room.doc) && covers(b.acks[0]!, room.doc)).toBe(true);
    for (const member of [a, b, c]) {
      expect(member.sent).toHaveLength(1);
      const copy = new Y.Doc();
      member.received(copy);
      expect(copy.getMap('records').toJSON()).toEqual(room.doc.getMap('records').toJSON());
    }
    room.destroy();
  });

  it('sends an update stored alone to everyone but its sender, and keeps the order of later batches', async () => {
    const storage = countingStorage();
    const { room, a, b, c } = await openRoom(storage);
    room.applyUpdate(a.edit('a1'), a);
    await room.settled();
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([0, 1, 1]);
    room.applyUpdate(b.edit('b1'), b);
    room.applyUpdate(c.edit('c1'), c);
    await room.settled();
    expect(storage.batches).toEqual([1, 2]);
    expect((await storage.load(NAME.name)).updates).toHaveLength(3);
    room.destroy();
  });

  it('sends a batch of one sender to everyone but it', async () => {
    const storage = countingStorage();
    const { room, a, b, c } = await openRoom(storage);
    room.applyUpdate(a.edit('a1'), a);
    room.applyUpdate(a.edit('a2'), a);
    await room.settled();
    expect(storage.batches).toEqual([2]);
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([0, 1, 1]);
    room.destroy();
  });

  it('asks the storage for every room’s batch of a turn together, before its first answer can be posted', async () => {
    const calls: string[] = [];
    let together = 0;
    const storage = countingStorage();
    const appendMany = storage.appendMany;
    storage.appendMany = (room, updates) => {
      // What a storage does to gather the calls of one moment (sqlite-storage.ts commits them together).
      if (calls.push(room) === 1) queueMicrotask(() => (together = calls.length));
      return appendMany(room, updates);
    };
    const first = await openRoom(storage);
    const other = new Room(OTHER, storage, RULES);
    await other.loaded;
    const member = new Member();
    other.join(member);
    first.room.applyUpdate(first.a.edit('a1'), first.a);
    other.applyUpdate(member.edit('m1'), member);
    await Promise.all([first.room.settled(), other.settled()]);
    expect(calls).toEqual([NAME.name, OTHER.name]);
    expect(together).toBe(2);
    first.room.destroy();
    other.destroy();
  });

  it('acknowledges and sends nothing it could not store, and takes no more changes', async () => {
    const storage = countingStorage();
    storage.failWith = new Error('disk full');
    const { room, a, b, failures } = await openRoom(storage);
    room.applyUpdate(a.edit('a1'), a);
    await room.settled();
    expect(failures).toEqual([storage.failWith]);
    expect([a.acks.length, b.sent.length]).toEqual([0, 0]);
    expect(room.applyUpdate(a.edit('a2'), a)).toEqual({
      ok: false,
      reason: expect.stringMatching(/cannot store/),
    });
    room.destroy();
  });

  it('encodes its whole state once for every client that has nothing, and again after a change', async () => {
    const storage = countingStorage();
    const { room, a } = await openRoom(storage);
    room.applyUpdate(a.edit('a1'), a);
    await room.settled();
    const empty = Y.encodeStateVector(new Y.Doc());
    const first = room.syncStep2Answer(empty);
    expect(room.syncStep2Answer(empty)).toBe(first);
    expect(room.syncStep2Answer(empty, { cache: false })).not.toBe(first);
    expect(room.syncStep2Answer(empty, { cache: false })).toEqual(first);
    room.applyUpdate(a.edit('a2'), a);
    const second = room.syncStep2Answer(empty);
    expect(second).not.toBe(first);
    const copy = new Y.Doc();
    const member = new Member();
    member.send(second);
    member.received(copy);
    expect(copy.getMap('records').toJSON()).toEqual({ a1: 'a1', a2: 'a2' });
    // A client that has something gets what it lacks, never the cached whole.
    expect(room.syncStep2Answer(Y.encodeStateVector(a.doc))).not.toBe(second);
    room.destroy();
  });

  it('acknowledges with the state vector Yjs would encode, in its own order', () => {
    const doc = new Y.Doc();
    for (let n = 0; n < 40; n++) {
      const writer = new Y.Doc();
      writer.getMap('records').set(`k${n}`, 'x'.repeat(n));
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer));
    }
    expect(Y.decodeStateVector(encodeStateVector(doc))).toEqual(
      Y.decodeStateVector(Y.encodeStateVector(doc)),
    );
    expect(Y.decodeStateVector(encodeStateVector(new Y.Doc())).size).toBe(0);
  });
});
