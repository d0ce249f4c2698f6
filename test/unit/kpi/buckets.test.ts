/**
 * Property tests of the rollup engine: additivity of the buckets, agreement with the naive
 * reference implementation of kpi-spec.md, incremental updates, and a guard that the generated
 * programs exercise what they should. All runs are seeded, so a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  DEFAULT_STAGE_PROBABILITY,
  STAGES,
  validateDeal,
  validateLead,
  type Channel,
  type Deal,
  type Lead,
  type Stage,
} from '../../../src/lib/domain';
import {
  buildRollup,
  computeKpis,
  mergeRollups,
  parsePeriod,
  previousRange,
  RollupIndex,
  toReport,
  type KpiReport,
  type Rollup,
  type Scope,
} from '../../../src/lib/kpi';
import {
  amountArb,
  durationArb,
  leadArb,
  dealArb,
  localTime,
  periodArb,
  programArb,
  TIME_ZONES,
  type GeneratedProgram,
} from '../../factories/records';
import { previousPeriod, referenceReport, type ReferencePeriod } from '../../factories/reference-kpis';

const RUNS = { seed: 42, numRuns: 200 } as const;

interface Query {
  period: ReferencePeriod;
  scope: Scope;
  channel?: Channel;
}

function engineReport(rollup: Rollup, query: Query, currency: string): KpiReport {
  const parsed = parsePeriod(query.period);
  if (!parsed.ok) throw new Error(`bad period ${JSON.stringify(query.period)}`);
  const figures = computeKpis(rollup, {
    range: parsed.range,
    scope: query.scope,
    ...(query.channel === undefined ? {} : { channel: query.channel }),
  });
  return toReport(figures, query.period, currency);
}

function reference(
  program: { leads: readonly Lead[]; deals: readonly Deal[]; currency: string },
  query: Query,
): KpiReport {
  return referenceReport(program.leads, program.deals, { ...query, currency: program.currency });
}

/** Scopes worth asking about: all, each partner, each rep, and a partner that has no records. */
function scopeArb(program: GeneratedProgram): fc.Arbitrary<Scope> {
  return fc.oneof(
    fc.constant<Scope>({ kind: 'all' }),
    fc.constantFrom(...program.partners, 'p99').map((id): Scope => ({ kind: 'partner', id })),
    fc.constantFrom(...program.reps).map((id): Scope => ({ kind: 'rep', id })),
  );
}

function queryArb(program: GeneratedProgram): fc.Arbitrary<Query> {
  return fc
    .record({
      period: periodArb(program),
      scope: scopeArb(program),
      channel: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(...CHANNELS) },
      ),
    })
    .map(({ period, scope, channel }) =>
      channel === undefined ? { period, scope } : { period, scope, channel },
    );
}

const programWithQueries = programArb().chain((program) =>
  fc.tuple(fc.constant(program), fc.array(queryArb(program), { minLength: 1, maxLength: 3 })),
);

describe('factories', () => {
  it('build valid leads and deals', () => {
    fc.assert(
      fc.property(leadArb, dealArb, (l, d) => {
        expect(validateLead(l)).toEqual({ ok: true, value: l });
        expect(validateDeal(d)).toEqual({ ok: true, value: d });
      }),
      RUNS,
    );
    fc.assert(
      fc.property(programArb(), (program) => {
        for (const l of program.leads) expect(validateLead(l).ok).toBe(true);
        for (const d of program.deals) expect(validateDeal(d).ok).toBe(true);
        expect(new Set(program.leads.map((l) => l.id)).size).toBe(program.leads.length);
        expect(new Set(program.deals.map((d) => d.id)).size).toBe(program.deals.length);
      }),
      RUNS,
    );
  });
});

