/**
 * checkUpdate (server/sync/update-check.ts) against Yjs itself. A room applies a writer's update
 * straight to its document once checkUpdate passes it (SPEC R3, R4), so the check must foresee
 * what Yjs will do: every update it passes must apply without throwing, leave nothing waiting for
 * structs the server does not have, and change only the room's own root types — wherever Yjs
 * puts an item that inherits its place from a neighbour. And it must pass every honest edit.
 *
 * Seeded: thousands of updates built at random from the structs of a document that holds, besides
 * the layout's roots, a root the writer may not touch (what an older server wrote there), nested
 * types, and GC structs; and honest edits of every kind the Yjs API makes.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { checkUpdate, MAX_DEPTH, rootsChanged } from '../../../../server/sync/update-check';
import { encodeUpdate, mutate, Rng, type Content, type Struct } from '../../../support/hostile-client';

const ALLOWED = new Set(['deals', 'meta']);
/** More, and another seed, for a longer search: FORGED_UPDATES=200000 FORGED_SEED=2 npx vitest run … */
const FORGED = Number(process.env['FORGED_UPDATES'] ?? 6_000);
const SEED = Number(process.env['FORGED_SEED'] ?? 20_261_206);
const RULES = { roots: ALLOWED };
const FORBIDDEN = 'rollups';

/** A room's document: map entries, overwrites, nested maps and lists, a deleted nested map (GC structs), and a root outside the layout. */
function baseDoc(): Y.Doc {
  const doc = new Y.Doc({ gc: true });
  doc.clientID = 1;
  const deals = doc.getMap('deals');
  for (const key of ['a', 'b', 'c']) deals.set(key, `${key}1`);
  deals.set('a', 'a2');
  const nested = new Y.Map<unknown>();
  deals.set('n', nested);
  nested.set('x', 1);
  nested.set('y', 2);
  const doomed = new Y.Map<unknown>();
  deals.set('gone', doomed);
  doomed.set('z', 3);
  deals.delete('gone');
  doc.clientID = 2;
  const list = new Y.Array<unknown>();
  doc.getMap('meta').set('list', list);
  list.insert(0, ['p', 'q', 'r']);
  list.delete(1, 1);
  doc.getMap('meta').set('k', 'v');
  doc.clientID = 3;
  const rollups = doc.getMap(FORBIDDEN);
  rollups.set('p1', 'server');
  rollups.set('p1', 'server again');
  const inner = new Y.Map<unknown>();
  rollups.set('inner', inner);
  inner.set('w', 1);
  const rollupList = new Y.Array<unknown>();
  rollups.set('rlist', rollupList);
  rollupList.insert(0, ['s', 't']);
  return doc;
}

const BASE = Y.encodeStateAsUpdate(baseDoc());

function freshCopy(): Y.Doc {
  const doc = new Y.Doc({ gc: true });
  Y.applyUpdate(doc, BASE);
  return doc;
}

/** Every clock of the base document, with what holds it: what a forged reference may point at. */
function baseIds(): [number, number][] {
  const ids: [number, number][] = [];
  for (const [client, structs] of freshCopy().store.clients)
    for (const struct of structs)
      for (let clock = struct.id.clock; clock < struct.id.clock + struct.length; clock++)
        ids.push([client, clock]);
  return ids;
}

/** What Yjs did with `update` applied to a copy of the base: whether it threw, left structs waiting, and the roots it changed. */
function applyToCopy(update: Uint8Array): {
  threw?: string;
  unfinished: boolean;
  pending: boolean;
  roots: Set<string>;
} {
  const doc = freshCopy();
  const roots = new Set<string>();
  doc.on('afterTransaction', (transaction: Y.Transaction) => {
    for (const root of rootsChanged(doc, transaction)) roots.add(root);
  });
  // As a room listens: Yjs then encodes what it applied, which some values cannot survive.
  doc.on('update', () => {});
  let threw: string | undefined;
  try {
    Y.applyUpdate(doc, update);
  } catch (error) {
    threw = (error as Error).message;
  }
  return {
    threw,
    unfinished: doc._transaction !== null || doc._transactionCleanups.length > 0,
    pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
    roots,
  };
}

