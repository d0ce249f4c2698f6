/**
 * The program document's rules (src/lib/sync/SPEC.md, P1–P10), one or more tests per rule, named
 * after it. Replicas are Y.Docs with fixed client ids exchanging updates by hand: no network, no
 * timers.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  DEFAULT_STAGE_PROBABILITY,
  type Partner,
  type Program,
  type Rep,
  type StaffMember,
  type Target,
} from '../../../src/lib/domain';
import fc from 'fast-check';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import {
  RollupIndex,
  buildRollup,
  computeKpis,
  mergeRollups,
  parseDay,
  parsePeriod,
  takeChangedSeries,
  withoutReps,
  type Rollup,
} from '../../../src/lib/kpi';
import { CHUNK_DAYS, chunkOf, encodePackedRollup, packRollup } from '../../../src/lib/kpi/packed';
import {
  PROGRAM_DOC_SCHEMA_VERSION,
  PROGRAM_LOCAL_ORIGIN,
  ROLLUP_ENTRY_VERSION,
  ROLLUP_ORIGIN,
  ProgramDocError,
  initProgram,
  onProgramChanged,
  openProgramDoc,
  programDocSchemaVersion,
  readPartners,
  readProgram,
  readReps,
  readRollups,
  readStaff,
  readTargets,
  setTarget,
  projectFigures,
  readTotals,
  upgradeRollups,
  writeRollup,
  type ProgramChanged,
  type ProgramDoc,
} from '../../../src/lib/sync/program-doc';
import { BASE_INSTANT, DAY_MS, deal, lead } from '../../factories/records';

const REMOTE = 'remote';
const TZ = 'Asia/Kolkata';

const program: Program = {
  id: 'acme',
  name: 'Acme Partners',
  currency: 'INR',
  timeZone: TZ,
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
const partners: Partner[] = [
  { id: 'p2', programId: 'acme', name: 'Second Partner', createdAt: BASE_INSTANT },
  { id: 'p1', programId: 'acme', name: 'First Partner', createdAt: BASE_INSTANT },
];
const reps: Rep[] = [
  { id: 'p1-r1', partnerId: 'p1', name: 'Asha Iyer', role: 'partner_manager', createdAt: BASE_INSTANT },
  { id: 'p1-r2', partnerId: 'p1', name: 'Ravi Nair', role: 'rep', createdAt: BASE_INSTANT },
  { id: 'p2-r1', partnerId: 'p2', name: 'Meera Das', role: 'partner_manager', createdAt: BASE_INSTANT },
];
const staff: StaffMember[] = [{ id: 'v-anita', name: 'Anita Rao', role: 'vendor_manager' }];
const target = (revenue: number, deals = 3): Target => ({
  revenue,
  deals,
  setAt: BASE_INSTANT,
  setBy: 'v-anita',
});

function replica(clientID: number, state?: Uint8Array): ProgramDoc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  if (state) Y.applyUpdate(doc, state, REMOTE);
  return openProgramDoc(doc);
}

function send(from: ProgramDoc, to: ProgramDoc) {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)), REMOTE);
}

function seeded(clientID = 1): ProgramDoc {
  const pd = replica(clientID);
  initProgram(pd, { program, partners, reps, staff });
  return pd;
}

/** The rollup of a few records of partner p1: two reps, a won deal, a lost one, an open one, leads. */
function p1Records() {
  const leads = [
    lead({ id: 'L1', partnerId: 'p1', repId: 'p1-r1', channel: 'referral', createdAt: BASE_INSTANT }),
    lead({ id: 'L2', partnerId: 'p1', repId: 'p1-r2', channel: 'paid', createdAt: BASE_INSTANT + DAY_MS }),
  ];
  const deals = [
    deal({
      id: 'D1',
      partnerId: 'p1',
      repId: 'p1-r1',
      leadId: 'L1',
      channel: 'referral',
      amount: 40_000_00,
      stage: 'won',
      probability: 100,
      createdAt: BASE_INSTANT + 2 * DAY_MS,
      closedAt: BASE_INSTANT + 20 * DAY_MS,
      updatedAt: BASE_INSTANT + 20 * DAY_MS,
    }),
    deal({
      id: 'D2',
      partnerId: 'p1',
      repId: 'p1-r2',
      channel: 'paid',
      amount: 10_000_00,
      stage: 'lost',
      probability: 0,
      lostReason: 'competitor',
      createdAt: BASE_INSTANT + 3 * DAY_MS,
      closedAt: BASE_INSTANT + 9 * DAY_MS,
      updatedAt: BASE_INSTANT + 9 * DAY_MS,
    }),
    deal({
      id: 'D3',
      partnerId: 'p1',
      repId: 'p1-r2',
      channel: 'paid',
      amount: 7_500_00,
      stage: 'proposal',
      probability: 50,
      createdAt: BASE_INSTANT + 4 * DAY_MS,
      expectedCloseAt: BASE_INSTANT + 30 * DAY_MS,
      updatedAt: BASE_INSTANT + 4 * DAY_MS,
    }),
  ];
  return { leads, deals, rollup: buildRollup(TZ, leads, deals) };
}