describe('rollups are additive', () => {
  it('kpis(merge(rollup(A), rollup(B))) = kpis(rollup(A ∪ B)) for splits that keep a lead with its deals', () => {
    // A lead's conversion is a join of the lead with the deals made from it: the rollup of a part
    // holding the lead but not its winning deal sees an unconverted lead, and the part holding the
    // deal sees a deal with a leadId (not a prospect) whose lead it does not know. So the records
    // are split by groups "a lead and every deal whose leadId is that lead" (a deal without a lead
    // is a group of its own); groups are assigned to A or B at random. Bucket sums are additive
    // over such groups, which is all the rollup promises.
    fc.assert(
      fc.property(
        programWithQueries,
        fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
        ([program, queries], sides) => {
          const groupOf = new Map<string, number>(program.leads.map((l, i) => [l.id, i]));
          const sideOfLead = (i: number) => sides[i % sides.length] ?? false;
          const inA = (d: Deal, i: number) => {
            const group = d.leadId === undefined ? undefined : groupOf.get(d.leadId);
            return group === undefined ? sideOfLead(program.leads.length + i) : sideOfLead(group);
          };
          const leadsA = program.leads.filter((_, i) => sideOfLead(i));
          const leadsB = program.leads.filter((_, i) => !sideOfLead(i));
          const dealsA = program.deals.filter((d, i) => inA(d, i));
          const dealsB = program.deals.filter((d, i) => !inA(d, i));
          expect(leadsA.length + leadsB.length).toBe(program.leads.length);
          expect(dealsA.length + dealsB.length).toBe(program.deals.length);
          for (const query of queries) {
            const tz = query.period.tz;
            const whole = buildRollup(tz, program.leads, program.deals);
            const a = buildRollup(tz, leadsA, dealsA);
            const b = buildRollup(tz, leadsB, dealsB);
            const expected = engineReport(whole, query, program.currency);
            expect(engineReport(mergeRollups(a, b), query, program.currency)).toEqual(expected);
            expect(engineReport(mergeRollups(b, a), query, program.currency)).toEqual(expected);
            expect(
              engineReport(mergeRollups(a, buildRollup(tz, [], []), b), query, program.currency),
            ).toEqual(expected);
          }
        },
      ),
      RUNS,
    );
  });

  it('merging leaves its inputs unchanged and refuses rollups of different zones', () => {
    const l = {
      id: 'L1',
      partnerId: 'p1',
      repId: 'p1-r1',
      createdAt: localTime('UTC', '2026-03-02', '10:00'),
      channel: 'paid',
      status: 'new',
      company: 'A',
      contactName: 'B',
    } satisfies Lead;
    const a = buildRollup('UTC', [l], []);
    const query: Query = {
      period: { from: '2026-03-01', to: '2026-03-03', tz: 'UTC' },
      scope: { kind: 'all' },
    };
    const before = engineReport(a, query, 'INR');
    expect(before.prospects).toBe(1);
    expect(engineReport(mergeRollups(a, a), query, 'INR').prospects).toBe(2);
    expect(engineReport(a, query, 'INR')).toEqual(before);
    expect(() => mergeRollups(a, buildRollup('Asia/Kolkata', [], []))).toThrow();
    expect(() => mergeRollups()).toThrow();
  });
});

