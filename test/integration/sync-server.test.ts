/**
 * The sync server with the stock y-websocket client: offline edits converge, the vendor's rollups
 * follow, a restart keeps everything, the room ACL holds for every role and room, and bad sockets
 * are closed alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import type { Deal } from '../../src/lib/domain/schema';
import { createDeal, openPartnerDoc, readDeal, updateDeal } from '../../src/lib/sync/partner-doc';
import {
  ROLLUP_ENTRY_VERSION,
  initProgram,
  openProgramDoc,
  readPartners,
  readReps,
  readRollups,
  readStaff,
  readTargets,
  readTotals,
  setTarget,
} from '../../src/lib/sync/program-doc';
import { encodePackedRollup } from '../../src/lib/kpi/packed';
import type { TokenClaims } from '../../server/auth/claims';
import { MESSAGE_SYNC } from '../../src/lib/sync/protocol';
import { join } from 'node:path';
import { openSqliteStorage } from '../../server/storage/sqlite-storage';
import { createHarness, rawSocket, syncMessage, untilDoc, type Harness } from './sync-harness';

const PROGRAM = 'prog1';
const PARTNER_ROOM = `program/${PROGRAM}/partner/p1`;
const PROGRAM_ROOM = `program/${PROGRAM}`;
const ROLLUPS_ROOM = `program/${PROGRAM}/rollups`;
const rep1: TokenClaims = { userId: 'r1', role: 'rep', programId: PROGRAM, partnerId: 'p1' };
const rep2: TokenClaims = { userId: 'r2', role: 'rep', programId: PROGRAM, partnerId: 'p1' };
const vendor: TokenClaims = { userId: 'v1', role: 'vendor_manager', programId: PROGRAM };
const T0 = Date.UTC(2026, 10, 2, 9);
const PROGRAM_SETTINGS = {
  id: PROGRAM,
  name: 'Demo',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { prospecting: 10, qualified: 25, proposal: 50, negotiation: 75, won: 100, lost: 0 },
};

function deal(overrides: Partial<Deal> = {}): Deal {
  return {
    id: 'D1',
    partnerId: 'p1',
    repId: 'r1',
    title: 'Forty laptops',
    channel: 'referral',
    amount: 4_200_000_00,
    currency: 'INR',
    stage: 'proposal',
    probability: 50,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  } as Deal;
}

const sameState = (a: Y.Doc, b: Y.Doc) =>
  Buffer.from(Y.encodeStateVector(a)).equals(Buffer.from(Y.encodeStateVector(b)));
/** Resolves when both docs hold the same state, checked after every update of either. */
const converged = (a: Y.Doc, b: Y.Doc) =>
  Promise.race([untilDoc(a, () => sameState(a, b)), untilDoc(b, () => sameState(a, b))]);

let harness: Harness;
beforeEach(async () => {
  harness = await createHarness();
});
afterEach(async () => {
  await harness.cleanup();
});