/** The updates a transaction on `pd` emits, collected while `change` runs. */
function updatesOf(pd: ProgramDoc, change: () => void): Uint8Array {
  const updates: Uint8Array[] = [];
  const collect = (update: Uint8Array) => updates.push(update);
  pd.doc.on('update', collect);
  change();
  pd.doc.off('update', collect);
  return Y.mergeUpdates(updates);
}

const period = (() => {
  const parsed = parsePeriod({ from: '2026-01-01', to: '2026-04-01', tz: TZ });
  if (!parsed.ok) throw new Error('bad period');
  return parsed.range;
})();

/** The property tests below fold and sum whole programs many times over. */
const PROPERTY_TIMEOUT_MS = 30_000;

describe('P1 — layout', () => {
  it('has the nine maps with JSON text entries, rollup headers as {version, tz, lastSyncAt, chunks, months} and chunks as bytes', () => {
    const pd = seeded();
    setTarget(pd, 'p1', '2026-Q1', target(5_000_000_00));
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT + 5, series: packRollup(p1Records().rollup) });
    const json = pd.doc.toJSON() as Record<string, Record<string, unknown>>;
    expect(Object.keys(json).sort()).toEqual([
      'benchmark',
      'meta',
      'partners',
      'reps',
      'rollupChunks',
      'rollups',
      'staff',
      'targets',
      'totals',
    ]);
    expect(json['meta']!['schemaVersion']).toBe(PROGRAM_DOC_SCHEMA_VERSION);
    expect(JSON.parse(json['meta']!['program'] as string)).toEqual(program);
    expect(Object.keys(json['partners']!).sort()).toEqual(['p1', 'p2']);
    expect(typeof json['partners']!['p1']).toBe('string');
    expect(Object.keys(json['reps']!).sort()).toEqual(['p1-r1', 'p1-r2', 'p2-r1']);
    expect(JSON.parse(json['staff']!['v-anita'] as string)).toEqual(staff[0]);
    expect(JSON.parse(json['targets']!['p1/2026-Q1'] as string)).toEqual(target(5_000_000_00));
    const entry = pd.maps.rollups.get('p1') as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(['chunks', 'lastSyncAt', 'months', 'tz', 'version']);
    expect(entry['months']).toBeInstanceOf(Uint8Array);
    // The records span days BASE … BASE + 30: one or two chunks.
    const chunks = [
      ...new Set(
        [0, 2, 3, 4, 9, 20, 30].map((days) => chunkOf(Math.floor((BASE_INSTANT + days * DAY_MS) / DAY_MS))),
      ),
    ];
    expect(entry).toEqual({
      version: ROLLUP_ENTRY_VERSION,
      tz: TZ,
      lastSyncAt: BASE_INSTANT + 5,
      chunks: expect.arrayContaining(chunks),
      months: expect.any(Uint8Array),
    });
    expect(Object.keys(json['totals']!).sort()).toEqual(
      [...(entry['chunks'] as number[]).map(String), 'zone'].sort(),
    );
    expect(Object.keys(json['rollupChunks']!).sort()).toEqual(
      (entry['chunks'] as number[]).map((chunk) => `p1@${chunk}`).sort(),
    );
    for (const chunk of entry['chunks'] as number[])
      expect(pd.maps.rollupChunks.get(`p1@${chunk}`)).toBeInstanceOf(Uint8Array);
  });

  it('carries the rollup bytes through an update as bytes (no base64)', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    const update = updatesOf(pd, () => writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series }));
    let bytes = (pd.maps.rollups.get('p1') as { months: Uint8Array }).months.length;
    for (const map of [pd.maps.rollupChunks, pd.maps.totals])
      map.forEach((value) => (bytes += value instanceof Uint8Array ? value.length : 0));
    expect(update.length).toBeLessThan(bytes + 300);
  });
});

