/**
 * The program document's rules (src/lib/sync/SPEC.md, P1–P10), one or more tests per rule, named
 * after it. Replicas are Y.Docs with fixed client ids exchanging updates by hand: no network, no
 * timers.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_STAGE_PROBABILITY, type Partner, type Program, type Rep } from '../../src/lib/domain';
import { buildRollup, computeKpis, parsePeriod } from '../../src/lib/kpi';
import { packRollup } from '../../src/lib/kpi/packed';
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
  writeRollup,
  type ProgramChanged,
  type ProgramDoc,
  type StaffMember,
  type Target,
} from '../../src/lib/sync/program-doc';
import { BASE_INSTANT, DAY_MS, deal, lead } from '../factories/records';

const REMOTE = 'remote';
const TZ = 'Asia/Kolkata';

const program: Program = { id: 'acme', name: 'Acme Partners', currency: 'INR', timeZone: TZ, stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY } };
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
const target = (revenue: number, deals = 3): Target => ({ revenue, deals, setAt: BASE_INSTANT, setBy: 'v-anita' });

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
    deal({ id: 'D1', partnerId: 'p1', repId: 'p1-r1', leadId: 'L1', channel: 'referral', amount: 40_000_00, stage: 'won', probability: 100, createdAt: BASE_INSTANT + 2 * DAY_MS, closedAt: BASE_INSTANT + 20 * DAY_MS, updatedAt: BASE_INSTANT + 20 * DAY_MS }),
    deal({ id: 'D2', partnerId: 'p1', repId: 'p1-r2', channel: 'paid', amount: 10_000_00, stage: 'lost', probability: 0, lostReason: 'competitor', createdAt: BASE_INSTANT + 3 * DAY_MS, closedAt: BASE_INSTANT + 9 * DAY_MS, updatedAt: BASE_INSTANT + 9 * DAY_MS }),
    deal({ id: 'D3', partnerId: 'p1', repId: 'p1-r2', channel: 'paid', amount: 7_500_00, stage: 'proposal', probability: 50, createdAt: BASE_INSTANT + 4 * DAY_MS, expectedCloseAt: BASE_INSTANT + 30 * DAY_MS, updatedAt: BASE_INSTANT + 4 * DAY_MS }),
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

describe('P1 — layout', () => {
  it('has the seven maps with JSON text entries and rollups as {version, tz, lastSyncAt, bytes}', () => {
    const pd = seeded();
    setTarget(pd, 'p1', '2026-Q1', target(5_000_000_00));
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT + 5, series: packRollup(p1Records().rollup) });
    const json = pd.doc.toJSON() as Record<string, Record<string, unknown>>;
    expect(Object.keys(json).sort()).toEqual(['benchmark', 'meta', 'partners', 'reps', 'rollups', 'staff', 'targets']);
    expect(json['meta']!['schemaVersion']).toBe(PROGRAM_DOC_SCHEMA_VERSION);
    expect(JSON.parse(json['meta']!['program'] as string)).toEqual(program);
    expect(Object.keys(json['partners']!).sort()).toEqual(['p1', 'p2']);
    expect(typeof json['partners']!['p1']).toBe('string');
    expect(Object.keys(json['reps']!).sort()).toEqual(['p1-r1', 'p1-r2', 'p2-r1']);
    expect(JSON.parse(json['staff']!['v-anita'] as string)).toEqual(staff[0]);
    expect(JSON.parse(json['targets']!['p1/2026-Q1'] as string)).toEqual(target(5_000_000_00));
    const entry = pd.maps.rollups.get('p1') as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(['bytes', 'lastSyncAt', 'tz', 'version']);
    expect(entry['bytes']).toBeInstanceOf(Uint8Array);
    expect(entry).toMatchObject({ version: ROLLUP_ENTRY_VERSION, tz: TZ, lastSyncAt: BASE_INSTANT + 5 });
  });

  it('carries the rollup bytes through an update as bytes (no base64)', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    const update = updatesOf(pd, () => writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series }));
    const bytes = (pd.maps.rollups.get('p1') as { bytes: Uint8Array }).bytes;
    expect(update.length).toBeLessThan(bytes.length + 120);
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
      pd.maps.partners.set('p3', { id: 'p3', programId: 'acme', name: 'Stored as object', createdAt: BASE_INSTANT });
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
      ['bad program', { program: { ...program, currency: 'XXX1' }, partners, reps, staff }, /program acme is not valid/],
      ['partner of another program', { program, partners: [{ ...partners[0]!, programId: 'other' }], reps: [], staff }, /belongs to program other/],
      ['rep of an unknown partner', { program, partners, reps: [{ ...reps[0]!, partnerId: 'p9' }], staff }, /not a partner of this program/],
      ['duplicate user id', { program, partners, reps, staff: [{ id: 'p1-r1', name: 'Dup', role: 'vendor_manager' }] }, /user id p1-r1 appears twice/],
      ['staff with a bad id', { program, partners, reps, staff: [{ id: 'bad id', name: 'Bad', role: 'vendor_manager' }] }, /staff member bad id is not valid: id:/],
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
      expect(() => setTarget(pd, partnerId, quarter, value), `${partnerId} ${quarter} ${JSON.stringify(value)}`).toThrow(message);
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
      pd.maps.targets.set('p2/2026-Q1', JSON.stringify({ revenue: -3, deals: 1, setAt: 1, setBy: 'v-anita' }));
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
    for (const scope of [{ kind: 'all' } as const, { kind: 'rep', id: 'p1-r2' } as const]) {
      expect(computeKpis(read.get('p1')!.rollup, { range: period, scope })).toEqual(computeKpis(rollup, { range: period, scope }));
    }
    expect(computeKpis(read.get('p1')!.rollup, { range: period, scope: { kind: 'all' } }).dealCount).toBe(1);
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
    expect(() => writeRollup(pd, 'p2', { lastSyncAt: BASE_INSTANT, series })).toThrow(/The rollup of p2 holds a series of p1/);
    expect(() => writeRollup(pd, 'p1', { lastSyncAt: Number.NaN, series })).toThrow(/lastSyncAt/);
    expect(() => writeRollup(replica(3), 'p1', { lastSyncAt: BASE_INSTANT, series })).toThrow(/no valid time zone/);
    writeRollup(replica(4), 'p1', { lastSyncAt: BASE_INSTANT, series, tz: TZ });
    expect(readRollups(pd).size).toBe(0);
  });
});

describe('P6 — reading rollups', () => {
  it('skips, and reports, entries it cannot use; the others still read', () => {
    const pd = seeded();
    const series = packRollup(p1Records().rollup);
    writeRollup(pd, 'p1', { lastSyncAt: BASE_INSTANT, series });
    const good = pd.maps.rollups.get('p1') as { bytes: Uint8Array };
    pd.doc.transact(() => {
      pd.maps.rollups.set('p2', { version: 1, tz: TZ, lastSyncAt: BASE_INSTANT, bytes: good.bytes.subarray(0, 40) });
      pd.maps.rollups.set('p3', { version: ROLLUP_ENTRY_VERSION + 1, tz: TZ, lastSyncAt: BASE_INSTANT, bytes: good.bytes });
      pd.maps.rollups.set('p4', { version: 1, tz: 'UTC', lastSyncAt: BASE_INSTANT, bytes: good.bytes });
      pd.maps.rollups.set('p5', 'text');
      pd.maps.rollups.set('p6', { version: 1, tz: TZ, lastSyncAt: BASE_INSTANT, bytes: good.bytes });
      pd.maps.rollups.set('p7', { version: 1, tz: TZ, lastSyncAt: BASE_INSTANT });
    }, REMOTE);
    const problems = new Map<string, string>();
    const read = readRollups(pd, (partnerId, reason) => problems.set(partnerId, reason));
    expect([...read.keys()]).toEqual(['p1']);
    expect([...problems.keys()].sort()).toEqual(['p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
    expect(problems.get('p2')).toMatch(/truncated/);
    expect(problems.get('p3')).toMatch(/newer server/);
    expect(problems.get('p4')).toMatch(/in UTC but the program is in Asia\/Kolkata/);
    expect(problems.get('p5')).toMatch(/not a rollup object/);
    expect(problems.get('p6')).toMatch(/another partner/);
    expect(problems.get('p7')).toMatch(/no bytes/);
    expect(() => readRollups(pd)).not.toThrow();
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
    expect(seen.map(([, origin]) => origin)).toEqual([PROGRAM_LOCAL_ORIGIN, PROGRAM_LOCAL_ORIGIN, ROLLUP_ORIGIN, REMOTE]);
    expect(seen[0]![0]).toMatchObject({ meta: true, partners: new Set(['p1', 'p2']), staff: new Set(['v-anita']) });
    expect(seen[1]![0]).toEqual({ meta: false, partners: new Set(), reps: new Set(), staff: new Set(), targets: new Set(['p1/2026-Q1']), rollups: new Set(), benchmark: new Set() });
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
      expect(computeKpis(readRollups(vendor).get('p1')!.rollup, { range: period, scope: { kind: 'all' } })).toEqual(
        computeKpis(p1Records().rollup, { range: period, scope: { kind: 'all' } }),
      );
    }
  });
});
