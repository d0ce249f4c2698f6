/**
 * The sync server's gate for writers' updates (server/sync/update-check.ts) and the room behind it
 * (server/sync/room.ts): the poisoning messages of upstream yjs #723 / #799 and of the attack on
 * this server are refused, change nothing, and leave the room storing and relaying honest edits;
 * a compaction proves its snapshot before it deletes the log.
 */
import { describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { checkUpdate, MAX_CLOCK } from '../../../../server/sync/update-check';
import { COMPACT_AT_MOST_AFTER, proveSnapshot, Room, type RoomMember } from '../../../../server/sync/room';
import { createMemoryStorage } from '../../../../server/storage/memory-storage';

const NAME = { kind: 'partner', programId: 'p1', partnerId: 'x', name: 'program/p1/partner/x' } as const;
const RULES = { roots: new Set(['deals', 'meta']) };

/** The quoted 19-byte sync message of the attack: an item in `meta` whose content is "deleted, length 0". */
const POISON_MESSAGE = Uint8Array.from(Buffer.from('00021001019221002101046d657461016b0000', 'hex'));
/** The update inside it (after the sync type, the step and the length). */
const POISON = POISON_MESSAGE.subarray(3);

/** One struct of client `client` at `clock`: an item in root map `root` under key `key` with content ref `ref` and `content` bytes. */
function itemUpdate({
  client = 4242,
  clock = 0,
  root = 'meta',
  key = 'k',
  ref,
  content,
  ds = [],
}: {
  client?: number;
  clock?: number;
  root?: string;
  key?: string;
  ref: number;
  content: (encoder: encoding.Encoder) => void;
  ds?: [number, number, number][];
}): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, clock);
  encoding.writeUint8(encoder, 0x20 | ref); // parentSub, no origins
  encoding.writeVarUint(encoder, 1); // parent is a root name
  encoding.writeVarString(encoder, root);
  encoding.writeVarString(encoder, key);
  content(encoder);
  writeDeleteSet(encoder, ds);
  return encoding.toUint8Array(encoder);
}

/** An item of content "any" placed at root `root` with no key, as a Y.Array insert writes it. */
function listItemAtRoot(root: string): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = 4242;
  let update: Uint8Array | undefined;
  doc.once('update', (u: Uint8Array) => (update = u));
  doc.getArray(root).insert(0, ['x']);
  return update!;
}

/** A GC struct (ref 0) of `length` at `clock`. */
function gcUpdate(client: number, clock: number, length: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, clock);
  encoding.writeUint8(encoder, 0);
  encoding.writeVarUint(encoder, length);
  writeDeleteSet(encoder, []);
  return encoding.toUint8Array(encoder);
}

/** An update with no structs and only the deletions `[client, clock, len]`. */
function deleteOnly(ranges: [number, number, number][]): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  writeDeleteSet(encoder, ranges);
  return encoding.toUint8Array(encoder);
}

function writeDeleteSet(encoder: encoding.Encoder, ranges: [number, number, number][]): void {
  encoding.writeVarUint(encoder, ranges.length);
  for (const [client, clock, len] of ranges) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, clock);
    encoding.writeVarUint(encoder, len);
  }
}

const anyContent = (value: string) => (encoder: encoding.Encoder) => {
  encoding.writeVarUint(encoder, 1);
  encoding.writeAny(encoder, value);
};

/** Messages that must never reach a room's document, with what each is. */
const CORPUS: [string, Uint8Array][] = [
  ['the attack\'s 19-byte message: content "deleted, length 0"', POISON],
  [
    'content "deleted" of length 2^55',
    itemUpdate({ ref: 1, content: (e) => encoding.writeVarUint(e, 2 ** 55) }),
  ],
  ['an empty string (length 0)', itemUpdate({ ref: 4, content: (e) => encoding.writeVarString(e, '') })],
  ['a list of no values (length 0)', itemUpdate({ ref: 8, content: (e) => encoding.writeVarUint(e, 0) })],
  ['a GC struct of length 2^53', gcUpdate(4242, 0, 2 ** 53)],
  ['an item at clock 2^53', itemUpdate({ clock: 2 ** 53, ref: 8, content: anyContent('forged') })],
  ['a client id of 2^53', itemUpdate({ client: 2 ** 53, ref: 8, content: anyContent('x') })],
  ['a client id of 2^32', itemUpdate({ client: 2 ** 32, ref: 8, content: anyContent('x') })],
  ['a deletion of length 0', deleteOnly([[4242, 0, 0]])],
  ['a deletion of length 2^53', deleteOnly([[4242, 0, 2 ** 53]])],
  ['a deletion of clocks nobody has written yet', deleteOnly([[7, 0, 5]])],
  [
    'a write into a root the layout does not have',
    itemUpdate({ root: 'rollups', ref: 8, content: anyContent('forged') }),
  ],
  ['an item at a root that is not a map entry (a list item)', listItemAtRoot('deals')],
  [
    'a sub-document',
    itemUpdate({
      ref: 9,
      content: (e) => {
        encoding.writeVarString(e, 'guid');
        encoding.writeAny(e, {});
      },
    }),
  ],
  ['bytes that are no update', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])],
  ['a truncated update', POISON.subarray(0, 9)],
];