describe('P2 — reading', () => {
  it('reads the directory back, sorted by id', () => {
    const pd = seeded();
    expect(readProgram(pd)).toEqual(program);
    expect(readPartners(pd).map((partner) => partner.id)).toEqual(['p1', 'p2']);
    expect(readPartners(pd)[0]).toEqual(partners[1]);
    expect(readReps(pd)).toEqual([...reps].sort((a, b) => a.id.localeCompare(b.id)));
    expect(readStaff(pd)).toEqual(staff);
  });

  it('accepts entries stored as objects and leaves out ones that do not validate', () => {
    const pd = seeded();
    pd.doc.transact(() => {
      pd.maps.partners.set('p3', {
        id: 'p3',
        programId: 'acme',
        name: 'Stored as object',
        createdAt: BASE_INSTANT,
      });
      pd.maps.partners.set('p4', '{"id":"p4","name":""}');
      pd.maps.partners.set('p5', 'not json');
      pd.maps.staff.set('v-x', JSON.stringify({ id: 'v-x', name: 'X', role: 'rep' }));
    }, REMOTE);
    expect(readPartners(pd).map((partner) => partner.id)).toEqual(['p1', 'p2', 'p3']);
    expect(readStaff(pd).map((member) => member.id)).toEqual(['v-anita']);
  });

  it('returns deleted entries with deletedAt', () => {
    const pd = seeded();
    pd.maps.reps.set('p1-r2', JSON.stringify({ ...reps[1], deletedAt: BASE_INSTANT + DAY_MS }));
    expect(readReps(pd).find((rep) => rep.id === 'p1-r2')?.deletedAt).toBe(BASE_INSTANT + DAY_MS);
  });
});

describe('P3 — deletion, never recreation', () => {
  it('initProgram refuses a doc that already has a program', () => {
    const pd = seeded();
    expect(() => initProgram(pd, { program, partners, reps, staff })).toThrow(/already has a program/);
  });

  it('initProgram validates everything first and writes nothing when anything is wrong', () => {
    const cases: [string, Parameters<typeof initProgram>[1], RegExp][] = [
      [
        'bad program',
        { program: { ...program, currency: 'XXX1' }, partners, reps, staff },
        /program acme is not valid/,
      ],
      [
        'partner of another program',
        { program, partners: [{ ...partners[0]!, programId: 'other' }], reps: [], staff },
        /belongs to program other/,
      ],
      [
        'rep of an unknown partner',
        { program, partners, reps: [{ ...reps[0]!, partnerId: 'p9' }], staff },
        /not a partner of this program/,
      ],
      [
        'duplicate user id',
        { program, partners, reps, staff: [{ id: 'p1-r1', name: 'Dup', role: 'vendor_manager' }] },
        /user id p1-r1 appears twice/,
      ],
      [
        'staff with a bad id',
        { program, partners, reps, staff: [{ id: 'bad id', name: 'Bad', role: 'vendor_manager' }] },
        /staff member bad id is not valid: id:/,
      ],
    ];
    for (const [name, directory, message] of cases) {
      const pd = replica(1);
      let updates = 0;
      pd.doc.on('update', () => updates++);
      expect(() => initProgram(pd, directory), name).toThrow(message);
      expect(updates, name).toBe(0);
    }
  });
});