const CONTENTS: ((rng: Rng) => Content)[] = [
  (rng) => ({ ref: 'any', values: [rng.int(100)] }),
  () => ({ ref: 'string', text: 'a' }),
  () => ({ ref: 'type', typeRef: 1 }), // a nested Y.Map
  () => ({ ref: 'type', typeRef: 0 }), // a nested Y.Array
  () => ({ ref: 'deleted', len: 1 }),
  () => ({ ref: 'json', values: ['1'] }),
];

/**
 * An update of one or two blocks of structs, each referencing at random what the base holds
 * (in or out of the layout, GC structs), what this update holds (before or after it), or nothing
 * anyone holds; and deletions of the base's clocks.
 */
function forgedUpdate(rng: Rng, ids: [number, number][]): Uint8Array {
  const state = freshCopy().store;
  const clients = rng.chance(0.7) ? [rng.pick([9, 1, 2, 3])] : [9, rng.pick([1, 2, 3, 8])];
  const blocks = clients.map((client) => {
    const stateOf = Y.getState(state, client);
    const clock = rng.chance(0.85) ? stateOf : rng.int(stateOf + 2);
    return { client, clock, structs: [] as Struct[] };
  });
  // Each struct's length first (strings and deletions may be longer than one), so that references
  // may point at any clock of the update, in the middle of a struct, before it or after it.
  const lengths = blocks.map(() =>
    Array.from({ length: rng.between(1, 4) }, () => (rng.chance(0.25) ? 2 : 1)),
  );
  const own: [number, number][] = [];
  blocks.forEach((block, b) => {
    let clock = block.clock;
    for (const length of lengths[b]!) for (let n = 0; n < length; n++) own.push([block.client, clock++]);
  });
  const reference = (): [number, number] =>
    rng.weighted<() => [number, number]>([
      [6, () => rng.pick(ids)],
      [3, () => rng.pick(own)],
      [1, () => [rng.pick([1, 2, 3, 9]), rng.int(40)]],
    ])();
  blocks.forEach((block, b) => {
    for (const length of lengths[b]!) {
      const kind = rng.weighted<'item' | 'gc' | 'skip'>([
        [18, 'item'],
        [1, 'gc'],
        [1, 'skip'],
      ]);
      if (kind !== 'item') {
        block.structs.push({ kind, len: length });
        continue;
      }
      const content: Content =
        length === 2
          ? rng.pick<Content>([
              { ref: 'string', text: 'ab' },
              { ref: 'deleted', len: 2 },
              { ref: 'any', values: [1, 2] },
            ])
          : rng.pick(CONTENTS)(rng);
      const placement = rng.int(4);
      if (placement === 0) block.structs.push({ kind: 'item', origin: reference(), content });
      else if (placement === 1) block.structs.push({ kind: 'item', rightOrigin: reference(), content });
      else if (placement === 2)
        block.structs.push({ kind: 'item', origin: reference(), rightOrigin: reference(), content });
      else
        block.structs.push({
          kind: 'item',
          parent: rng.chance(0.5) ? { root: rng.pick(['deals', 'meta', FORBIDDEN]) } : { id: reference() },
          parentSub: rng.chance(0.8) ? rng.pick(['a', 'k', 'new']) : undefined,
          content,
        });
    }
  });
  const deletes = rng.chance(0.4)
    ? [{ client: rng.pick([1, 2, 3, 9]), ranges: [[rng.int(20), rng.between(1, 3)] as const] }]
    : [];
  return encodeUpdate({ clients: blocks, deletes });
}

