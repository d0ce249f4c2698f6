/**
 * What every ServerStorage adapter must do, whatever keeps the bytes (memory, SQLite, Postgres):
 * rooms' update logs, token revocations and how far each room was folded.
 * An adapter's test file calls `describeRoomStorageContract` with a function that opens a fresh,
 * empty storage for each test, and, for an adapter that persists, a way to open the same data again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { ServerStorage, StoredRoom } from '../../server/storage/storage';

export interface OpenedRoomStorage {
  storage: ServerStorage;
  /** Opens the same data again, after `storage` has been closed. */
  reopen?: () => Promise<ServerStorage>;
}

const PROGRAM = 'program/p1';
const PARTNER_X = 'program/p1/partner/x';
const PARTNER_Y = 'program/p1/partner/y';

const bytes = (...values: number[]) => new Uint8Array(values);

/** Deterministic bytes of every value, so that an offset or truncation shows. */
function patterned(length: number, salt = 0): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + (i >>> 8) + salt) & 0xff;
  return data;
}

/** Same bytes, as a plain Uint8Array; compared in one call, as deep equality takes seconds on megabytes. */
function expectSameBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(Object.getPrototypeOf(actual)).toBe(Uint8Array.prototype);
  expect(actual!.byteLength).toBe(expected.byteLength);
  expect(Buffer.compare(actual!, expected)).toBe(0);
}

function expectSameRoom(actual: StoredRoom, expected: StoredRoom): void {
  expect(actual.lastSeq).toBe(expected.lastSeq);
  expect(actual.updates).toHaveLength(expected.updates.length);
  expected.updates.forEach((update, i) => expectSameBytes(actual.updates[i], update));
}