describe('P4 — targets', () => {
  it('sets and reads targets, by partner then quarter', () => {
    const pd = seeded();
    setTarget(pd, 'p2', '2026-Q1', target(1_000));
    setTarget(pd, 'p1', '2026-Q2', target(2_000));
    setTarget(pd, 'p1', '2026-Q1', target(3_000, 0));
    expect(readTargets(pd)).toEqual([
      { partnerId: 'p1', quarter: '2026-Q1', ...target(3_000, 0) },
      { partnerId: 'p1', quarter: '2026-Q2', ...target(2_000) },
      { partnerId: 'p2', quarter: '2026-Q1', ...target(1_000) },
    ]);
  });

  it('refuses a malformed quarter, an unknown partner, or amounts that are not non-negative integers, writing nothing', () => {
    const pd = seeded();
    let updates = 0;
    pd.doc.on('update', () => updates++);
    const refused: [string, string, Target, RegExp][] = [
      ['p1', '2026-Q5', target(1), /quarter: Quarter must look like 2026-Q3 \(got "2026-Q5"\)/],
      ['p1', '2026Q1', target(1), /Quarter must look like/],
      ['p1', '26-Q1', target(1), /Quarter must look like/],
      ['p9', '2026-Q1', target(1), /There is no partner p9/],
      ['p1/x', '2026-Q1', target(1), /is not an id/],
      ['p1', '2026-Q1', target(-1), /revenue: Revenue target must be a whole, non-negative number/],
      ['p1', '2026-Q1', target(1.5), /Revenue target must be a whole/],
      ['p1', '2026-Q1', target(100, 2.5), /deals: Deal target must be a whole, non-negative number/],
      ['p1', '2026-Q1', { ...target(1), deals: Number.NaN }, /Deal target/],
      ['p1', '2026-Q1', { ...target(1), setAt: -5 }, /setAt/],
      ['p1', '2026-Q1', { ...target(1), setBy: '' }, /setBy/],
    ];
    for (const [partnerId, quarter, value, message] of refused) {
      expect(
        () => setTarget(pd, partnerId, quarter, value),
        `${partnerId} ${quarter} ${JSON.stringify(value)}`,
      ).toThrow(message);
    }
    expect(() => setTarget(pd, 'p1', '2026-Q5', target(-1))).toThrow(ProgramDocError);
    expect(updates).toBe(0);
    expect(readTargets(pd)).toEqual([]);
  });

  it('writes nothing when the target is already that value', () => {
    const pd = seeded();
    setTarget(pd, 'p1', '2026-Q1', target(5));
    let updates = 0;
    pd.doc.on('update', () => updates++);
    setTarget(pd, 'p1', '2026-Q1', target(5));
    expect(updates).toBe(0);
  });

  it('leaves out target keys and values of another shape', () => {
    const pd = seeded();
    pd.doc.transact(() => {
      pd.maps.targets.set('p1/2026-Q1', JSON.stringify(target(5)));
      pd.maps.targets.set('p1/2026-Q1/extra', JSON.stringify(target(5)));
      pd.maps.targets.set('p1/2026-Q9', JSON.stringify(target(5)));
      pd.maps.targets.set(
        'p2/2026-Q1',
        JSON.stringify({ revenue: -3, deals: 1, setAt: 1, setBy: 'v-anita' }),
      );
    }, REMOTE);
    expect(readTargets(pd).map((entry) => `${entry.partnerId}/${entry.quarter}`)).toEqual(['p1/2026-Q1']);
  });

  it('two managers setting one target offline converge on one value (the higher client id)', () => {
    const a = seeded(1);
    const b = replica(2, Y.encodeStateAsUpdate(a.doc));
    setTarget(a, 'p1', '2026-Q1', target(100));
    setTarget(b, 'p1', '2026-Q1', { ...target(200), setBy: 'v-rahul' });
    send(a, b);
    send(b, a);
    expect(readTargets(a)).toEqual(readTargets(b));
    expect(readTargets(a)[0]).toMatchObject({ revenue: 200, setBy: 'v-rahul' });
  });
});