class Member implements RoomMember {
  readonly sent: Uint8Array[] = [];
  readonly acks: Uint8Array[] = [];
  readonly closes: number[] = [];
  send(message: Uint8Array): void {
    this.sent.push(message);
  }
  saved(stateVector: Uint8Array): void {
    this.acks.push(stateVector);
  }
  close(code: number): void {
    this.closes.push(code);
  }
}

/** An honest device's edit of deal `id`, as the update it sends. */
function honestEdit(doc: Y.Doc, id: string): Uint8Array {
  let update: Uint8Array | undefined;
  doc.once('update', (u: Uint8Array) => (update = u));
  doc.getMap('deals').set(id, JSON.stringify({ id }));
  return update!;
}

/** The update a sync update message carries. */
function updateOf(message: Uint8Array): Uint8Array {
  const decoder = decoding.createDecoder(message);
  decoding.readVarUint(decoder);
  decoding.readVarUint(decoder);
  return decoding.readVarUint8Array(decoder);
}

async function storedDeals(storage: ReturnType<typeof createMemoryStorage>): Promise<string[]> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Y.mergeUpdates((await storage.load(NAME.name)).updates));
  return [...doc.getMap('deals').keys()].sort();
}

describe('R3 — checkUpdate bounds every update first', () => {
  it.each(CORPUS)('refuses %s', (_what, update) => {
    const doc = new Y.Doc();
    doc.getMap('meta').set('k', 'v');
    const check = checkUpdate(doc, update, RULES);
    expect(check.ok).toBe(false);
  });

  it('passes an honest edit, a deletion of what exists, and a first sync of many records', () => {
    const server = new Y.Doc();
    const device = new Y.Doc();
    expect(checkUpdate(server, honestEdit(device, 'D1'), RULES)).toEqual({ ok: true, structs: 1 });
    Y.applyUpdate(server, Y.encodeStateAsUpdate(device));
    let deletion: Uint8Array | undefined;
    device.once('update', (u: Uint8Array) => (deletion = u));
    device.getMap('deals').set('D1', JSON.stringify({ id: 'D1', title: 'again' }));
    expect(checkUpdate(server, deletion!, RULES).ok).toBe(true);
    const offline = new Y.Doc();
    offline.transact(() => {
      for (let i = 0; i < 2000; i++) offline.getMap('deals').set(`D${i}`, JSON.stringify({ id: `D${i}` }));
    });
    expect(checkUpdate(server, Y.encodeStateAsUpdate(offline), RULES).ok).toBe(true);
  });

  it('keeps every bound far below 2^53, so that clock arithmetic stays exact', () => {
    expect(MAX_CLOCK * 2).toBeLessThan(Number.MAX_SAFE_INTEGER);
  });
});