export function describeRoomStorageContract(name: string, open: () => Promise<OpenedRoomStorage>): void {
  describe(`${name}: room storage contract`, () => {
    let storage: ServerStorage;
    let reopen: (() => Promise<ServerStorage>) | undefined;
    const opened: ServerStorage[] = [];

    beforeEach(async () => {
      ({ storage, reopen } = await open());
      opened.push(storage);
    });
    afterEach(async () => {
      // close is allowed twice, and some tests have closed theirs already.
      for (const each of opened.splice(0)) await each.close();
    });

    it('loads an unknown room as empty, and starts with no rooms and no bytes', async () => {
      expect(await storage.load(PROGRAM)).toEqual({ updates: [], lastSeq: 0 });
      expect(await storage.rooms()).toEqual([]);
      expect(await storage.bytesStored()).toBe(0);
    });

    it('gives the appended updates back in order, byte for byte, as plain Uint8Arrays', async () => {
      const everyByte = patterned(256);
      const fiveMegabytes = patterned(5 * 1024 * 1024, 7);
      const emptyDocUpdate = Y.encodeStateAsUpdate(new Y.Doc());
      const appended = [bytes(1), everyByte, fiveMegabytes, emptyDocUpdate, bytes(0, 255, 0)];
      const seqs: number[] = [];
      for (const update of appended) seqs.push(await storage.append(PARTNER_X, update));

      const loaded = await storage.load(PARTNER_X);
      expect(loaded.updates).toHaveLength(appended.length);
      appended.forEach((update, i) => expectSameBytes(loaded.updates[i], update));
      expect(loaded.lastSeq).toBe(seqs.at(-1));
    });

    it('appends a batch in one call, in order, after what was appended before, and returns the last seq', async () => {
      const first = await storage.append(PARTNER_X, bytes(1));
      const last = await storage.appendMany(PARTNER_X, [bytes(2), patterned(1000, 3), bytes(4)]);
      await storage.appendMany(PARTNER_Y, [bytes(9)]);
      expect(last).toBeGreaterThan(first);
      const loaded = await storage.load(PARTNER_X);
      expect(loaded.lastSeq).toBe(last);
      expect(loaded.updates).toHaveLength(4);
      [bytes(1), bytes(2), patterned(1000, 3), bytes(4)].forEach((update, i) =>
        expectSameBytes(loaded.updates[i], update),
      );
      const next = await storage.append(PARTNER_X, bytes(5));
      expect(next).toBeGreaterThan(last);
      await storage.compact(PARTNER_X, bytes(50), last);
      expect((await storage.load(PARTNER_X)).updates).toEqual([bytes(50), bytes(5)]);
      expect(await storage.bytesStored()).toBe(2 + 1);
    });

    it('stores all of a batch or none of it: a bad update in the middle leaves the room as it was', async () => {
      await storage.append(PARTNER_X, bytes(1));
      const before = await storage.load(PARTNER_X);
      const bytesBefore = await storage.bytesStored();
      const notBytes = undefined as unknown as Uint8Array;
      await expect(storage.appendMany(PARTNER_X, [bytes(2), notBytes, bytes(3)])).rejects.toThrow();
      expectSameRoom(await storage.load(PARTNER_X), before);
      expect(await storage.bytesStored()).toBe(bytesBefore);
    });

    it('refuses an empty batch', async () => {
      await expect(storage.appendMany(PARTNER_X, [])).rejects.toThrow(RangeError);
      expect(await storage.rooms()).toEqual([]);
    });

    it('keeps its own copy of an update', async () => {
      const update = bytes(1, 2, 3);
      await storage.append(PROGRAM, update);
      update[0] = 99;
      (await storage.load(PROGRAM)).updates[0]![1] = 99;
      expect((await storage.load(PROGRAM)).updates).toEqual([bytes(1, 2, 3)]);
    });

    it('keeps rooms apart, room names with slashes included', async () => {
      await storage.append(PROGRAM, bytes(1));
      await storage.append(PARTNER_X, bytes(2));
      await storage.append(PARTNER_Y, bytes(3));
      await storage.append(PARTNER_X, bytes(4));
      const partnerY = await storage.load(PARTNER_Y);
      await storage.compact(PARTNER_Y, bytes(30), partnerY.lastSeq);

      expect((await storage.load(PROGRAM)).updates).toEqual([bytes(1)]);
      expect((await storage.load(PARTNER_X)).updates).toEqual([bytes(2), bytes(4)]);
      expect((await storage.load(PARTNER_Y)).updates).toEqual([bytes(30)]);
      expect((await storage.load('program/p1/partner')).updates).toEqual([]);
    });

    it('numbers updates with seqs that increase within each room', async () => {
      const seqsByRoom = new Map<string, number[]>();
      for (const room of [PROGRAM, PARTNER_X, PROGRAM, PARTNER_Y, PARTNER_X, PROGRAM]) {
        const seq = await storage.append(room, bytes(seqsByRoom.size));
        seqsByRoom.set(room, [...(seqsByRoom.get(room) ?? []), seq]);
      }
      for (const [room, seqs] of seqsByRoom) {
        for (const seq of seqs) expect(Number.isSafeInteger(seq) && seq > 0).toBe(true);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
        expect((await storage.load(room)).lastSeq).toBe(seqs.at(-1));
      }
    });

    it('compacts into a snapshot, keeping the updates appended after uptoSeq after it', async () => {
      await storage.append(PARTNER_X, bytes(1));
      const second = await storage.append(PARTNER_X, bytes(2));
      await storage.append(PARTNER_X, bytes(3));
      const fourth = await storage.append(PARTNER_X, bytes(4));

      await storage.compact(PARTNER_X, bytes(12), second);
      expect(await storage.load(PARTNER_X)).toEqual({
        updates: [bytes(12), bytes(3), bytes(4)],
        lastSeq: fourth,
      });

      await storage.compact(PARTNER_X, bytes(1, 2, 3, 4), fourth);
      expect(await storage.load(PARTNER_X)).toEqual({ updates: [bytes(1, 2, 3, 4)], lastSeq: fourth });
    });

    it('numbers updates appended after a full compaction above the snapshot', async () => {
      const first = await storage.append(PARTNER_X, bytes(1));
      await storage.compact(PARTNER_X, bytes(10), first);
      expect(await storage.load(PARTNER_X)).toEqual({ updates: [bytes(10)], lastSeq: first });

      const second = await storage.append(PARTNER_X, bytes(2));
      expect(second).toBeGreaterThan(first);
      expect(await storage.load(PARTNER_X)).toEqual({ updates: [bytes(10), bytes(2)], lastSeq: second });
    });

    it('keeps a newer snapshot when an older compaction finishes after it', async () => {
      await storage.append(PROGRAM, bytes(1));
      const second = await storage.append(PROGRAM, bytes(2));
      const third = await storage.append(PROGRAM, bytes(3));

      await storage.compact(PROGRAM, bytes(1, 2, 3), third);
      await storage.compact(PROGRAM, bytes(1, 2), second);
      expect(await storage.load(PROGRAM)).toEqual({ updates: [bytes(1, 2, 3)], lastSeq: third });
      await storage.compact(PROGRAM, bytes(7, 7, 7), third);
      expect(await storage.load(PROGRAM)).toEqual({ updates: [bytes(1, 2, 3)], lastSeq: third });
    });

    it('refuses to compact beyond the room’s last seq, changing nothing', async () => {
      const own = await storage.append(PARTNER_X, bytes(1));
      const other = await storage.append(PARTNER_Y, bytes(2));
      const before = await storage.bytesStored();

      await expect(storage.compact(PARTNER_X, bytes(9), other)).rejects.toThrow(RangeError);
      await expect(storage.compact(PROGRAM, bytes(9), own)).rejects.toThrow(RangeError);
      await expect(storage.compact(PARTNER_X, bytes(9), 0)).rejects.toThrow(RangeError);
      expect(await storage.load(PARTNER_X)).toEqual({ updates: [bytes(1)], lastSeq: own });
      expect(await storage.load(PROGRAM)).toEqual({ updates: [], lastSeq: 0 });
      expect(await storage.bytesStored()).toBe(before);
    });

    it('round-trips a Yjs document through appends, compaction and more appends', async () => {
      const rep = new Y.Doc();
      const manager = new Y.Doc();
      const appends: Promise<number>[] = [];
      // Each device stores its own edits and applies the other's, as clients of one room would.
      const connect = (from: Y.Doc, to: Y.Doc) =>
        from.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin === 'remote') return;
          appends.push(storage.append(PARTNER_X, update));
          Y.applyUpdate(to, update, 'remote');
        });
      connect(rep, manager);
      connect(manager, rep);

      rep.getMap('deals').set('D1', { stage: 'qualified', amount: 1200 });
      rep.getArray<string>('log').push(['D1 created']);
      rep.getText('notes').insert(0, 'Met in the car park');
      manager.getMap('deals').set('D2', { stage: 'won', amount: 5000 });
      await Promise.all(appends);

      const beforeCompaction = await storage.load(PARTNER_X);
      await storage.compact(PARTNER_X, Y.mergeUpdates(beforeCompaction.updates), beforeCompaction.lastSeq);

      rep.getArray<string>('log').push(['D1 moved']);
      rep.getMap('deals').set('D1', { stage: 'proposal', amount: 1500 });
      await Promise.all(appends);

      const loaded = await storage.load(PARTNER_X);
      expect(loaded.updates.length).toBeLessThan(appends.length);
      const fresh = new Y.Doc();
      for (const update of loaded.updates) Y.applyUpdate(fresh, update);
      expect(fresh.getMap('deals').toJSON()).toEqual(rep.getMap('deals').toJSON());
      expect(fresh.getArray('log').toJSON()).toEqual(['D1 created', 'D1 moved']);
      expect(fresh.getText('notes').toString()).toBe('Met in the car park');
      expect(fresh.getMap('deals').toJSON()).toEqual({
        D1: { stage: 'proposal', amount: 1500 },
        D2: { stage: 'won', amount: 5000 },
      });
      expect(Y.decodeStateVector(Y.encodeStateVector(fresh))).toEqual(
        Y.decodeStateVector(Y.encodeStateVector(manager)),
      );
    });

    it('lists the rooms that have data, compacted ones included', async () => {
      await storage.load(PARTNER_Y);
      const seq = await storage.append(PARTNER_X, bytes(1));
      await storage.append(PROGRAM, bytes(2));
      await storage.compact(PARTNER_X, bytes(1), seq);
      expect((await storage.rooms()).sort()).toEqual([PROGRAM, PARTNER_X].sort());
    });

    it('counts stored bytes: more on append, less on compaction', async () => {
      const first = await storage.append(PARTNER_X, new Uint8Array(100));
      expect(await storage.bytesStored()).toBe(100);
      const second = await storage.append(PARTNER_X, new Uint8Array(50));
      await storage.append(PROGRAM, new Uint8Array(25));
      expect(await storage.bytesStored()).toBe(175);

      await storage.compact(PARTNER_X, new Uint8Array(30), first);
      expect(await storage.bytesStored()).toBe(30 + 50 + 25);
      await storage.compact(PARTNER_X, new Uint8Array(60), second);
      expect(await storage.bytesStored()).toBe(60 + 25);
    });

    it('keeps everything across close and reopen, when the adapter persists', async () => {
      const first = await storage.append(PARTNER_X, bytes(1));
      await storage.compact(PARTNER_X, bytes(10), first);
      await storage.append(PARTNER_X, bytes(2));
      // Larger than a database page or chunk, so that one stored in pieces must come back whole.
      await storage.append(PROGRAM, patterned(70_000, 3));
      const rooms = await storage.rooms();
      const partnerX = await storage.load(PARTNER_X);
      const program = await storage.load(PROGRAM);
      const stored = await storage.bytesStored();
      await storage.close();

      if (!reopen) {
        // Nothing to reopen (memory): closing must at least have ended this storage.
        await expect(storage.load(PARTNER_X)).rejects.toThrow(/closed/);
        return;
      }
      const again = await reopen();
      opened.push(again);
      expect(await again.rooms()).toEqual(rooms);
      expectSameRoom(await again.load(PARTNER_X), partnerX);
      expectSameRoom(await again.load(PROGRAM), program);
      expect(await again.bytesStored()).toBe(stored);
      expect(await again.append(PARTNER_X, bytes(3))).toBeGreaterThan(
        Math.max(partnerX.lastSeq, program.lastSeq),
      );
    });

    it('keeps revocations in order, each once, and gives those after a seq', async () => {
      const first = await storage.revoke('r1', 1000);
      const second = await storage.revoke('0f3a9c', 2000);
      expect(second).toBeGreaterThan(first);
      expect(await storage.revocationsAfter(0)).toEqual([
        { seq: first, subject: 'r1', revokedAt: 1000 },
        { seq: second, subject: '0f3a9c', revokedAt: 2000 },
      ]);
      expect(await storage.revocationsAfter(first)).toEqual([
        { seq: second, subject: '0f3a9c', revokedAt: 2000 },
      ]);
      expect(await storage.revocationsAfter(second)).toEqual([]);
    });

    it('lists the rooms stored beyond their last fold, compacted ones too, and never moves a fold back', async () => {
      expect(await storage.unfolded()).toEqual([]);
      const x1 = await storage.append(PARTNER_X, bytes(1));
      const y1 = await storage.append(PARTNER_Y, bytes(2));
      expect(await storage.unfolded()).toEqual([PARTNER_X, PARTNER_Y]);
      await storage.markFolded(PARTNER_X, x1);
      await storage.markFolded(PARTNER_Y, y1);
      expect(await storage.unfolded()).toEqual([]);
      const x2 = await storage.append(PARTNER_X, bytes(3));
      expect(await storage.unfolded()).toEqual([PARTNER_X]);
      await storage.compact(PARTNER_X, bytes(1, 3), x2);
      expect(await storage.unfolded()).toEqual([PARTNER_X]);
      await storage.markFolded(PARTNER_X, x2);
      // A slower, older fold finishing last does not take the record back.
      await storage.markFolded(PARTNER_X, x1);
      expect(await storage.unfolded()).toEqual([]);
    });

    it('rejects every call after close, and may be closed twice', async () => {
      await storage.append(PROGRAM, bytes(1));
      await storage.close();
      await expect(storage.load(PROGRAM)).rejects.toThrow(/closed/);
      await expect(storage.append(PROGRAM, bytes(2))).rejects.toThrow(/closed/);
      await expect(storage.appendMany(PROGRAM, [bytes(2), bytes(3)])).rejects.toThrow(/closed/);
      await expect(storage.compact(PROGRAM, bytes(1), 1)).rejects.toThrow(/closed/);
      await expect(storage.rooms()).rejects.toThrow(/closed/);
      await expect(storage.bytesStored()).rejects.toThrow(/closed/);
      await expect(storage.close()).resolves.toBeUndefined();
    });
  });
}