describe('two reps of one partner, offline at times', () => {
  async function twoReps() {
    const a = harness.connect(PARTNER_ROOM, await harness.token(rep1));
    const b = harness.connect(PARTNER_ROOM, await harness.token(rep2));
    await Promise.all([a.synced, b.synced]);
    createDeal(openPartnerDoc(a.doc), deal(), 'r1');
    await converged(a.doc, b.doc);
    a.provider.disconnect();
    b.provider.disconnect();
    return { a, b, da: openPartnerDoc(a.doc), db: openPartnerDoc(b.doc) };
  }

  it('keep both edits to different fields of one deal', async () => {
    const { a, b, da, db } = await twoReps();
    updateDeal(da, 'D1', { amount: 5_000_000_00, updatedAt: T0 + 1000 }, 'r1');
    updateDeal(db, 'D1', { title: 'Forty-two laptops', updatedAt: T0 + 2000 }, 'r2');
    a.provider.connect();
    b.provider.connect();
    await converged(a.doc, b.doc);
    for (const doc of [da, db])
      expect(readDeal(doc, 'D1')).toMatchObject({ amount: 5_000_000_00, title: 'Forty-two laptops' });
  });

  it('agree on one value when both edit the same field', async () => {
    const { a, b, da, db } = await twoReps();
    updateDeal(da, 'D1', { title: 'A', updatedAt: T0 + 1000 }, 'r1');
    updateDeal(db, 'D1', { title: 'B', updatedAt: T0 + 2000 }, 'r2');
    a.provider.connect();
    b.provider.connect();
    await converged(a.doc, b.doc);
    const title = readDeal(da, 'D1')!.title;
    expect(['A', 'B']).toContain(title);
    expect(readDeal(db, 'D1')!.title).toBe(title);
  });

  it('let the later real-world action decide the stage, keeping both in the history', async () => {
    const { a, b, da, db } = await twoReps();
    updateDeal(da, 'D1', { stage: 'won', updatedAt: T0 + 5000 }, 'r1');
    updateDeal(db, 'D1', { stage: 'lost', lostReason: 'price', updatedAt: T0 + 3000 }, 'r2');
    b.provider.connect();
    a.provider.connect();
    await converged(a.doc, b.doc);
    for (const doc of [da, db]) {
      const merged = readDeal(doc, 'D1')!;
      expect(merged.stage).toBe('won');
      expect(merged.lostReason).toBeUndefined();
      expect(merged.stageLog!.map((entry) => entry.stage)).toEqual(['proposal', 'lost', 'won']);
    }
  });
});