describe('P5 — rollups are the server’s', () => {
  it('round-trips a rollup: the same KPIs and the lastSyncAt', () => {
    const pd = seeded();
    const { rollup } = p1Records();
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT + 123, series: packRollup(rollup) });
    const read = readRollups(pd);
    expect([...read.keys()]).toEqual(['p1']);
    expect(read.get('p1')!.lastSyncAt).toBe(BASE_INSTANT + 123);
    expect(read.get('p1')!.rollup.tz).toBe(TZ);
    // The vendor keeps partner × channel × day: partner and program figures are the same, reps are gone.
    for (const scope of [{ kind: 'all' } as const, { kind: 'partner', id: 'p1' } as const]) {
      const { qualityScores, ...figures } = computeKpis(read.get('p1')!.rollup, { range: period, scope });
      const { qualityScores: expectedScores, ...expected } = computeKpis(rollup, { range: period, scope });
      expect(figures).toEqual(expected);
      if (scope.kind === 'all') expect(qualityScores).toEqual(expectedScores);
    }
    expect([...read.get('p1')!.rollup.series.values()].map((series) => series.repId)).toEqual(['', '']);
    expect(computeKpis(read.get('p1')!.rollup, { range: period, scope: { kind: 'all' } }).dealCount).toBe(1);
  });

  it('writes only the chunks whose buckets changed', () => {
    const pd = seeded();
    const { leads, deals } = p1Records();
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series: packRollup(buildRollup(TZ, leads, deals)) });
    const changed: ProgramChanged[] = [];
    onProgramChanged(pd, (change) => changed.push(change));
    // A lead 200 days later: a new chunk, and the header that names it; the other chunks stay.
    const later = lead({
      id: 'L9',
      partnerId: 'p1',
      repId: 'p1-r1',
      channel: 'referral',
      createdAt: BASE_INSTANT + 200 * DAY_MS,
    });
    const update = updatesOf(pd, () =>
      writeRollup(pd, 'p1', {
        lastSyncAt: BASE_INSTANT + 1,
        series: packRollup(buildRollup(TZ, [...leads, later], deals)),
      }),
    );
    const chunk = chunkOf(Math.floor(later.createdAt / DAY_MS));
    expect(changed).toHaveLength(1);
    expect(changed[0]!.rollupChunks).toEqual(new Set([`p1@${chunk}`]));
    expect(changed[0]!.totals).toEqual(new Set([String(chunk)]));
    expect(changed[0]!.rollups).toEqual(new Set(['p1']));
    expect(update.length).toBeLessThan(600);
    // Nothing changed: nothing written.
    writeRollup(pd, 'p1', {
      lastSyncAt: BASE_INSTANT + 1,
      series: packRollup(buildRollup(TZ, [...leads, later], deals)),
    });
    expect(changed).toHaveLength(1);
    // The lead deleted again: its chunk goes.
    writeRollup(pd, 'p1', {
      lastSyncAt: BASE_INSTANT + 2,
      series: packRollup(buildRollup(TZ, leads, deals)),
    });
    expect(pd.maps.rollupChunks.has(`p1@${chunk}`)).toBe(false);
    expect(
      computeKpis(readRollups(pd).get('p1')!.rollup, { range: period, scope: { kind: 'all' } }).prospects,
    ).toBe(computeKpis(buildRollup(TZ, leads, deals), { range: period, scope: { kind: 'all' } }).prospects);
    expect(CHUNK_DAYS).toBe(32);
  });

  it('replaces the entry whole, with origin ROLLUP_ORIGIN, and the state does not grow with rewrites', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    const origins: unknown[] = [];
    onProgramChanged(pd, (_changed, origin) => origins.push(origin));
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series });
    const size = Y.encodeStateAsUpdate(pd.doc).length;
    for (let i = 1; i <= 20; i++) writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT + i, series });
    expect(Y.encodeStateAsUpdate(pd.doc).length).toBeLessThan(size + 100);
    expect(readRollups(pd).get('p1')!.lastSyncAt).toBe(BASE_INSTANT + 20);
    expect(new Set(origins)).toEqual(new Set([ROLLUP_ORIGIN]));
  });

  it('refuses series of another partner, a bad lastSyncAt, and a rollup with no zone to record', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    expect(() => writeRollup(pd, 'p2', { lastSyncAt: BASE_INSTANT, series })).toThrow(
      /The rollup of p2 holds a series of p1/,
    );
    expect(() => writeRollup(pd, 'p1', { lastSyncAt: Number.NaN, series })).toThrow(/lastSyncAt/);
    expect(() => writeRollup(replica(3), 'p1', { lastSyncAt: BASE_INSTANT, series })).toThrow(
      /no valid time zone/,
    );
    writeRollup(replica(4), 'p1', { lastSyncAt: BASE_INSTANT, series, tz: TZ });
    expect(readRollups(pd).size).toBe(0);
  });
});

