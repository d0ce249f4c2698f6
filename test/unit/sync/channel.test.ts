/**
 * The vendor → partner channel (sync SPEC.md V1–V5) and the start-up move of rollups (P7), on
 * plain documents: what a partner's channel holds, which partners a change of the program
 * document touches, and that writing again changes nothing.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  benchmarkKey,
  copyProgramSettings,
  initProgram,
  moveRollups,
  onProgramChanged,
  openProgramDoc,
  partnersTouched,
  projectPartnerView,
  readPartners,
  readBenchmark,
  readProgram,
  readReps,
  readRollups,
  readStaff,
  readTargets,
  repPartnersOf,
  ROLLUP_ORIGIN,
  setTarget,
  writeBenchmarks,
  writeRollup,
  type ProgramChanged,
  type ProgramDoc,
} from '../../../src/lib/sync/program-doc';
import { DEFAULT_STAGE_PROBABILITY } from '../../../src/lib/domain';

const T0 = Date.UTC(2026, 10, 1);
const program = {
  id: 'demo',
  name: 'Acme',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
const target = (revenue: number) => ({ revenue, deals: 1, setAt: T0, setBy: 'v1' });

function vendorProgram(): ProgramDoc {
  const pd = openProgramDoc(new Y.Doc());
  initProgram(pd, {
    program,
    partners: [
      { id: 'p1', programId: 'demo', name: 'Sunrise', createdAt: T0 },
      { id: 'p2', programId: 'demo', name: 'BluePeak', createdAt: T0 },
    ],
    reps: [
      { id: 'r1', partnerId: 'p1', name: 'Asha', role: 'rep', createdAt: T0 },
      { id: 'm1', partnerId: 'p1', name: 'Meera', role: 'partner_manager', createdAt: T0 },
      { id: 'r9', partnerId: 'p2', name: 'Vikram', role: 'rep', createdAt: T0 },
    ],
    staff: [{ id: 'v1', name: 'Anita', role: 'vendor_manager' }],
  });
  setTarget(pd, 'p1', '2026-Q4', target(100));
  setTarget(pd, 'p2', '2026-Q4', target(200));
  return pd;
}

/** The keys changed by the next transaction of `pd` during `write`. */
function changedBy(pd: ProgramDoc, write: () => void): ProgramChanged {
  let changed: ProgramChanged | undefined;
  const stop = onProgramChanged(pd, (keys) => (changed = keys));
  write();
  stop();
  return changed!;
}

describe('V1 — what a channel holds', () => {
  it('the program’s settings, the partner’s own entry, people and targets; nothing of another partner, no staff', () => {
    const channel = openProgramDoc(new Y.Doc());
    expect(projectPartnerView(vendorProgram(), channel, 'p1')).toBe(true);
    expect(readProgram(channel)).toEqual(program);
    expect(readPartners(channel).map((partner) => partner.id)).toEqual(['p1']);
    expect(readReps(channel).map((rep) => rep.id)).toEqual(['m1', 'r1']);
    expect(readTargets(channel).map((one) => [one.partnerId, one.revenue])).toEqual([['p1', 100]]);
    expect(readStaff(channel)).toEqual([]);
    const bytes = Buffer.from(Y.encodeStateAsUpdate(channel.doc)).toString('latin1');
    for (const secret of ['p2', 'BluePeak', 'Vikram', 'r9', 'Anita']) expect(bytes).not.toContain(secret);
  });
});

describe('V2 — written by the server alone', () => {
  it('writes with the server’s origin, and writing again changes nothing', () => {
    const pd = vendorProgram();
    const channel = openProgramDoc(new Y.Doc());
    const origins: unknown[] = [];
    channel.doc.on('afterTransaction', (transaction: Y.Transaction) => origins.push(transaction.origin));
    projectPartnerView(pd, channel, 'p1');
    const before = Y.encodeStateVector(channel.doc);
    expect(projectPartnerView(pd, channel, 'p1')).toBe(false);
    expect(Y.encodeStateVector(channel.doc)).toEqual(before);
    expect(origins).toEqual([ROLLUP_ORIGIN]);
  });
});