describe('the vendor', () => {
  it("sees a partner's rollup follow its deals", async () => {
    const admin = harness.connect(PROGRAM_ROOM, await harness.token(vendor));
    await admin.synced;
    initProgram(openProgramDoc(admin.doc), {
      program: PROGRAM_SETTINGS,
      partners: [{ id: 'p1', programId: PROGRAM, name: 'Sunrise', createdAt: T0 }],
      reps: [],
      staff: [],
    });
    const rep = harness.connect(PARTNER_ROOM, await harness.token(rep1));
    await rep.synced;
    createDeal(
      openPartnerDoc(rep.doc),
      deal({ stage: 'won', closedAt: T0 + 60_000, updatedAt: T0 + 60_000, probability: 100 }),
      'r1',
    );
    // In the rollups room, which the server alone writes; never in the program document.
    const rollups = harness.connect(ROLLUPS_ROOM, await harness.token(vendor));
    const seen = openProgramDoc(rollups.doc);
    await untilDoc(rollups.doc, () => readRollups(seen).has('p1'));
    expect(readRollups(openProgramDoc(admin.doc)).size).toBe(0);
    const rollup = readRollups(seen).get('p1')!;
    expect(rollup.lastSyncAt).toBeGreaterThan(0);
    expect(
      [...rollup.rollup.series.values()].some((series) =>
        [...series.days.values()].some((bucket) => bucket.won === 1),
      ),
    ).toBe(true);
  });

  it('under a stream of edits, sees a partner folded at most once a fold interval, and its last edit folded', async () => {
    await harness.cleanup();
    harness = await createHarness({ rollupDelayMs: 50, rollupIntervalMs: 1000 });
    const admin = harness.connect(PROGRAM_ROOM, await harness.token(vendor));
    await admin.synced;
    initProgram(openProgramDoc(admin.doc), {
      program: PROGRAM_SETTINGS,
      partners: [{ id: 'p1', programId: PROGRAM, name: 'Sunrise', createdAt: T0 }],
      reps: [],
      staff: [],
    });
    const rollups = harness.connect(ROLLUPS_ROOM, await harness.token(vendor));
    const seen = openProgramDoc(rollups.doc);
    const dealsFolded = () =>
      [...(readRollups(seen).get('p1')?.rollup.series.values() ?? [])].reduce(
        (sum, series) => sum + [...series.days.values()].reduce((days, bucket) => days + bucket.deals, 0),
        0,
      );
    const rep = harness.connect(PARTNER_ROOM, await harness.token(rep1));
    await rep.synced;
    const pd = openPartnerDoc(rep.doc);
    // Each edit as soon as the vendor has the last one folded: alone, each would be folded 50 ms after it.
    const seenAt: number[] = [];
    for (let edit = 1; edit <= 4; edit++) {
      createDeal(pd, deal({ id: `D${edit}` }), 'r1');
      await untilDoc(rollups.doc, () => dealsFolded() === edit);
      seenAt.push(performance.now());
    }
    const gaps = seenAt.slice(1).map((at, i) => at - seenAt[i]!);
    // A fold starts a whole interval after the one before; it reached the vendor within 300 ms.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 - 300);
  });

  it('sees the rollup of a partner whose fold the server did not live to write: folded on the next start', async () => {
    await harness.server.close();
    // What a server killed between storing a partner's deal and folding it leaves behind.
    const storage = openSqliteStorage(join(harness.dataDir, 'partner-kpi.sqlite'));
    const program = openProgramDoc();
    initProgram(program, {
      program: PROGRAM_SETTINGS,
      partners: [{ id: 'p1', programId: PROGRAM, name: 'Sunrise', createdAt: T0 }],
      reps: [],
      staff: [],
    });
    await storage.append(PROGRAM_ROOM, Y.encodeStateAsUpdate(program.doc));
    const partner = openPartnerDoc();
    createDeal(
      partner,
      deal({ stage: 'won', closedAt: T0 + 60_000, updatedAt: T0 + 60_000, probability: 100 }),
      'r1',
    );
    await storage.append(PARTNER_ROOM, Y.encodeStateAsUpdate(partner.doc));
    expect(await storage.unfolded()).toEqual([PROGRAM_ROOM, PARTNER_ROOM]);
    await storage.close();

    await harness.restart();
    const rollups = harness.connect(ROLLUPS_ROOM, await harness.token(vendor));
    const seen = openProgramDoc(rollups.doc);
    await untilDoc(rollups.doc, () => readRollups(seen).has('p1'));
    expect(
      [...readRollups(seen).get('p1')!.rollup.series.values()].some((series) =>
        [...series.days.values()].some((bucket) => bucket.won === 1),
      ),
    ).toBe(true);
    await until(async () => !(await harness.server.storage.unfolded()).includes(PARTNER_ROOM));
  });

  it('P7: upgrades a program stored by an older server on start: rollups to their room, every partner’s channel written', async () => {
    await harness.server.close();
    const storage = openSqliteStorage(join(harness.dataDir, 'partner-kpi.sqlite'));
    const program = openProgramDoc();
    initProgram(program, {
      program: PROGRAM_SETTINGS,
      partners: [
        { id: 'p1', programId: PROGRAM, name: 'Sunrise', createdAt: T0 },
        { id: 'p2', programId: PROGRAM, name: 'BluePeak', createdAt: T0 },
      ],
      reps: [{ id: 'r1', partnerId: 'p1', name: 'Asha', role: 'rep', createdAt: T0 }],
      staff: [],
    });
    // The old layout: the rollups in the program document, which every partner could read.
    const oldEntry = (lastSyncAt: number) => ({
      version: 1,
      tz: PROGRAM_SETTINGS.timeZone,
      lastSyncAt,
      bytes: encodePackedRollup([]),
    });
    program.doc.transact(() => {
      program.maps.rollups.set('p1', oldEntry(T0));
      program.maps.rollups.set('p2', oldEntry(T0 + 1));
    });
    await storage.append(PROGRAM_ROOM, Y.encodeStateAsUpdate(program.doc));
    await storage.close();

    await harness.restart();
    const stored = openProgramDoc(await storedDoc(PROGRAM_ROOM));
    expect(readRollups(stored).size).toBe(0);
    expect(readPartners(stored)).toHaveLength(2);
    const rollups = harness.connect(ROLLUPS_ROOM, await harness.token(vendor));
    await rollups.synced;
    // Rewritten in the current layout: by month for the vendor, by day in the server's own room.
    expect(
      [...readRollups(openProgramDoc(rollups.doc))].map(([id, entry]) => [id, entry.lastSyncAt]).sort(),
    ).toEqual([
      ['p1', T0],
      ['p2', T0 + 1],
    ]);
    expect(openProgramDoc(rollups.doc).maps.rollups.get('p1')).toMatchObject({
      version: ROLLUP_ENTRY_VERSION,
    });
    expect('rollup' in readTotals(openProgramDoc(rollups.doc))).toBe(true);
    const own = harness.connect(`program/${PROGRAM}/partner/p1/channel`, await harness.token(rep1));
    const channel = openProgramDoc(own.doc);
    await untilDoc(own.doc, () => readPartners(channel).length === 1);
    expect(readPartners(channel).map((one) => one.id)).toEqual(['p1']);
    expect(readRollups(channel).size).toBe(0);
  });

  it('cannot write rollups anywhere: not in the program document (that socket is closed), not in the rollups room (read-only)', async () => {
    const forger = harness.connect(PROGRAM_ROOM, await harness.token(vendor));
    const other = harness.connect(PROGRAM_ROOM, await harness.token(vendor));
    const reader = harness.connect(ROLLUPS_ROOM, await harness.token(vendor));
    await Promise.all([forger.synced, other.synced, reader.synced]);
    forger.doc.getMap('rollups').set('p1', 'forged');
    expect(await forger.closed).toBe(1007);
    reader.doc.getMap('rollups').set('p1', 'forged');
    other.doc
      .getMap('targets')
      .set('p1/2026-Q4', JSON.stringify({ revenue: 1, deals: 1, setAt: T0, setBy: 'v1' }));
    await untilSaved(harness, PROGRAM_ROOM, other.doc);
    await until(() => harness.server.sync.counters.droppedReadOnly >= 1);
    const stored = new Y.Doc();
    for (const update of (await harness.server.storage.load(PROGRAM_ROOM)).updates)
      Y.applyUpdate(stored, update);
    expect(stored.getMap('rollups').has('p1')).toBe(false);
    expect(stored.getMap('targets').size).toBe(1);
    expect((await harness.server.storage.load(ROLLUPS_ROOM)).updates).toEqual([]);
  });

  it('shares with each partner, in its channel, its own entry, people and targets, as the vendor changes them', async () => {
    const admin = harness.connect(PROGRAM_ROOM, await harness.token(vendor));
    await admin.synced;
    const program = openProgramDoc(admin.doc);
    initProgram(program, {
      program: PROGRAM_SETTINGS,
      partners: [
        { id: 'p1', programId: PROGRAM, name: 'Sunrise', createdAt: T0 },
        { id: 'p2', programId: PROGRAM, name: 'BluePeak', createdAt: T0 },
      ],
      reps: [
        { id: 'r1', partnerId: 'p1', name: 'Asha', role: 'rep', createdAt: T0 },
        { id: 'r9', partnerId: 'p2', name: 'Vikram', role: 'rep', createdAt: T0 },
      ],
      staff: [{ id: 'v1', name: 'Anita', role: 'vendor_manager' }],
    });
    const own = harness.connect(`program/${PROGRAM}/partner/p1/channel`, await harness.token(rep1));
    const channel = openProgramDoc(own.doc);
    await untilDoc(own.doc, () => readPartners(channel).length === 1 && readReps(channel).length === 1);
    expect(readPartners(channel).map((one) => one.name)).toEqual(['Sunrise']);
    expect(readReps(channel).map((one) => one.name)).toEqual(['Asha']);
    expect(readStaff(channel)).toEqual([]);
    // The vendor sets two targets offline-style in its own document; p1's channel gets its own only.
    setTarget(program, 'p1', '2026-Q4', { revenue: 100, deals: 1, setAt: T0, setBy: 'v1' });
    setTarget(program, 'p2', '2026-Q4', { revenue: 200, deals: 2, setAt: T0, setBy: 'v1' });
    await untilDoc(own.doc, () => readTargets(channel).length === 1);
    expect(readTargets(channel).map((target) => [target.partnerId, target.revenue])).toEqual([['p1', 100]]);
    const bytes = Buffer.concat(
      (await harness.server.storage.load(`program/${PROGRAM}/partner/p1/channel`)).updates,
    ).toString('latin1');
    for (const secret of ['p2', 'BluePeak', 'Vikram', 'r9', 'Anita']) expect(bytes).not.toContain(secret);
  });
});