/** What an honest device writes, each edit an update of its own, from a copy of the base. */
function honestUpdates(rng: Rng, count: number): Uint8Array[] {
  const device = freshCopy();
  device.clientID = 100 + rng.int(1000);
  const updates: Uint8Array[] = [];
  device.on('update', (update: Uint8Array) => updates.push(update));
  const deals = device.getMap<unknown>('deals');
  const meta = device.getMap<unknown>('meta');
  const edits: (() => void)[] = [
    () => deals.set(rng.pick(['a', 'b', 'c', 'd']), `v${rng.int(9)}`),
    () => deals.delete(rng.pick(['a', 'b', 'c'])),
    () => (deals.get('n') as Y.Map<unknown> | undefined)?.set(rng.pick(['x', 'y', 'z']), rng.int(9)),
    () => {
      const list = meta.get('list') as Y.Array<unknown> | undefined;
      if (list) list.insert(rng.int(list.length + 1), [rng.int(9)]);
    },
    () => {
      const list = meta.get('list') as Y.Array<unknown> | undefined;
      if (list && list.length > 0) list.delete(rng.int(list.length), 1);
    },
    () => {
      const text = (meta.get('text') as Y.Text | undefined) ?? new Y.Text();
      if (!text.doc) meta.set('text', text);
      text.insert(rng.int(text.length + 1), 'hey');
    },
    () =>
      device.transact(() => {
        for (let i = 0; i < 5; i++) deals.set(`bulk${rng.int(4)}`, i);
      }),
  ];
  for (let i = 0; i < count; i++) rng.pick(edits)();
  return updates;
}