describe('V3 — which partners a change touches', () => {
  it('a target or an entry its partner; a rep both partners of a move; meta every partner', () => {
    const pd = vendorProgram();
    const reps = repPartnersOf(pd);
    expect(
      partnersTouched(
        pd,
        changedBy(pd, () => setTarget(pd, 'p2', '2027-Q1', target(5))),
        reps,
      ),
    ).toEqual(new Set(['p2']));
    const moved = changedBy(pd, () =>
      pd.maps.reps.set(
        'r1',
        JSON.stringify({ id: 'r1', partnerId: 'p2', name: 'Asha', role: 'rep', createdAt: T0 }),
      ),
    );
    expect(partnersTouched(pd, moved, reps)).toEqual(new Set(['p1', 'p2']));
    expect(reps.get('r1')).toBe('p2');
    expect(
      partnersTouched(
        pd,
        changedBy(pd, () => pd.maps.meta.set('program', JSON.stringify({ ...program, name: 'Acme 2' }))),
        reps,
      ),
    ).toBe('all');
    expect(
      partnersTouched(
        pd,
        changedBy(pd, () =>
          pd.maps.staff.set('v2', JSON.stringify({ id: 'v2', name: 'Rahul', role: 'vendor_manager' })),
        ),
        reps,
      ),
    ).toEqual(new Set());
  });
});

describe('V4 — removal', () => {
  it('takes a rep who moved away out of the old partner’s channel, and puts them in the new one', () => {
    const pd = vendorProgram();
    const [p1, p2] = [openProgramDoc(new Y.Doc()), openProgramDoc(new Y.Doc())];
    projectPartnerView(pd, p1, 'p1');
    projectPartnerView(pd, p2, 'p2');
    pd.maps.reps.set(
      'r1',
      JSON.stringify({ id: 'r1', partnerId: 'p2', name: 'Asha', role: 'rep', createdAt: T0 }),
    );
    projectPartnerView(pd, p1, 'p1');
    projectPartnerView(pd, p2, 'p2');
    expect(readReps(p1).map((rep) => rep.id)).toEqual(['m1']);
    expect(readReps(p2).map((rep) => rep.id)).toEqual(['r1', 'r9']);
  });
});

describe('P7 — rollups in their own room', () => {
  it('moves the rollups an older server kept in the program document, keeping newer ones, and copies the settings', () => {
    const pd = vendorProgram();
    writeRollup(pd, 'p1', { lastSyncAt: T0, series: [] });
    writeRollup(pd, 'p2', { lastSyncAt: T0, series: [] });
    const rollups = openProgramDoc(new Y.Doc());
    copyProgramSettings(pd, rollups);
    writeRollup(rollups, 'p2', { lastSyncAt: T0 + 1, series: [] });
    expect(moveRollups(pd, rollups)).toBe(2);
    expect(readRollups(pd).size).toBe(0);
    expect([...readRollups(rollups)].map(([id, entry]) => [id, entry.lastSyncAt])).toEqual([
      ['p2', T0 + 1],
      ['p1', T0],
    ]);
    expect(moveRollups(pd, rollups)).toBe(0);
    expect(copyProgramSettings(pd, rollups)).toBe(false);
  });
});

describe('P7 — the program benchmark, in its own room', () => {
  const period = { from: '2026-11-01', to: '2026-12-01', tz: 'Asia/Kolkata' };
  const published = {
    period,
    metrics: {
      winRate: { partners: 6, lowerQuartile: 0.2, median: 0.3, upperQuartile: 0.4 },
      averageDealSize: { partners: 6, lowerQuartile: 100, median: 200, upperQuartile: 300 },
      closeRate: { partners: 3, notEnough: true as const },
      dealVelocity: { partners: 6, lowerQuartile: 1, median: 2, upperQuartile: 3 },
      averageCycleDays: { partners: 6, lowerQuartile: 10, median: 20, upperQuartile: 30 },
      qualityScore: { partners: 6, lowerQuartile: 10, median: 40, upperQuartile: 70 },
    },
  };

  it('is read back by its period alone, written once, and a period no longer published goes', () => {
    const pd = openProgramDoc(new Y.Doc());
    expect(writeBenchmarks(pd, [published])).toBe(true);
    expect(readBenchmark(pd, period)).toEqual(published);
    expect(readBenchmark(pd, { ...period, to: '2026-12-02' })).toBeUndefined();
    expect(writeBenchmarks(pd, [published])).toBe(false);
    const next = { ...published, period: { ...period, from: '2026-12-01', to: '2027-01-01' } };
    writeBenchmarks(pd, [next]);
    expect(readBenchmark(pd, period)).toBeUndefined();
    expect(readBenchmark(pd, next.period)).toEqual(next);
  });

  it('reads nothing from an entry that does not decode (another version, tampered)', () => {
    const pd = openProgramDoc(new Y.Doc());
    pd.maps.benchmark.set(benchmarkKey(period), JSON.stringify({ version: 99 }));
    expect(readBenchmark(pd, period)).toBeUndefined();
  });
});
