/**
 * The server's demo program (server/seed.ts): the program document lists everyone, each partner's
 * document holds that partner's records, the rollups are folded in, and storage is seeded once.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import {
  buildRollup,
  computeKpis,
  formatDay,
  localDayOf,
  mergeRollups,
  parsePeriod,
} from '../../../src/lib/kpi';
import { openPartnerDoc, readAll } from '../../../src/lib/sync/partner-doc';
import {
  openProgramDoc,
  readPartners,
  readProgram,
  readReps,
  readRollups,
  readStaff,
  readTargets,
} from '../../../src/lib/sync/program-doc';
import { demoProgramDocs, seedIfEmpty } from '../../../server/seed';
import { DEMO_SEED, DEMO_TZ } from '../../../src/lib/demo/demo-program';
import {
  channelRoom,
  partnerRoom,
  programRoom,
  rollupDaysRoom,
  rollupsRoom,
} from '../../../src/lib/sync/rooms';
import { createMemoryStorage } from '../../../server/storage/memory-storage';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
/** Smaller than the app's demo, so the test is quick; the records follow the same seed and rules. */
const OPTIONS = { now: NOW, leadsPerRepMonth: 3 };
const docs = demoProgramDocs(OPTIONS);
const demo = generateDemoProgram({
  seed: DEMO_SEED,
  stageLog: true,
  end: formatDay(localDayOf(DEMO_TZ)(NOW) + 1),
  now: NOW,
  leadsPerRepMonth: 3,
});

function programDoc(update: Uint8Array = docs.programUpdate) {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return openProgramDoc(doc);
}

describe('demoProgramDocs', () => {
  it('uses the app demo’s seed and end: the history runs up to the seeding instant', () => {
    expect(docs.programId).toBe(demo.program.id);
    expect(demo.now).toBe(NOW);
  });

  it('builds a program doc listing every partner and rep and both vendor staff, with targets', () => {
    const pd = programDoc();
    expect(readProgram(pd)).toEqual(demo.program);
    expect(readPartners(pd)).toEqual([...demo.partners].sort((a, b) => a.id.localeCompare(b.id)));
    expect(
      readReps(pd)
        .map((rep) => rep.id)
        .sort(),
    ).toEqual(demo.reps.map((rep) => rep.id).sort());
    expect(readStaff(pd)).toEqual([
      { id: 'v-anita', name: 'Anita Rao', role: 'vendor_manager' },
      { id: 'v-rahul', name: 'Rahul Mehta', role: 'vendor_manager' },
    ]);
    const targets = readTargets(pd);
    expect(targets.length).toBeGreaterThanOrEqual(3);
    expect(new Set(targets.map((target) => target.quarter))).toEqual(new Set(['2026-Q4']));
    for (const target of targets) {
      expect(target.revenue).toBeGreaterThan(0);
      expect(target.setAt).toBeLessThanOrEqual(demo.now);
    }
  });

  it('lists the sign-in users: the staff, then each partner’s people', () => {
    expect(docs.users.slice(0, 2).map((user) => [user.userId, user.role])).toEqual([
      ['v-anita', 'vendor_manager'],
      ['v-rahul', 'vendor_manager'],
    ]);
    expect(docs.users).toHaveLength(2 + demo.reps.length);
    const rep = demo.reps[0]!;
    const partner = demo.partners.find((one) => one.id === rep.partnerId)!;
    expect(docs.users).toContainEqual({
      userId: rep.id,
      name: rep.name,
      role: rep.role,
      programId: 'demo',
      partnerId: partner.id,
      partnerName: partner.name,
    });
    expect(docs.users.every((user) => user.programId === 'demo')).toBe(true);
  });

  it('builds one partner doc per partner holding exactly that partner’s records', () => {
    expect([...docs.partnerUpdates.keys()].sort()).toEqual(demo.partners.map((partner) => partner.id).sort());
    for (const [partnerId, update] of docs.partnerUpdates) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, update);
      const { leads, deals } = readAll(openPartnerDoc(doc));
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      expect(leads.sort(byId)).toEqual(demo.leads.filter((lead) => lead.partnerId === partnerId).sort(byId));
      expect(deals.map((deal) => deal.id).sort()).toEqual(
        demo.deals
          .filter((deal) => deal.partnerId === partnerId)
          .map((deal) => deal.id)
          .sort(),
      );
      expect(deals.find((deal) => deal.stage === 'won')?.stageLog?.length).toBeGreaterThan(1);
    }
  });

  it('folds every partner’s rollup into the rollups document, as of the seeding instant; the program doc holds none', () => {
    expect(readRollups(programDoc()).size).toBe(0);
    const rollups = readRollups(programDoc(docs.rollupsUpdate));
    expect([...rollups.keys()].sort()).toEqual(demo.partners.map((partner) => partner.id).sort());
    for (const entry of rollups.values()) expect(entry.lastSyncAt).toBe(NOW);
    const parsed = parsePeriod({ from: '2026-01-01', to: '2026-12-01', tz: demo.program.timeZone });
    if (!parsed.ok) throw new Error('bad period');
    const merged = mergeRollups(...[...rollups.values()].map((entry) => entry.rollup));
    const query = { range: parsed.range, scope: { kind: 'all' } as const };
    expect(computeKpis(merged, query)).toEqual(
      computeKpis(buildRollup(demo.program.timeZone, demo.leads, demo.deals), query),
    );
  });
});