describe('R4, R5 — a room given poisoning updates', () => {
  it.each(CORPUS)(
    'refuses %s, stores and tells nothing, and goes on storing and relaying honest edits',
    async (_what, poison) => {
      const storage = createMemoryStorage();
      const room = new Room(NAME, storage, RULES);
      await room.loaded;
      const [attacker, honest, other] = [new Member(), new Member(), new Member()];
      for (const member of [attacker, honest, other]) room.join(member);
      const device = new Y.Doc();
      expect(room.applyUpdate(honestEdit(device, 'D1'), honest).ok).toBe(true);
      await room.whenStored();

      expect(room.applyUpdate(poison, attacker).ok).toBe(false);
      for (let i = 2; i <= 20; i++)
        expect(room.applyUpdate(honestEdit(device, `D${i}`), honest).ok).toBe(true);
      await room.whenStored();

      expect(await storedDeals(storage)).toHaveLength(20);
      expect(attacker.acks).toEqual([]);
      expect(honest.acks.length).toBeGreaterThan(0);
      const relayed = new Y.Doc();
      for (const message of other.sent) Y.applyUpdate(relayed, updateOf(message));
      expect(relayed.getMap('deals').size).toBe(20);
      expect(room.isBroken).toBe(false);
      room.destroy();
    },
  );

  it('refuses an overwrite that lands outside the layout through its origin, whatever its parent says', async () => {
    // A room holding what an older server wrote there (rollups), which its clients may not write.
    const legacy = new Y.Doc();
    legacy.getMap('rollups').set('p1', 'from the server');
    const storage = createMemoryStorage();
    await storage.append(NAME.name, Y.encodeStateAsUpdate(legacy));
    const room = new Room(NAME, storage, RULES);
    await room.loaded;
    const attacker = new Y.Doc();
    Y.applyUpdate(attacker, Y.encodeStateAsUpdate(room.doc));
    let forged: Uint8Array | undefined;
    attacker.once('update', (u: Uint8Array) => (forged = u));
    // Overwriting a key: the item names its predecessor as origin and leaves its parent out.
    attacker.getMap('rollups').set('p1', 'forged');
    expect(room.applyUpdate(forged!, new Member())).toEqual({
      ok: false,
      reason: expect.stringMatching(/writes into "rollups"/),
    });
    expect(room.isBroken).toBe(false);
    expect(room.doc.getMap('rollups').get('p1')).toBe('from the server');
    const member = new Member();
    expect(room.applyUpdate(honestEdit(new Y.Doc(), 'D1'), member).ok).toBe(true);
    await room.whenStored();
    expect(await storedDeals(storage)).toEqual(['D1']);
    room.destroy();
  });

  it('stores nothing of a refused update even when the room is compacted right after (the bricked room)', async () => {
    const storage = createMemoryStorage();
    const room = new Room(NAME, storage, RULES);
    await room.loaded;
    const honest = new Member();
    room.join(honest);
    const device = new Y.Doc();
    for (let i = 0; i < 520; i++) room.applyUpdate(honestEdit(device, `D${i}`), honest);
    expect(room.applyUpdate(POISON, honest).ok).toBe(false);
    await room.whenStored();
    room.destroy();
    const reloaded = new Room(NAME, storage, RULES);
    await reloaded.loaded;
    expect(reloaded.doc.getMap('deals').size).toBe(520);
    reloaded.destroy();
  });

  it('R7: reports itself broken, stores nothing of the update, and takes nothing more, when its doc fails to apply what the checks passed', async () => {
    const storage = createMemoryStorage();
    const broken: string[] = [];
    const room = new Room(NAME, storage, RULES, { broken: (_room, reason) => broken.push(reason) });
    await room.loaded;
    const [member, other] = [new Member(), new Member()];
    room.join(member);
    room.join(other);
    // A listener that throws inside Yjs's transaction cleanup, after the doc emitted the update
    // (which the room has taken to store), leaves a doc that never emits again.
    room.doc.on('update', function fail() {
      room.doc.off('update', fail);
      throw new Error('listener failed');
    });
    const device = new Y.Doc();
    expect(room.applyUpdate(honestEdit(device, 'D1'), member)).toEqual({
      ok: false,
      reason: expect.stringMatching(/failed to apply/),
    });
    expect(broken).toHaveLength(1);
    expect(room.applyUpdate(honestEdit(device, 'D2'), member).ok).toBe(false);
    await expect(room.whenStored()).rejects.toThrow(/cannot store/);
    expect(member.acks).toEqual([]);
    expect(other.sent).toEqual([]);
    expect((await storage.load(NAME.name)).updates).toEqual([]);
    room.destroy();
  });
});

describe('R8 — proveSnapshot', () => {
  it('makes a snapshot that loads into the same state as the log', () => {
    const device = new Y.Doc();
    const updates = Array.from({ length: 30 }, (_, i) => honestEdit(device, `D${i % 7}`));
    const proven = proveSnapshot(updates);
    expect(typeof proven).toBe('object');
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, (proven as { snapshot: Uint8Array }).snapshot);
    expect(loaded.getMap('deals').toJSON()).toEqual(device.getMap('deals').toJSON());
  });

  it('refuses a log that does not load, so the log is kept', () => {
    const device = new Y.Doc();
    expect(proveSnapshot([honestEdit(device, 'D1'), POISON])).toMatch(/does not load|cannot be merged/);
  });

  it(
    'replaces a long log by a proven snapshot, and keeps a log whose snapshot fails its proof',
    { timeout: 30_000 },
    async () => {
      for (const poisoned of [false, true]) {
        const inner = createMemoryStorage();
        let loads = 0;
        // The second load is the compaction's: a poisoned row there stands for a log that does not load.
        const storage = {
          ...inner,
          async load(room: string) {
            const stored = await inner.load(room);
            return ++loads > 1 && poisoned ? { ...stored, updates: [...stored.updates, POISON] } : stored;
          },
        };
        const compactions: (string | undefined)[] = [];
        const room = new Room(NAME, storage, RULES, {
          compacted: (_room, problem) => compactions.push(problem),
        });
        await room.loaded;
        const member = new Member();
        room.join(member);
        const device = new Y.Doc();
        // One turn's worth past COMPACT_AT_MOST_AFTER: compacted at once, without waiting for quiet.
        for (let i = 0; i < COMPACT_AT_MOST_AFTER; i++) room.applyUpdate(honestEdit(device, `D${i}`), member);
        await room.whenStored();
        expect(compactions).toHaveLength(1);
        expect((await inner.load(NAME.name)).updates).toHaveLength(poisoned ? COMPACT_AT_MOST_AFTER : 1);
        if (poisoned) expect(compactions[0]).toMatch(/does not load|cannot be merged/);
        else expect(compactions[0]).toBeUndefined();
        room.destroy();
      }
    },
  );
});