describe('a server restart', () => {
  it('keeps every stored change', async () => {
    const a = harness.connect(PARTNER_ROOM, await harness.token(rep1));
    await a.synced;
    createDeal(openPartnerDoc(a.doc), deal(), 'r1');
    await untilSaved(harness, PARTNER_ROOM, a.doc);
    a.destroy();
    await harness.server.close();
    await harness.restart();
    const b = harness.connect(PARTNER_ROOM, await harness.token(rep2));
    await b.synced;
    expect(readDeal(openPartnerDoc(b.doc), 'D1')).toMatchObject({ title: 'Forty laptops' });
  });
});

async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((resolve) => setImmediate(resolve));
}

/** Resolves when the server's stored log of `room` holds `doc`'s state. */
/** A room's stored state, as a fresh document. */
async function storedDoc(room: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  for (const update of (await harness.server.storage.load(room)).updates) Y.applyUpdate(doc, update);
  return doc;
}

async function untilSaved(h: Harness, room: string, doc: Y.Doc): Promise<void> {
  const wanted = Y.encodeStateVector(doc);
  for (;;) {
    const loaded = h.server.sync.rooms.get(room);
    if (loaded) await loaded.settled();
    const stored = new Y.Doc();
    for (const update of (await h.server.storage.load(room)).updates) Y.applyUpdate(stored, update);
    if (Buffer.from(Y.encodeStateVector(stored)).equals(Buffer.from(wanted))) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the room ACL, through real sockets', () => {
  const other = 'prog2';
  const cases: [string, TokenClaims, string, 'write' | 'read' | 4403][] = [
    ['rep, own partner', rep1, PARTNER_ROOM, 'write'],
    ['rep, other partner', rep1, `program/${PROGRAM}/partner/p2`, 4403],
    ['rep, own program', rep1, PROGRAM_ROOM, 4403],
    ["rep, own program's rollups", rep1, ROLLUPS_ROOM, 4403],
    ['rep, own channel', rep1, `program/${PROGRAM}/partner/p1/channel`, 'read'],
    ["rep, other partner's channel", rep1, `program/${PROGRAM}/partner/p2/channel`, 4403],
    ['rep, other program', rep1, `program/${other}`, 4403],
    ['rep, same partner id in another program', rep1, `program/${other}/partner/p1`, 4403],
    ['partner manager, own partner', { ...rep1, role: 'partner_manager' }, PARTNER_ROOM, 'write'],
    [
      'partner manager, other partner',
      { ...rep1, role: 'partner_manager' },
      `program/${PROGRAM}/partner/p2`,
      4403,
    ],
    ['partner manager, own program', { ...rep1, role: 'partner_manager' }, PROGRAM_ROOM, 4403],
    [
      'partner manager, own channel',
      { ...rep1, role: 'partner_manager' },
      `program/${PROGRAM}/partner/p1/channel`,
      'read',
    ],
    ["vendor manager, a partner's channel", vendor, `program/${PROGRAM}/partner/p1/channel`, 'read'],
    ['vendor manager, the rollups', vendor, ROLLUPS_ROOM, 'read'],
    ['vendor manager, a partner of own program', vendor, PARTNER_ROOM, 'read'],
    ['vendor manager, own program', vendor, PROGRAM_ROOM, 'write'],
    ['vendor manager, other program', vendor, `program/${other}`, 4403],
    ['vendor manager, a partner of another program', vendor, `program/${other}/partner/p1`, 4403],
    ['anyone, a room that is not one', vendor, `program/${PROGRAM}/secrets`, 4403],
  ];

  it.each(cases)('%s', async (_name, claims, room, expected) => {
    const client = harness.connect(room, await harness.token(claims));
    if (typeof expected === 'number') {
      expect(await client.closed).toBe(expected);
      return;
    }
    await client.synced;
    const writer = harness.connect(
      room,
      await harness.token(room === PROGRAM_ROOM || room === ROLLUPS_ROOM ? vendor : rep1),
    );
    await writer.synced;
    // The client writes, then asks the server for what it lacks: the answer comes after the write
    // was handled, so the write is either stored by then or dropped.
    client.doc.getMap('meta').set('probe', claims.userId);
    if (expected === 'write') await untilSaved(harness, room, client.doc);
    // Dropped: the client's first sync step 2, then the probe.
    else await until(() => harness.server.sync.counters.droppedReadOnly >= 2);
    const stored = new Y.Doc();
    for (const update of (await harness.server.storage.load(room)).updates) Y.applyUpdate(stored, update);
    expect(stored.getMap('meta').get('probe')).toBe(expected === 'write' ? claims.userId : undefined);
  });

  it('drops a read-only write: never applied, stored or sent on', async () => {
    const raw = await rawSocket(harness, PARTNER_ROOM, await harness.token(vendor));
    const forged = new Y.Doc();
    forged.getMap('deals').set('X', 'forged');
    raw.send(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(forged))));
    raw.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())));
    await raw.reply(syncProtocol.messageYjsSyncStep2);
    expect(harness.server.sync.rooms.get(PARTNER_ROOM)!.doc.getMap('deals').has('X')).toBe(false);
    expect((await harness.server.storage.load(PARTNER_ROOM)).updates).toEqual([]);
    expect(harness.server.sync.counters.droppedReadOnly).toBe(1);
    raw.ws.close();
  });

  it.each([
    ['no token', undefined],
    ['an expired token', async () => harness.token(rep1, { ttl: '1h', now: Date.now() - 3 * 3600_000 })],
    [
      'a token signed with another secret',
      async () => harness.token(rep1, { secret: new Uint8Array(32).fill(7) }),
    ],
    ['a token that is not one', async () => 'not.a.token'],
  ])('closes with 4401 for %s', async (_name, make) => {
    const client = harness.connect(PARTNER_ROOM, make ? await make() : undefined);
    expect(await client.closed).toBe(4401);
  });
});

