/**
 * The program document on the device (src/lib/store/program-store.ts): remote updates stored in the
 * shared update log by room and read back offline, a vendor manager's target as a counted local
 * change across a reload (sync SPEC.md C3), refusals, rollups, compaction. Real Dexie over
 * fake-indexeddb.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_STAGE_PROBABILITY, type Partner, type Program, type Rep } from '../../../src/lib/domain';
import { buildRollup } from '../../../src/lib/kpi';
import { packRollup } from '../../../src/lib/kpi/packed';
import { PartnerKpiDb } from '../../../src/lib/store/db';
import { ProgramStore } from '../../../src/lib/store/program-store';
import {
  initProgram,
  openProgramDoc,
  setTarget,
  writeRollup,
  type ProgramChanged,
  type ProgramDoc,
} from '../../../src/lib/sync/program-doc';
import { BASE_INSTANT, deal } from '../../factories/records';

const ROOM = 'program/acme';
const TZ = 'Asia/Kolkata';
const program: Program = {
  id: 'acme',
  name: 'Acme Partners',
  currency: 'INR',
  timeZone: TZ,
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
const partners: Partner[] = [
  { id: 'p1', programId: 'acme', name: 'First Partner', createdAt: BASE_INSTANT },
  { id: 'p2', programId: 'acme', name: 'Second Partner', createdAt: BASE_INSTANT },
];
const reps: Rep[] = [
  { id: 'p1-r1', partnerId: 'p1', name: 'Asha Iyer', role: 'partner_manager', createdAt: BASE_INSTANT },
];

let names = 0;
const databases: Dexie[] = [];
function freshDb(): PartnerKpiDb {
  const db = new PartnerKpiDb(`program-store-test-${++names}`);
  databases.push(db);
  return db;
}
afterEach(async () => {
  for (const db of databases.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

/** The server's copy of the program document. */
function serverDoc(): ProgramDoc {
  const pd = openProgramDoc();
  initProgram(pd, {
    program,
    partners,
    reps,
    staff: [{ id: 'v-anita', name: 'Anita Rao', role: 'vendor_manager' }],
  });
  return pd;
}

/** What the server has that the store does not, applied as a remote update. */
function receive(store: ProgramStore, server: ProgramDoc): void {
  Y.applyUpdate(
    store.programDoc.doc,
    Y.encodeStateAsUpdate(server.doc, Y.encodeStateVector(store.programDoc.doc)),
    'remote',
  );
}