describe('P6 — reading rollups', () => {
  it('skips, and reports, entries it cannot use; the others still read', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series });
    const good = { bytes: encodePackedRollup(series) };
    const { months } = pd.maps.rollups.get('p1') as { months: Uint8Array };
    pd.doc.transact(() => {
      pd.maps.rollups.set('p2', {
        version: 1,
        tz: TZ,
        lastSyncAt: BASE_INSTANT,
        bytes: good.bytes.subarray(0, 40),
      });
      // Version 2: months cut short, months of another partner, no months.
      pd.maps.rollups.set('p8', {
        version: 2,
        tz: TZ,
        lastSyncAt: BASE_INSTANT,
        chunks: [],
        months: months.subarray(0, months.length - 1),
      });
      pd.maps.rollups.set('p9', { version: 2, tz: TZ, lastSyncAt: BASE_INSTANT, chunks: [], months });
      pd.maps.rollups.set('p10', { version: 2, tz: TZ, lastSyncAt: BASE_INSTANT, chunks: [] });
      pd.maps.rollups.set('p3', {
        version: ROLLUP_ENTRY_VERSION + 1,
        tz: TZ,
        lastSyncAt: BASE_INSTANT,
        bytes: good.bytes,
      });
      pd.maps.rollups.set('p4', { version: 1, tz: 'UTC', lastSyncAt: BASE_INSTANT, bytes: good.bytes });
      pd.maps.rollups.set('p5', 'text');
      pd.maps.rollups.set('p6', { version: 1, tz: TZ, lastSyncAt: BASE_INSTANT, bytes: good.bytes });
      pd.maps.rollups.set('p7', { version: 1, tz: TZ, lastSyncAt: BASE_INSTANT });
    }, REMOTE);
    const problems = new Map<string, string>();
    const read = readRollups(pd, (partnerId, reason) => problems.set(partnerId, reason));
    expect([...read.keys()]).toEqual(['p1']);
    expect([...problems.keys()].sort()).toEqual(['p10', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    expect(problems.get('p8')).toMatch(/the buckets by month: Packed rollup is truncated/);
    expect(problems.get('p9')).toMatch(/another partner \(p1\|\|/);
    expect(problems.get('p10')).toMatch(/the buckets by month has no bytes/);
    expect(problems.get('p2')).toMatch(/truncated/);
    expect(problems.get('p3')).toMatch(/newer server/);
    expect(problems.get('p4')).toMatch(/in UTC but the program is in Asia\/Kolkata/);
    expect(problems.get('p5')).toMatch(/not a rollup object/);
    expect(problems.get('p6')).toMatch(/another partner/);
    expect(problems.get('p7')).toMatch(/no bytes/);
    expect(() => readRollups(pd)).not.toThrow();
  });
});