describe('a bad socket is closed alone', () => {
  async function twoGoodClients() {
    const a = harness.connect(PARTNER_ROOM, await harness.token(rep1));
    const b = harness.connect(PARTNER_ROOM, await harness.token(rep2));
    await Promise.all([a.synced, b.synced]);
    return { a, b };
  }
  async function othersKeepSyncing(a: Y.Doc, b: Y.Doc) {
    a.getMap('meta').set('after', 'still syncing');
    await untilDoc(b, () => b.getMap('meta').get('after') === 'still syncing');
    expect(b.getMap('meta').get('after')).toBe('still syncing');
  }

  it('a malformed frame', async () => {
    const { a, b } = await twoGoodClients();
    const raw = await rawSocket(harness, PARTNER_ROOM, await harness.token(rep1));
    raw.send(new Uint8Array([MESSAGE_SYNC, 2, 200, 1, 2, 3]));
    expect(await raw.closed).toBe(1007);
    await othersKeepSyncing(a.doc, b.doc);
  });

  it('an oversized message', async () => {
    await harness.cleanup();
    harness = await createHarness({ limits: { maxMessageBytes: 64 * 1024 } });
    const { a, b } = await twoGoodClients();
    const raw = await rawSocket(harness, PARTNER_ROOM, await harness.token(rep1));
    raw.send(new Uint8Array(65 * 1024));
    expect(await raw.closed).toBe(1009);
    await othersKeepSyncing(a.doc, b.doc);
  });

  it('a message flood', async () => {
    await harness.cleanup();
    harness = await createHarness({ limits: { messagesPerSecond: 10, messageBurst: 20 } });
    const { a, b } = await twoGoodClients();
    const raw = await rawSocket(harness, PARTNER_ROOM, await harness.token(rep1));
    const query = syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc()));
    for (let i = 0; i < 200; i++) raw.send(query);
    expect(await raw.closed).toBe(1008);
    await othersKeepSyncing(a.doc, b.doc);
  });
});