describe('the program store', () => {
  it('stores remote updates under its room and reads the directory back offline', async () => {
    const db = freshDb();
    const store = await ProgramStore.open(db, ROOM);
    expect(store.directory()).toBeUndefined();
    const heard: ProgramChanged[] = [];
    store.subscribe((changed) => heard.push(changed));
    receive(store, serverDoc());
    // Told once stored, with the keys that changed.
    expect(heard).toEqual([]);
    await store.settled();
    expect(heard).toHaveLength(1);
    expect([...heard[0]!.partners].sort()).toEqual(['p1', 'p2']);
    expect(await db.updates.where('room').equals(ROOM).count()).toBe(1);
    store.close();

    const reopened = await ProgramStore.open(db, ROOM);
    expect(reopened.directory()).toEqual({ program, partners, reps });
    expect(reopened.staff().map((member) => member.name)).toEqual(['Anita Rao']);
    reopened.close();
  });

  it('leaves the other rooms’ updates alone', async () => {
    const db = freshDb();
    await db.updates.add({ room: 'program/acme/partner/p1', update: Y.encodeStateAsUpdate(new Y.Doc()) });
    const store = await ProgramStore.open(db, ROOM);
    receive(store, serverDoc());
    await store.settled();
    expect(await db.updates.where('room').equals('program/acme/partner/p1').count()).toBe(1);
    store.close();
  });

  it('a target is a local change, stored with its mark and still unsent after a reload until the server has it (C3)', async () => {
    const db = freshDb();
    const server = serverDoc();
    const store = await ProgramStore.open(db, ROOM);
    receive(store, server);
    const written = await store.setTarget('p1', '2026-Q4', {
      revenue: 25_00_000_00,
      deals: 12,
      setAt: BASE_INSTANT,
      setBy: 'v-anita',
    });
    expect(written).toEqual({
      ok: true,
      value: {
        partnerId: 'p1',
        quarter: '2026-Q4',
        revenue: 25_00_000_00,
        deals: 12,
        setAt: BASE_INSTANT,
        setBy: 'v-anita',
      },
    });
    expect(store.targets().map((target) => [target.partnerId, target.quarter, target.deals])).toEqual([
      ['p1', '2026-Q4', 12],
    ]);
    expect(store.syncLedger.localChanges()).toHaveLength(1);
    store.close();

    const reopened = await ProgramStore.open(db, ROOM);
    expect(reopened.targets()).toHaveLength(1);
    const ledger = reopened.syncLedger;
    expect(ledger.localChanges()).toHaveLength(1);
    // The server stores it and says so.
    Y.applyUpdate(
      server.doc,
      Y.encodeStateAsUpdate(reopened.programDoc.doc, Y.encodeStateVector(server.doc)),
    );
    ledger.remember({
      stateVector: Y.decodeStateVector(Y.encodeStateVector(server.doc)),
      syncedAt: BASE_INSTANT,
    });
    expect(ledger.localChanges()).toHaveLength(0);
    await reopened.settled();
    reopened.close();
  });

  it('refuses a target the document’s rules forbid, writing nothing', async () => {
    const db = freshDb();
    const store = await ProgramStore.open(db, ROOM);
    receive(store, serverDoc());
    await store.settled();
    const before = await db.updates.count();
    const refused = await store.setTarget('nobody', '2026-Q9', {
      revenue: -1,
      deals: 1,
      setAt: BASE_INSTANT,
      setBy: 'v-anita',
    });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && 'problems' in refused && refused.problems.map((problem) => problem.field)).toEqual([
      'quarter',
      'partnerId',
      'revenue',
    ]);
    expect(await db.updates.count()).toBe(before);
    expect(store.syncLedger.localChanges()).toHaveLength(0);
    store.close();
  });

  it('reads every partner’s rollup, and says which it cannot read', async () => {
    const db = freshDb();
    const server = serverDoc();
    const store = await ProgramStore.open(db, ROOM);
    receive(store, server);
    expect(store.rollups().rollups.size).toBe(0);
    const rollup = buildRollup(TZ, [], [deal({ partnerId: 'p1', stage: 'won' })]);
    writeRollup(server, 'p1', { lastSyncAt: BASE_INSTANT + 5, series: packRollup(rollup) });
    server.maps.rollups.set('p2', { version: 99, tz: TZ, lastSyncAt: 1, bytes: new Uint8Array() });
    receive(store, server);
    const { rollups, problems } = store.rollups();
    expect([...rollups.keys()]).toEqual(['p1']);
    expect(rollups.get('p1')!.lastSyncAt).toBe(BASE_INSTANT + 5);
    expect([...problems.keys()]).toEqual(['p2']);
    await store.settled();
    store.close();
  });

  it('merges a long log into one update on open, keeping the marks of unsent changes', async () => {
    const db = freshDb();
    const store = await ProgramStore.open(db, ROOM);
    receive(store, serverDoc());
    await store.settled();
    for (let deals = 1; deals <= 60; deals++) {
      // One stored update per target: each waits until stored.
      await store.setTarget('p2', '2026-Q4', { revenue: 100, deals, setAt: BASE_INSTANT, setBy: 'v-anita' });
    }
    expect(await db.updates.count()).toBe(61);
    store.close();
    const reopened = await ProgramStore.open(db, ROOM);
    expect(await db.updates.count()).toBe(1);
    expect(reopened.targets()[0]!.deals).toBe(60);
    expect(reopened.syncLedger.localChanges()).toHaveLength(60);
    reopened.close();
  });
});

describe('a server-side target reaches the store', () => {
  it('as a remote change (not counted as unsent)', async () => {
    const db = freshDb();
    const server = serverDoc();
    const store = await ProgramStore.open(db, ROOM);
    receive(store, server);
    setTarget(server, 'p2', '2027-Q1', { revenue: 5, deals: 1, setAt: BASE_INSTANT, setBy: 'v-anita' });
    receive(store, server);
    await store.settled();
    expect(store.targets().map((target) => target.quarter)).toEqual(['2027-Q1']);
    expect(store.syncLedger.localChanges()).toHaveLength(0);
    store.close();
  });
});