describe('P5 — the program’s totals', () => {
  const demo = generateDemoProgram({ seed: 4, stageLog: false });
  const recordsOf = (partnerId: string, keep: (id: string) => boolean) => ({
    leads: demo.leads.filter((one) => one.partnerId === partnerId && keep(one.id)),
    deals: demo.deals.filter((one) => one.partnerId === partnerId && keep(one.id)),
  });

  it(
    'are always the sum of the partners’ buckets by day, however their rollups are rewritten; the vendor’s copy reads the same',
    () => {
      const ids = demo.partners.map((partner) => partner.id);
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 3 })), {
            minLength: 1,
            maxLength: 8,
          }),
          fc.integer({ min: 0, max: 500 }),
          fc.integer({ min: 1, max: 200 }),
          (writes, start, length) => {
            const days = openProgramDoc();
            initProgram(days, { program: demo.program, partners: demo.partners, reps: [], staff: [] });
            const current = new Map<string, Rollup>();
            writes.forEach(([partnerId, variant], i) => {
              // Variants keep a different share of the partner's records: writes add and take away.
              const { leads, deals } = recordsOf(
                partnerId,
                (id) => variant === 0 || id.charCodeAt(id.length - 1) % (variant + 1) !== 0,
              );
              const rollup = buildRollup(demo.program.timeZone, leads, deals);
              writeRollup(days, partnerId, { lastSyncAt: BASE_INSTANT + i, rollup });
              current.set(partnerId, rollup);
            });
            const figures = openProgramDoc();
            projectFigures(days, figures);
            expect(figures.maps.rollupChunks.size).toBe(0);
            const range = {
              fromDay: parseDay('2025-06-01')! + start,
              toDay: parseDay('2025-06-01')! + start + length,
            };
            const expected = computeKpis(
              mergeRollups(...[...current.values()].map((rollup) => withoutReps(rollup))),
              { range, scope: { kind: 'all' } },
            );
            for (const pd of [days, figures]) {
              const totals = readTotals(pd);
              if (!('rollup' in totals)) throw new Error(totals.problem);
              const { qualityScores, needsAttention, ...figuresOf } = computeKpis(totals.rollup, {
                range,
                scope: { kind: 'all' },
              });
              const { qualityScores: _scores, needsAttention: _attention, ...expectedOf } = expected;
              expect(figuresOf).toEqual(expectedOf);
              expect(qualityScores.length).toBeLessThanOrEqual(1);
              expect(needsAttention.length).toBeLessThanOrEqual(1);
            }
            expect([...readRollups(figures).keys()].sort()).toEqual([...current.keys()].sort());
          },
        ),
        { numRuns: 25 },
      );
      // 25 programs of whole rollups written and summed: ~3 s alone, more on a loaded machine.
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'told which days changed since the last write, make again only their chunks and months, and come to what a full write does',
    () => {
      const partnerId = demo.partners[2]!.id;
      const { leads, deals } = recordsOf(partnerId, () => true);
      const index = RollupIndex.build(demo.program.timeZone, leads, deals);
      const told = openProgramDoc();
      const full = openProgramDoc();
      for (const pd of [told, full])
        initProgram(pd, { program: demo.program, partners: demo.partners, reps: [], staff: [] });
      takeChangedSeries(index.rollup);
      writeRollup(told, partnerId, { lastSyncAt: BASE_INSTANT, rollup: index.rollup });
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(deals.length - 1), fc.integer({ min: -40, max: 40 }), fc.boolean()), {
            minLength: 1,
            maxLength: 6,
          }),
          (edits) => {
            for (const [at, shift, amountOnly] of edits) {
              const deal = deals[at]!;
              const moved = amountOnly
                ? { ...deal, amount: deal.amount + 1 }
                : {
                    ...deal,
                    createdAt: deal.createdAt + shift * DAY_MS,
                    ...(deal.closedAt === undefined ? {} : { closedAt: deal.closedAt + shift * DAY_MS }),
                  };
              deals[at] = moved;
              index.upsertDeal(moved);
            }
            const days = new Set(takeChangedSeries(index.rollup).flatMap((change) => [...change.days]));
            const changed = writeRollup(told, partnerId, {
              lastSyncAt: BASE_INSTANT,
              rollup: index.rollup,
              days,
            });
            writeRollup(full, partnerId, { lastSyncAt: BASE_INSTANT, rollup: index.rollup });
            for (const chunk of changed)
              expect(days.size === 0 || [...days].some((day) => chunkOf(day) === chunk)).toBe(true);
            for (const map of ['rollups', 'rollupChunks', 'totals'] as const)
              expect(told.maps[map].toJSON()).toEqual(full.maps[map].toJSON());
          },
        ),
        { numRuns: 30 },
      );
      // 30 programs of whole rollups written and summed: ~3 s alone, more on a loaded machine.
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('follow the program’s zone: a fold in a new zone sums again the partners folded in it; the others wait for their fold', () => {
    const days = seeded();
    writeRollup(days, 'p1', { lastSyncAt: BASE_INSTANT, rollup: p1Records().rollup });
    days.maps.meta.set('program', JSON.stringify({ ...program, timeZone: 'UTC' }));
    expect(readTotals(days)).toEqual({
      problem: expect.stringMatching(/in Asia\/Kolkata but the program is in UTC/),
    });
    const p2 = buildRollup(
      'UTC',
      [lead({ id: 'L7', partnerId: 'p2', repId: 'p2-r1', channel: 'paid', createdAt: BASE_INSTANT })],
      [],
    );
    writeRollup(days, 'p2', { lastSyncAt: BASE_INSTANT, rollup: p2 });
    const totals = readTotals(days);
    if (!('rollup' in totals)) throw new Error(totals.problem);
    expect(computeKpis(totals.rollup, { range: period, scope: { kind: 'all' } }).prospects).toBe(1);
    writeRollup(days, 'p1', {
      lastSyncAt: BASE_INSTANT + 1,
      rollup: buildRollup('UTC', p1Records().leads, p1Records().deals),
    });
    const again = readTotals(days);
    if (!('rollup' in again)) throw new Error(again.problem);
    expect(computeKpis(again.rollup, { range: period, scope: { kind: 'all' } }).prospects).toBe(
      1 + computeKpis(p1Records().rollup, { range: period, scope: { kind: 'all' } }).prospects,
    );
  });
});