describe('R3, R4 — checkUpdate foresees what Yjs does', () => {
  it(
    `passes nothing that throws, waits, or changes a root outside the layout: ${FORGED} forged updates`,
    { timeout: 600_000 },
    () => {
      const rng = new Rng(SEED);
      const ids = baseIds();
      let passed = 0;
      let refused = 0;
      for (let i = 0; i < FORGED; i++) {
        const update = forgedUpdate(rng, ids);
        const check = checkUpdate(freshCopy(), update, RULES);
        if (!check.ok) {
          refused++;
          continue;
        }
        passed++;
        const outcome = applyToCopy(update);
        expect(outcome, `update ${Buffer.from(update).toString('hex')}`).toEqual({
          threw: undefined,
          unfinished: false,
          pending: false,
          roots: expect.any(Set),
        });
        expect(
          [...outcome.roots].filter((root) => !ALLOWED.has(root)),
          `update ${Buffer.from(update).toString('hex')}`,
        ).toEqual([]);
      }
      // Neither side vacuous: the generator makes many of each.
      expect(passed).toBeGreaterThan(300);
      expect(refused).toBeGreaterThan(500);
    },
  );

  it('passes nothing harmful among honest edits mutated byte by byte', () => {
    const rng = new Rng(7);
    // Each an edit of its own device's copy of the base: each applies to the base.
    const honest = Array.from({ length: 300 }, () => honestUpdates(rng, 1)[0]!);
    let passed = 0;
    for (let i = 0; i < 4_000; i++) {
      const { bytes } = mutate(rng, rng.pick(honest), rng.pick(honest));
      if (!checkUpdate(freshCopy(), bytes, RULES).ok) continue;
      passed++;
      const outcome = applyToCopy(bytes);
      expect(outcome.threw).toBeUndefined();
      expect(outcome.unfinished).toBe(false);
      expect(outcome.pending).toBe(false);
      expect([...outcome.roots].filter((root) => !ALLOWED.has(root))).toEqual([]);
    }
    expect(passed).toBeGreaterThan(100);
  });

  it('passes every honest edit: map entries, overwrites, deletions, nested maps, lists, text', () => {
    const rng = new Rng(11);
    const server = freshCopy();
    for (const update of honestUpdates(rng, 500)) {
      expect(checkUpdate(server, update, RULES)).toMatchObject({ ok: true });
      Y.applyUpdate(server, update);
    }
    expect(server.store.pendingStructs).toBeNull();
  });

  it('passes a device’s long offline history sent as one update: a key set 20,000 times', () => {
    const device = freshCopy();
    device.clientID = 555;
    const before = Y.encodeStateVector(device);
    for (let i = 0; i < 20_000; i++) device.getMap('deals').set('a', i);
    const history = Y.encodeStateAsUpdate(device, before);
    expect(checkUpdate(freshCopy(), history, RULES)).toMatchObject({ ok: true });
  });

  it('refuses an overwrite of a key outside the layout, its parent left out as Yjs does', () => {
    const device = freshCopy();
    device.clientID = 77;
    let forged: Uint8Array | undefined;
    device.once('update', (update: Uint8Array) => (forged = update));
    device.getMap(FORBIDDEN).set('p1', 'forged');
    expect(checkUpdate(freshCopy(), forged!, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/writes into "rollups"/),
    });
  });

  it('refuses an edit inside a nested type outside the layout, and a deletion there', () => {
    const device = freshCopy();
    device.clientID = 78;
    const updates: Uint8Array[] = [];
    device.on('update', (update: Uint8Array) => updates.push(update));
    (device.getMap(FORBIDDEN).get('inner') as Y.Map<unknown>).set('w', 2);
    (device.getMap(FORBIDDEN).get('rlist') as Y.Array<unknown>).delete(0, 1);
    expect(checkUpdate(freshCopy(), updates[0]!, RULES)).toMatchObject({ ok: false });
    expect(checkUpdate(freshCopy(), updates[1]!, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/deletes from "rollups"/),
    });
  });

  it('refuses an item between neighbours of two roots, and items that build on each other in a circle', () => {
    const ids = baseIds();
    const inDeals = ids.find(([client]) => client === 1)!;
    const inRollups = ids.find(([client]) => client === 3)!;
    const between = encodeUpdate({
      clients: [
        {
          client: 9,
          clock: 0,
          structs: [
            { kind: 'item', origin: inDeals, rightOrigin: inRollups, content: { ref: 'any', values: [1] } },
          ],
        },
      ],
    });
    expect(checkUpdate(freshCopy(), between, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/between neighbours of two different places/),
    });
    const circle = encodeUpdate({
      clients: [
        {
          client: 9,
          clock: 0,
          structs: [{ kind: 'item', origin: [8, 0], content: { ref: 'any', values: [1] } }],
        },
        {
          client: 8,
          clock: 0,
          structs: [{ kind: 'item', origin: [9, 0], content: { ref: 'any', values: [1] } }],
        },
      ],
    });
    expect(checkUpdate(freshCopy(), circle, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/in turn/),
    });
    expect(applyToCopy(circle).pending).toBe(true);
  });

  it('refuses a client’s second block of structs, of which Yjs would keep only the last', () => {
    const item = (origin?: [number, number]): Struct =>
      origin
        ? { kind: 'item', origin, content: { ref: 'any', values: [1] } }
        : { kind: 'item', parent: { root: 'deals' }, parentSub: 'a', content: { ref: 'any', values: [1] } };
    const twice = encodeUpdate({
      clients: [
        { client: 9, clock: 0, structs: [item()] },
        { client: 9, clock: 1, structs: [item([9, 0])] },
      ],
    });
    expect(applyToCopy(twice).pending).toBe(true);
    expect(checkUpdate(freshCopy(), twice, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/two blocks/),
    });
  });

  it('holds as ahead an item after a skip the doc does not cover', () => {
    const skipped = encodeUpdate({
      clients: [
        {
          client: 9,
          clock: 0,
          structs: [
            { kind: 'skip', len: 2 },
            { kind: 'item', parent: { root: 'deals' }, parentSub: 'a', content: { ref: 'any', values: [1] } },
          ],
        },
      ],
    });
    expect(applyToCopy(skipped).pending).toBe(true);
    expect(checkUpdate(freshCopy(), skipped, RULES)).toMatchObject({ ok: false, ahead: true });
  });

  // Found by a review of the first version of these rules: each passed the check, and Yjs then
  // left structs waiting, threw, or stored what later breaks the room.
  const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
  const docOf = (base: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, fromHex(base));
    return doc;
  };

  it('follows a block through a struct the doc has already, as Yjs does: a circle through it is refused', () => {
    const base = '010201002701056465616c73016c00080001000177016100';
    const update = fromHex('02020101480800017701610800010001770162010800880102017701630108010001');
    const doc = docOf(base);
    Y.applyUpdate(doc, update);
    expect(doc.store.pendingStructs).not.toBeNull();
    expect(checkUpdate(docOf(base), update, RULES)).toMatchObject({ ok: false });
  });

  it('refuses a live map entry of several values (a string, a list): Yjs would leave part of it alive', () => {
    const base = '010101002701056465616c7301740100';
    for (const update of [
      '0101090028000100016102770178770179020901010101010001',
      '01010900240001000161027879020901010101010001',
      '01010900280001000161027701787701790109010101',
    ])
      expect(checkUpdate(docOf(base), fromHex(update), RULES)).toEqual({
        ok: false,
        reason: expect.stringMatching(/holding 2 values/),
      });
  });

  it('refuses a value whose "__proto__" key becomes its prototype (Yjs throws encoding it again)', () => {
    const update = fromHex('010109002801056465616c730178017601095f5f70726f746f5f5f74010100');
    expect(checkUpdate(new Y.Doc(), update, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/__proto__/),
    });
    // A key named so in JSON content is an ordinary key.
    const doc = new Y.Doc();
    let honest: Uint8Array | undefined;
    doc.once('update', (u: Uint8Array) => (honest = u));
    doc.getMap('deals').set('x', { note: 'plain', nested: [{ a: 1 }] });
    expect(checkUpdate(new Y.Doc(), honest!, RULES)).toMatchObject({ ok: true });
  });

  it(`refuses types nested deeper than ${MAX_DEPTH} levels (Yjs deletes them recursively), and passes the layout's depth`, () => {
    const device = new Y.Doc();
    const updates: Uint8Array[] = [];
    device.on('update', (u: Uint8Array) => updates.push(u));
    let map = device.getMap<unknown>('deals');
    device.transact(() => {
      for (let level = 0; level < MAX_DEPTH + 5; level++) {
        const inner = new Y.Map<unknown>();
        map.set('a', inner);
        map = inner;
      }
    });
    expect(checkUpdate(new Y.Doc(), updates[0]!, RULES)).toEqual({
      ok: false,
      reason: expect.stringMatching(/deeper than/),
    });
    const shallow = new Y.Doc();
    let layout: Uint8Array | undefined;
    shallow.once('update', (u: Uint8Array) => (layout = u));
    shallow.transact(() => {
      const deal = new Y.Map<unknown>();
      shallow.getMap('deals').set('D1', deal);
      const history = new Y.Array<unknown>();
      deal.set('history', history);
      history.push([{ stage: 'won' }]);
    });
    expect(checkUpdate(new Y.Doc(), layout!, RULES)).toMatchObject({ ok: true });
  });

  it('passes a write into a nested type that another device deleted meanwhile (Yjs collects it)', () => {
    const server = new Y.Doc();
    const a = new Y.Doc();
    const b = new Y.Doc();
    a.getMap('deals').set('n', new Y.Map());
    Y.applyUpdate(server, Y.encodeStateAsUpdate(a));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    b.getMap('deals').delete('n');
    Y.applyUpdate(server, Y.encodeStateAsUpdate(b));
    let late: Uint8Array | undefined;
    a.once('update', (u: Uint8Array) => (late = u));
    (a.getMap('deals').get('n') as Y.Map<unknown>).set('z', 1);
    expect(checkUpdate(server, late!, RULES)).toMatchObject({ ok: true });
    Y.applyUpdate(server, late!);
    expect(server.store.pendingStructs).toBeNull();
  });
});