describe('the partners’ channels (sync SPEC P7)', () => {
  it('give each partner the program, its own entry, people and targets, and nothing of another partner', () => {
    expect([...docs.channelUpdates.keys()].sort()).toEqual(demo.partners.map((partner) => partner.id).sort());
    for (const [partnerId, update] of docs.channelUpdates) {
      const channel = programDoc(update);
      expect(readProgram(channel)).toEqual(demo.program);
      expect(readPartners(channel).map((partner) => partner.id)).toEqual([partnerId]);
      expect(
        readReps(channel)
          .map((rep) => rep.id)
          .sort(),
      ).toEqual(
        demo.reps
          .filter((rep) => rep.partnerId === partnerId)
          .map((rep) => rep.id)
          .sort(),
      );
      expect(readStaff(channel)).toEqual([]);
      expect(readTargets(channel).every((target) => target.partnerId === partnerId)).toBe(true);
      expect(readRollups(channel).size).toBe(0);
      const text = Buffer.from(update).toString('latin1');
      for (const other of demo.partners.filter((one) => one.id !== partnerId)) {
        expect(text).not.toContain(other.id);
        expect(text).not.toContain(other.name);
      }
    }
  });
});

describe('seedIfEmpty', () => {
  it('seeds an empty storage once, one update per room; the second call does nothing', async () => {
    const storage = createMemoryStorage();
    const users = await seedIfEmpty(storage, OPTIONS);
    expect(users).toEqual(docs.users);
    const rooms = await storage.rooms();
    expect(rooms.sort()).toEqual(
      [
        programRoom('demo'),
        rollupsRoom('demo'),
        rollupDaysRoom('demo'),
        ...demo.partners.flatMap((partner) => [
          partnerRoom('demo', partner.id),
          channelRoom('demo', partner.id),
        ]),
      ].sort(),
    );
    const stored = await storage.load(programRoom('demo'));
    expect(stored.updates).toHaveLength(1);
    expect(readPartners(programDoc(stored.updates[0]!))).toHaveLength(demo.partners.length);
    // The seeded program document holds every partner's rollup: nothing is left to fold on start.
    expect(
      (await storage.unfolded()).filter((room) => room.includes('/partner/') && !room.endsWith('/channel')),
    ).toEqual([]);
    const bytes = await storage.bytesStored();

    expect(await seedIfEmpty(storage, OPTIONS)).toBeUndefined();
    expect(await storage.bytesStored()).toBe(bytes);
    expect((await storage.load(programRoom('demo'))).updates).toHaveLength(1);
    await storage.close();
  });

  it('never seeds a storage that has any room, even one of another program', async () => {
    const storage = createMemoryStorage();
    await storage.append(programRoom('other'), Y.encodeStateAsUpdate(new Y.Doc()));
    expect(await seedIfEmpty(storage, OPTIONS)).toBeUndefined();
    expect(await storage.rooms()).toEqual([programRoom('other')]);
    await storage.close();
  });
});