describe('engine = naive reference implementation of the spec', () => {
  it('gives the same report for random programs, periods, zones, scopes and channels', () => {
    const seen = {
      withWins: 0,
      withCloseRate: 0,
      withVelocity: 0,
      withAttention: 0,
      withQuality: 0,
      withOverdue: 0,
      zones: new Set<string>(),
    };
    fc.assert(
      fc.property(programWithQueries, ([program, queries]) => {
        for (const query of queries) {
          const rollup = buildRollup(query.period.tz, program.leads, program.deals);
          const expected = reference(program, query);
          expect(engineReport(rollup, query, program.currency)).toEqual(expected);
          // The previous period too (same number of calendar days, ending where the period starts).
          const previous = { ...query, period: previousPeriod(query.period) };
          const current = parsePeriod(query.period);
          const before = parsePeriod(previous.period);
          expect(current.ok && before.ok && previousRange(current.range)).toEqual(before.ok && before.range);
          expect(engineReport(rollup, previous, program.currency)).toEqual(reference(program, previous));
          if (expected.dealCount > 0) seen.withWins++;
          if (expected.closeRate !== null && expected.closeRate > 0) seen.withCloseRate++;
          if (expected.dealVelocity !== null && expected.dealVelocity > 0) seen.withVelocity++;
          if (expected.needsAttention.length > 0) seen.withAttention++;
          if (expected.qualityScores.length > 1) seen.withQuality++;
          if (expected.pipeline.overdue > 0) seen.withOverdue++;
          seen.zones.add(query.period.tz);
        }
      }),
      RUNS,
    );
    // The comparison is only worth something when the reports are not all empty.
    expect(seen.withWins).toBeGreaterThan(20);
    expect(seen.withCloseRate).toBeGreaterThan(20);
    expect(seen.withVelocity).toBeGreaterThan(10);
    expect(seen.withAttention).toBeGreaterThan(3);
    expect(seen.withQuality).toBeGreaterThan(20);
    expect(seen.withOverdue).toBeGreaterThan(10);
    expect([...seen.zones].sort()).toEqual([...TIME_ZONES].sort());
  });

  it('gives the same report for many small programs squeezed into few partners (ties, shared days)', () => {
    fc.assert(
      fc.property(
        programArb({ maxPartners: 2, maxRepsPerPartner: 2, maxLeads: 8, maxDeals: 10 }).chain((program) =>
          fc.tuple(fc.constant(program), queryArb(program)),
        ),
        ([program, query]) => {
          const rollup = buildRollup(query.period.tz, program.leads, program.deals);
          expect(engineReport(rollup, query, program.currency)).toEqual(reference(program, query));
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Incremental updates

type Op =
  | { kind: 'lead'; target: number; deleted: boolean; shift: number; channel: Channel }
  | {
      kind: 'deal';
      target: number;
      stage: Stage;
      amount: number;
      closeAfter: number;
      deleted: boolean;
      /** undefined: keep the link; null: unlink; a number: link to that lead (modulo). */
      relink: number | null | undefined;
      expectedAfter: number | undefined;
    };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('lead' as const),
    target: fc.nat({ max: 999 }),
    deleted: fc.boolean(),
    shift: fc.integer({ min: -5 * 86_400_000, max: 5 * 86_400_000 }),
    channel: fc.constantFrom(...CHANNELS),
  }),
  fc.record({
    kind: fc.constant('deal' as const),
    target: fc.nat({ max: 999 }),
    stage: fc.constantFrom(...STAGES),
    amount: amountArb,
    closeAfter: durationArb,
    deleted: fc.oneof(
      { weight: 4, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    relink: fc.oneof(fc.constant(undefined), fc.constant(null), fc.nat({ max: 999 })),
    expectedAfter: fc.oneof(fc.constant(undefined), durationArb),
  }),
);

function changedLead(l: Lead, op: Extract<Op, { kind: 'lead' }>): Lead {
  const { deletedAt: _deleted, ...rest } = l;
  const createdAt = Math.max(0, l.createdAt + op.shift);
  return { ...rest, createdAt, channel: op.channel, ...(op.deleted ? { deletedAt: createdAt + 1 } : {}) };
}

function changedDeal(d: Deal, op: Extract<Op, { kind: 'deal' }>, leads: readonly Lead[]): Deal {
  const { deletedAt: _d, closedAt: _c, lostReason: _r, leadId, expectedCloseAt: _e, ...rest } = d;
  const closed = op.stage === 'won' || op.stage === 'lost';
  const target =
    op.relink === undefined || op.relink === null || leads.length === 0
      ? undefined
      : leads[op.relink % leads.length];
  const newLeadId = op.relink === undefined ? leadId : target?.id;
  return {
    ...rest,
    stage: op.stage,
    amount: op.amount,
    probability: DEFAULT_STAGE_PROBABILITY[op.stage],
    ...(newLeadId === undefined ? {} : { leadId: newLeadId }),
    ...(closed ? { closedAt: d.createdAt + op.closeAfter } : {}),
    ...(op.stage === 'lost' && op.amount % 2 === 0 ? { lostReason: 'competitor' as const } : {}),
    ...(!closed && op.expectedAfter !== undefined ? { expectedCloseAt: d.createdAt + op.expectedAfter } : {}),
    ...(op.deleted ? { deletedAt: d.createdAt + 1 } : {}),
  };
}

describe('RollupIndex', () => {
  it('after random upserts equals a fresh build from the final records', () => {
    fc.assert(
      fc.property(
        programArb().chain((program) =>
          fc.tuple(
            fc.constant(program),
            fc.integer({ min: 0, max: 100 }),
            fc.array(opArb, { maxLength: 40 }),
            fc.array(queryArb(program), { minLength: 1, maxLength: 2 }),
          ),
        ),
        ([program, initialPercent, ops, queries]) => {
          // Some records go in at build time, the rest arrive later as upserts among the changes.
          const cutLeads = Math.floor((program.leads.length * initialPercent) / 100);
          const cutDeals = Math.floor((program.deals.length * initialPercent) / 100);
          const tzs = [...new Set(queries.map((q) => q.period.tz))];
          const indexes = tzs.map((tz) =>
            RollupIndex.build(tz, program.leads.slice(0, cutLeads), program.deals.slice(0, cutDeals)),
          );
          const leads = new Map(program.leads.slice(0, cutLeads).map((l) => [l.id, l]));
          const deals = new Map(program.deals.slice(0, cutDeals).map((d) => [d.id, d]));
          const upsertLead = (l: Lead) => {
            expect(validateLead(l).ok).toBe(true);
            leads.set(l.id, l);
            for (const index of indexes) index.upsertLead(l);
          };
          const upsertDeal = (d: Deal) => {
            expect(validateDeal(d).ok).toBe(true);
            deals.set(d.id, d);
            for (const index of indexes) index.upsertDeal(d);
          };
          const pendingLeads = program.leads.slice(cutLeads);
          const pendingDeals = program.deals.slice(cutDeals);
          for (const op of ops) {
            // Interleave the arrival of the remaining records with the changes.
            const arriving = op.target % 2 === 0 ? pendingDeals.shift() : pendingLeads.shift();
            if (arriving !== undefined) {
              if ('stage' in arriving) upsertDeal(arriving);
              else upsertLead(arriving);
            }
            if (op.kind === 'lead') {
              const all = [...leads.values()];
              const current = all[op.target % Math.max(1, all.length)];
              if (current) upsertLead(changedLead(current, op));
            } else {
              const all = [...deals.values()];
              const current = all[op.target % Math.max(1, all.length)];
              if (current) upsertDeal(changedDeal(current, op, [...leads.values()]));
            }
          }
          for (const d of pendingDeals) upsertDeal(d);
          for (const l of pendingLeads) upsertLead(l);

          const finalProgram = {
            leads: [...leads.values()],
            deals: [...deals.values()],
            currency: program.currency,
          };
          for (const query of queries) {
            const index = indexes[tzs.indexOf(query.period.tz)];
            expect(index).toBeDefined();
            if (!index) continue;
            const fresh = buildRollup(query.period.tz, finalProgram.leads, finalProgram.deals);
            const expected = engineReport(fresh, query, program.currency);
            expect(engineReport(index.rollup, query, program.currency)).toEqual(expected);
            expect(expected).toEqual(reference(finalProgram, query));
          }
        },
      ),
      RUNS,
    );
  });

  it('upserting records one by one, deals before or after their leads, equals a build', () => {
    fc.assert(
      fc.property(
        programArb().chain((program) => fc.tuple(fc.constant(program), fc.boolean(), queryArb(program))),
        ([program, dealsFirst, query]) => {
          const index = new RollupIndex(query.period.tz);
          if (dealsFirst) {
            for (const d of program.deals) index.upsertDeal(d);
            for (const l of program.leads) index.upsertLead(l);
          } else {
            for (const l of program.leads) index.upsertLead(l);
            for (const d of program.deals) index.upsertDeal(d);
          }
          const expected = engineReport(
            buildRollup(query.period.tz, program.leads, program.deals),
            query,
            program.currency,
          );
          expect(engineReport(index.rollup, query, program.currency)).toEqual(expected);
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Guard: the generated programs are not trivial

describe('generated programs', () => {
  it('contain won, lost, open, deleted, converted, zero-amount, linked and midnight records across runs', () => {
    const programs = fc.sample(programArb(), { seed: 42, numRuns: 200 });
    const count = (predicate: (p: GeneratedProgram) => number) =>
      programs.reduce((sum, p) => sum + predicate(p), 0);
    const midnights = new Set<number>();
    for (const tz of TIME_ZONES) {
      for (let day = 0; day < 100; day++) {
        midnights.add(localTime(tz, new Date(Date.UTC(2026, 1, 1 + day)).toISOString().slice(0, 10)));
        midnights.add(localTime(tz, new Date(Date.UTC(2026, 7, 20 + day)).toISOString().slice(0, 10)));
      }
    }
    const stats = {
      won: count((p) => p.deals.filter((d) => d.stage === 'won').length),
      lost: count((p) => p.deals.filter((d) => d.stage === 'lost').length),
      open: count((p) => p.deals.filter((d) => d.stage !== 'won' && d.stage !== 'lost').length),
      deletedLeads: count((p) => p.leads.filter((l) => l.deletedAt !== undefined).length),
      deletedDeals: count((p) => p.deals.filter((d) => d.deletedAt !== undefined).length),
      linked: count((p) => p.deals.filter((d) => d.leadId !== undefined).length),
      convertedLeads: count(
        (p) => p.leads.filter((l) => p.deals.some((d) => d.leadId === l.id && d.stage === 'won')).length,
      ),
      leadsWithTwoDeals: count(
        (p) => p.leads.filter((l) => p.deals.filter((d) => d.leadId === l.id).length > 1).length,
      ),
      zeroAmounts: count((p) => p.deals.filter((d) => d.amount === 0).length),
      expectedClose: count((p) => p.deals.filter((d) => d.expectedCloseAt !== undefined).length),
      competitor: count((p) => p.deals.filter((d) => d.lostReason === 'competitor').length),
      atMidnight: count((p) => [...p.leads, ...p.deals].filter((r) => midnights.has(r.createdAt)).length),
      multiPartner: count((p) =>
        new Set([...p.leads, ...p.deals].map((r) => r.partnerId)).size > 1 ? 1 : 0,
      ),
      empty: count((p) => (p.leads.length + p.deals.length === 0 ? 1 : 0)),
    };
    expect(stats.won).toBeGreaterThan(100);
    expect(stats.lost).toBeGreaterThan(100);
    expect(stats.open).toBeGreaterThan(100);
    expect(stats.deletedLeads).toBeGreaterThan(20);
    expect(stats.deletedDeals).toBeGreaterThan(20);
    expect(stats.linked).toBeGreaterThan(100);
    expect(stats.convertedLeads).toBeGreaterThan(50);
    expect(stats.leadsWithTwoDeals).toBeGreaterThan(10);
    expect(stats.zeroAmounts).toBeGreaterThan(20);
    expect(stats.expectedClose).toBeGreaterThan(50);
    expect(stats.competitor).toBeGreaterThan(10);
    expect(stats.atMidnight).toBeGreaterThan(50);
    expect(stats.multiPartner).toBeGreaterThan(50);
    // Empty programs happen too (fast-check tries them), but they are not most of them.
    expect(stats.empty).toBeLessThan(40);
  });
});