describe('P5 — rollups an older server wrote', () => {
  it('upgradeRollups rewrites whole version-1 entries in chunks, with their sync instant and the same figures', () => {
    const pd = seeded();
    const { rollup } = p1Records();
    pd.doc.transact(
      () =>
        pd.maps.rollups.set('p1', {
          version: 1,
          tz: TZ,
          lastSyncAt: BASE_INSTANT + 7,
          bytes: encodePackedRollup(packRollup(rollup)),
        }),
      REMOTE,
    );
    const before = computeKpis(readRollups(pd).get('p1')!.rollup, { range: period, scope: { kind: 'all' } });
    const days = seeded(9);
    expect(upgradeRollups(pd, days)).toBe(1);
    expect(days.maps.rollups.get('p1')).toMatchObject({
      version: ROLLUP_ENTRY_VERSION,
      lastSyncAt: BASE_INSTANT + 7,
    });
    expect(upgradeRollups(pd, days)).toBe(0);
    projectFigures(days, pd);
    expect(pd.maps.rollups.get('p1')).toMatchObject({
      version: ROLLUP_ENTRY_VERSION,
      lastSyncAt: BASE_INSTANT + 7,
    });
    expect(computeKpis(readRollups(pd).get('p1')!.rollup, { range: period, scope: { kind: 'all' } })).toEqual(
      before,
    );
    const totals = readTotals(pd);
    expect(
      'rollup' in totals && computeKpis(totals.rollup, { range: period, scope: { kind: 'all' } }).revenue,
    ).toBe(before.revenue);
  });
});

describe('P8 — schema version', () => {
  it('is stamped by writes, not by opening', () => {
    const pd = replica(1);
    expect(programDocSchemaVersion(pd)).toBe(0);
    expect(pd.maps.meta.size).toBe(0);
    initProgram(pd, { program, partners, reps, staff });
    expect(programDocSchemaVersion(pd)).toBe(PROGRAM_DOC_SCHEMA_VERSION);
    const other = replica(2);
    writeRollup(other, 'p1', { lastSyncAt: BASE_INSTANT, series: [], tz: TZ });
    expect(programDocSchemaVersion(other)).toBe(PROGRAM_DOC_SCHEMA_VERSION);
  });
});

describe('P9 — transactions and notifications', () => {
  it('tells listeners which keys changed and the origin, local, server or remote', () => {
    const pd = replica(1);
    const seen: [ProgramChanged, unknown][] = [];
    const stop = onProgramChanged(pd, (changed, origin) => seen.push([changed, origin]));
    initProgram(pd, { program, partners, reps, staff });
    setTarget(pd, 'p1', '2026-Q1', target(9));
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series: [] });
    const other = seeded(2);
    setTarget(other, 'p2', '2026-Q3', target(1));
    send(other, pd);
    expect(seen.map(([, origin]) => origin)).toEqual([
      PROGRAM_LOCAL_ORIGIN,
      PROGRAM_LOCAL_ORIGIN,
      ROLLUP_ORIGIN,
      REMOTE,
    ]);
    expect(seen[0]![0]).toMatchObject({
      meta: true,
      partners: new Set(['p1', 'p2']),
      staff: new Set(['v-anita']),
    });
    expect(seen[1]![0]).toEqual({
      meta: false,
      partners: new Set(),
      reps: new Set(),
      staff: new Set(),
      targets: new Set(['p1/2026-Q1']),
      rollups: new Set(),
      rollupChunks: new Set(),
      totals: new Set(),
      benchmark: new Set(),
    });
    expect(seen[2]![0].rollups).toEqual(new Set(['p1']));
    expect(seen[3]![0].targets).toEqual(new Set(['p2/2026-Q3']));
    stop();
    setTarget(pd, 'p1', '2026-Q1', target(10));
    expect(seen).toHaveLength(4);
  });
});

describe('replicas', () => {
  it('a vendor’s device and the server, each writing, converge on the same document', () => {
    const server = seeded(10);
    const vendorA = replica(20, Y.encodeStateAsUpdate(server.doc));
    const vendorB = replica(30, Y.encodeStateAsUpdate(server.doc));
    setTarget(vendorA, 'p1', '2026-Q1', target(100));
    setTarget(vendorB, 'p2', '2026-Q1', target(200));
    writeRollup(server, 'p1', { lastSyncAt: BASE_INSTANT, series: packRollup(p1Records().rollup) });
    for (const vendor of [vendorA, vendorB]) {
      const step2 = Y.encodeStateAsUpdate(vendor.doc, Y.encodeStateVector(server.doc));
      Y.applyUpdate(server.doc, step2, REMOTE);
    }
    send(server, vendorA);
    send(server, vendorB);
    for (const vendor of [vendorA, vendorB]) {
      expect(vendor.doc.toJSON()).toEqual(server.doc.toJSON());
      expect(readTargets(vendor)).toHaveLength(2);
      expect(
        computeKpis(readRollups(vendor).get('p1')!.rollup, { range: period, scope: { kind: 'all' } }),
      ).toEqual(computeKpis(p1Records().rollup, { range: period, scope: { kind: 'all' } }));
    }
  });
});
