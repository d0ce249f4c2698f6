/**
 * The program benchmark (src/lib/kpi/benchmark.ts): hand-made programs of 4, 5 and 8 partners built
 * from records (records → buildRollup per partner), quartiles checked against figures worked out by
 * hand, the published form's checks, and a partner's position against the aggregates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Deal, Lead } from '../../../src/lib/domain';
import {
  BENCHMARK_HIGHER_IS_BETTER,
  BENCHMARK_METRICS,
  MIN_PARTNERS_FOR_BENCHMARK,
  benchmarkFigure,
  benchmarkFiguresByPartner,
  benchmarkPosition,
  buildRollup,
  computeBenchmark,
  computeBenchmarksForEach,
  computeKpis,
  decodeBenchmark,
  encodeBenchmark,
  parsePeriod,
  quantile,
  type Benchmark,
  type BenchmarkFigure,
  type BenchmarkJson,
  type BenchmarkMetric,
  type Period,
  type Rollup,
} from '../../../src/lib/kpi';
import { DAY_MS, deal, lead, localTime, programArb, periodArb } from '../../factories/records';

const KOLKATA = 'Asia/Kolkata';
const MARCH: Period = { from: '2026-03-01', to: '2026-04-01', tz: KOLKATA };
const at = (date: string, time = '10:00') => localTime(KOLKATA, date, time);

// ---------------------------------------------------------------------------------------------
// Fixtures

interface PartnerPlan {
  id: string;
  /** Amounts (minor units) of the deals won on 25 March, each created `cycleDays` before. */
  wins: number[];
  cycleDays: number;
  /** Deals lost on 25 March (created on the 20th). */
  losses: number;
  /** Open deals created on 10 March. */
  open: number;
  /** Leads created on 12 March (prospects that are not converted). */
  leads?: number;
}

/** A partner's records: every deal without a lead, so each one created in March is a prospect. */
function recordsOf(plan: PartnerPlan): { leads: Lead[]; deals: Deal[] } {
  const base = { partnerId: plan.id, repId: `${plan.id}-r1` };
  const closedAt = at('2026-03-25');
  const deals = [
    ...plan.wins.map((amount) =>
      deal({ ...base, stage: 'won', amount, createdAt: closedAt - plan.cycleDays * DAY_MS, closedAt }),
    ),
    ...Array.from({ length: plan.losses }, () =>
      deal({ ...base, stage: 'lost', lostReason: 'price', createdAt: at('2026-03-20'), closedAt }),
    ),
    ...Array.from({ length: plan.open }, () =>
      deal({ ...base, stage: 'prospecting', createdAt: at('2026-03-10') }),
    ),
  ];
  const leads = Array.from({ length: plan.leads ?? 0 }, () => lead({ ...base, createdAt: at('2026-03-12') }));
  return { leads, deals };
}

/** Each partner's rollup under its id, as the program document holds them. */
function rollupsOf(plans: readonly PartnerPlan[], tz = KOLKATA): Map<string, Rollup> {
  return new Map(
    plans.map((plan) => {
      const { leads, deals } = recordsOf(plan);
      return [plan.id, buildRollup(tz, leads, deals)];
    }),
  );
}

/**
 * Eight partners, one open deal each. Per partner (won ÷ closed, Σ won ÷ won, cycle, velocity =
 * 1 open × win rate × average ÷ cycle, close rate = won ÷ (won + lost + 1 open)):
 *   p1  1/4 = 0.25   10 000   2 d   1 250   1/5
 *   p2  1/2 = 0.5    20 000   4 d   2 500   1/3
 *   p3  3/4 = 0.75   30 000   5 d   4 500   3/5
 *   p4  1/1 = 1      40 000  10 d   4 000   1/2
 *   p5  0/2 = 0      null     null  null    0/3
 *   p6  2/5 = 0.4    60 000   8 d   3 000   2/6
 *   p7  3/5 = 0.6    80 000  20 d   2 400   3/6
 *   p8  1/5 = 0.2     5 000   1 d   1 000   1/6
 */
const EIGHT: readonly PartnerPlan[] = [
  { id: 'p1', wins: [100_00], cycleDays: 2, losses: 3, open: 1 },
  { id: 'p2', wins: [200_00], cycleDays: 4, losses: 1, open: 1 },
  { id: 'p3', wins: [300_00, 300_00, 300_00], cycleDays: 5, losses: 1, open: 1 },
  { id: 'p4', wins: [400_00], cycleDays: 10, losses: 0, open: 1 },
  { id: 'p5', wins: [], cycleDays: 0, losses: 2, open: 1 },
  { id: 'p6', wins: [500_00, 700_00], cycleDays: 8, losses: 3, open: 1 },
  { id: 'p7', wins: [800_00, 800_00, 800_00], cycleDays: 20, losses: 2, open: 1 },
  { id: 'p8', wins: [50_00], cycleDays: 1, losses: 4, open: 1 },
];

function published(figure: BenchmarkFigure) {
  if ('notEnough' in figure) throw new Error(`expected published aggregates, got ${JSON.stringify(figure)}`);
  return figure;
}

function expectQuartiles(
  figure: BenchmarkFigure,
  partners: number,
  [lower, median, upper]: [number, number, number],
): void {
  const quartiles = published(figure);
  expect(quartiles.partners).toBe(partners);
  expect(quartiles.lowerQuartile).toBeCloseTo(lower, 10);
  expect(quartiles.median).toBeCloseTo(median, 10);
  expect(quartiles.upperQuartile).toBeCloseTo(upper, 10);
}

/** A deterministic shuffle (mulberry32), so that a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------

describe('quantile (linear interpolation between closest ranks, R type 7)', () => {
  it('matches hand-computed values', () => {
    // n = 4: h = 3p → Q1 at h = 0.75: 1 + 0.75 × (3 − 1) = 2.5; median at 1.5: 5; Q3 at 2.25: 7 + 0.25 × 8 = 9.
    expect(quantile([1, 3, 7, 15], 0.25)).toBe(2.5);
    expect(quantile([1, 3, 7, 15], 0.5)).toBe(5);
    expect(quantile([1, 3, 7, 15], 0.75)).toBe(9);
    // n = 5: h = 4p lands on ranks: the 2nd, 3rd and 4th values.
    expect([0.25, 0.5, 0.75].map((p) => quantile([10, 20, 30, 40, 50], p))).toEqual([20, 30, 40]);
    // n = 6 (numpy.percentile([1, 2, 3, 4, 5, 6], [25, 50, 75]) = 2.25, 3.5, 4.75).
    expect([0.25, 0.5, 0.75].map((p) => quantile([1, 2, 3, 4, 5, 6], p))).toEqual([2.25, 3.5, 4.75]);
    // The ends and a single value.
    expect(quantile([4, 8], 0)).toBe(4);
    expect(quantile([4, 8], 1)).toBe(8);
    expect(quantile([42], 0.25)).toBe(42);
  });

  it('refuses no values and p outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], 1.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], Number.NaN)).toThrow(RangeError);
  });

  it('keeps quartiles ordered and within the values, whatever the magnitudes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e300, max: 1e300, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (values) => {
          const sorted = [...values].sort((a, b) => a - b);
          const [q1, q2, q3] = [0.25, 0.5, 0.75].map((p) => quantile(sorted, p)) as [number, number, number];
          expect(q1).toBeGreaterThanOrEqual(sorted[0]!);
          expect(q1).toBeLessThanOrEqual(q2);
          expect(q2).toBeLessThanOrEqual(q3);
          expect(q3).toBeLessThanOrEqual(sorted[sorted.length - 1]!);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('computeBenchmark', () => {
  it('publishes nothing but counts with 4 partners ("not enough partners to compare")', () => {
    const benchmark = computeBenchmark(rollupsOf(EIGHT.slice(0, 4)), { period: MARCH });
    expect(benchmark.period).toEqual(MARCH);
    for (const metric of BENCHMARK_METRICS)
      expect(benchmark.metrics[metric]).toEqual({ partners: 4, notEnough: true });
  });

  it('with 5 partners publishes a KPI only where all 5 have a figure: the 2nd, 3rd and 4th values', () => {
    const benchmark = computeBenchmark(rollupsOf(EIGHT.slice(0, 5)), { period: MARCH });
    // Win rates 0.25, 0.5, 0.75, 1, 0 → sorted 0, 0.25, 0.5, 0.75, 1.
    expect(benchmark.metrics.winRate).toEqual({
      partners: 5,
      lowerQuartile: 0.25,
      median: 0.5,
      upperQuartile: 0.75,
    });
    // Close rates 1/5, 1/3, 3/5, 1/2, 0 → sorted 0, 0.2, 1/3, 0.5, 0.6.
    expect(benchmark.metrics.closeRate).toEqual({
      partners: 5,
      lowerQuartile: 0.2,
      median: 1 / 3,
      upperQuartile: 0.5,
    });
    // p5 won nothing: no average deal size, cycle or velocity, so 4 partners there.
    expect(benchmark.metrics.averageDealSize).toEqual({ partners: 4, notEnough: true });
    expect(benchmark.metrics.averageCycleDays).toEqual({ partners: 4, notEnough: true });
    expect(benchmark.metrics.dealVelocity).toEqual({ partners: 4, notEnough: true });
    // Every one of the 5 closed a deal in March, so every one has a quality score.
    expect(benchmark.metrics.qualityScore.partners).toBe(5);
  });

  it('with 8 partners: quartiles by hand', () => {
    const benchmark = computeBenchmark(rollupsOf(EIGHT), { period: MARCH });
    // Win rates sorted 0, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 1; h = 7p:
    // Q1 at 1.75: 0.2 + 0.75 × 0.05 = 0.2375; median at 3.5: (0.4 + 0.5) / 2; Q3 at 5.25: 0.6 + 0.25 × 0.15 = 0.6375.
    expectQuartiles(benchmark.metrics.winRate, 8, [0.2375, 0.45, 0.6375]);
    // Average deal sizes (minor units, p5 left out) sorted 5 000, 10 000, 20 000, 30 000, 40 000, 60 000, 80 000; h = 6p:
    // Q1 at 1.5: 15 000; median at 3: 30 000; Q3 at 4.5: 50 000.
    expect(benchmark.metrics.averageDealSize).toEqual({
      partners: 7,
      lowerQuartile: 15_000,
      median: 30_000,
      upperQuartile: 50_000,
    });
    // Cycles sorted 1, 2, 4, 5, 8, 10, 20 days: Q1 3, median 5, Q3 9.
    expect(benchmark.metrics.averageCycleDays).toEqual({
      partners: 7,
      lowerQuartile: 3,
      median: 5,
      upperQuartile: 9,
    });
    // Velocities sorted 1 000, 1 250, 2 400, 2 500, 3 000, 4 000, 4 500 per day: Q1 1 825, median 2 500, Q3 3 500.
    expectQuartiles(benchmark.metrics.dealVelocity, 7, [1_825, 2_500, 3_500]);
    // Close rates sorted 0, 1/6, 1/5, 1/3, 1/3, 1/2, 1/2, 3/5: Q1 at 1.75: 1/6 + 0.75 × (1/5 − 1/6) = 23/120;
    // median at 3.5: 1/3; Q3 at 5.25: 1/2.
    expectQuartiles(benchmark.metrics.closeRate, 8, [23 / 120, 1 / 3, 1 / 2]);
  });

  it("takes each partner's quality score from scope all (relative among partners), not its reps' scores", () => {
    const rollups = rollupsOf(EIGHT);
    const all = buildRollup(
      KOLKATA,
      EIGHT.flatMap((plan) => recordsOf(plan).leads),
      EIGHT.flatMap((plan) => recordsOf(plan).deals),
    );
    const scores = computeKpis(all, { range: rangeOf(MARCH), scope: { kind: 'all' } }).qualityScores;
    expect(scores).toHaveLength(8);
    const s = scores.map((score) => score.score).sort((a, b) => a - b);
    // h = 7p: Q1 between the 2nd and 3rd (0.75 of the way), the median between the 4th and 5th, Q3 a quarter past the 6th.
    expectQuartiles(computeBenchmark(rollups, { period: MARCH }).metrics.qualityScore, 8, [
      s[1]! + 0.75 * (s[2]! - s[1]!),
      (s[3]! + s[4]!) / 2,
      s[5]! + 0.25 * (s[6]! - s[5]!),
    ]);
    // p7 has the most revenue and (with p3) the most wins: 100 × (0.5 + 0.3 + 0.2 × winLow(3 of 5)).
    const byPartner = benchmarkFiguresByPartner(rollups, MARCH);
    expect(byPartner.get('p7')?.qualityScore).toBeCloseTo(
      scores.find((score) => score.id === 'p7')!.score,
      12,
    );
    expect(byPartner.get('p7')?.qualityScore).toBeGreaterThan(80);
    // In its own scope a partner's quality scores are its reps' (one rep here: relative to itself).
    const own = computeKpis(rollups.get('p1')!, {
      range: rangeOf(MARCH),
      scope: { kind: 'partner', id: 'p1' },
    });
    expect(own.qualityScores.map((score) => score.id)).toEqual(['p1-r1']);
    expect(byPartner.get('p1')?.qualityScore).not.toBeCloseTo(own.qualityScores[0]!.score, 2);
  });

  it('leaves a partner without closed deals out of win rate (and quality score) but counts it where it has figures', () => {
    // p9 found leads and opened deals in March but closed none.
    const plans = [...EIGHT.slice(0, 5), { id: 'p9', wins: [], cycleDays: 0, losses: 0, open: 2, leads: 4 }];
    const figures = benchmarkFiguresByPartner(rollupsOf(plans), MARCH).get('p9');
    expect(figures).toEqual({
      winRate: null,
      averageDealSize: null,
      closeRate: 0,
      dealVelocity: null,
      averageCycleDays: null,
      qualityScore: null,
    });
    const benchmark = computeBenchmark(rollupsOf(plans), { period: MARCH });
    expect(benchmark.metrics.winRate).toEqual({
      partners: 5,
      lowerQuartile: 0.25,
      median: 0.5,
      upperQuartile: 0.75,
    });
    expect(benchmark.metrics.qualityScore.partners).toBe(5);
    // Close rates sorted 0 (p5), 0 (p9), 0.2, 1/3, 0.5, 0.6; h = 5p: Q1 at 1.25: 0 + 0.25 × 0.2 = 0.05;
    // median at 2.5: (0.2 + 1/3) / 2 = 4/15; Q3 at 3.75: 1/3 + 0.75 × (1/2 − 1/3) = 11/24.
    expectQuartiles(benchmark.metrics.closeRate, 6, [0.05, 4 / 15, 11 / 24]);
  });

  it("leaves out a partner whose deals closed outside the period, and another partner's series in a rollup", () => {
    const rollups = rollupsOf(EIGHT.slice(0, 5));
    // A sixth partner whose only deals are of February: no figure for March.
    const february = deal({
      partnerId: 'p6',
      repId: 'p6-r1',
      stage: 'won',
      createdAt: at('2026-02-01'),
      closedAt: at('2026-02-10'),
    });
    rollups.set('p6', buildRollup(KOLKATA, [], [february]));
    // p1's rollup smuggling in a series of p8: it must not count for p8 nor twice for anyone.
    const smuggled = rollupsOf([EIGHT[0]!, EIGHT[7]!]);
    const p1 = smuggled.get('p1')!;
    for (const [key, series] of smuggled.get('p8')!.series) p1.series.set(key, series);
    rollups.set('p1', p1);
    const benchmark = computeBenchmark(rollups, { period: MARCH });
    expect(benchmark).toEqual(computeBenchmark(rollupsOf(EIGHT.slice(0, 5)), { period: MARCH }));
    expect(benchmarkFiguresByPartner(rollups, MARCH).get('p6')?.winRate).toBeNull();
  });

  it('leaves out a rollup folded in another time zone than the period', () => {
    const rollups = rollupsOf(EIGHT.slice(0, 5));
    rollups.set('p6', rollupsOf([EIGHT[5]!], 'UTC').get('p6')!);
    expect(benchmarkFiguresByPartner(rollups, MARCH).has('p6')).toBe(false);
    expect(computeBenchmark(rollups, { period: MARCH }).metrics.winRate.partners).toBe(5);
  });

  it('does not depend on the order of the partners or of their records', () => {
    const expected = computeBenchmark(rollupsOf(EIGHT), { period: MARCH });
    for (const seed of [1, 2, 3, 4, 5]) {
      const partners = shuffled(EIGHT, seed);
      const rollups = new Map(
        partners.map((plan) => {
          const { leads, deals } = recordsOf(plan);
          return [plan.id, buildRollup(KOLKATA, shuffled(leads, seed), shuffled(deals, seed + 100))];
        }),
      );
      expect(computeBenchmark(rollups, { period: MARCH })).toEqual(expected);
    }
  });

  it('names no partner and publishes no figure of one where there are too few', () => {
    const four = JSON.stringify(
      encodeBenchmark(computeBenchmark(rollupsOf(EIGHT.slice(0, 4)), { period: MARCH })),
    );
    expect(four).not.toMatch(/p\d/);
    expect(four).not.toMatch(/Quartile|median/);
    const eight = JSON.stringify(encodeBenchmark(computeBenchmark(rollupsOf(EIGHT), { period: MARCH })));
    expect(eight).not.toMatch(/"p\d/);
  });

  it('refuses a period that is not one', () => {
    expect(() =>
      computeBenchmark(rollupsOf(EIGHT), { period: { from: '2026-04-01', to: '2026-03-01', tz: KOLKATA } }),
    ).toThrow(RangeError);
    expect(() =>
      computeBenchmark(rollupsOf(EIGHT), {
        period: { from: '2026-03-01', to: '2026-04-01', tz: 'Mars/Olympus' },
      }),
    ).toThrow(RangeError);
  });

  it('on generated programs: ordered quartiles, counts ≤ partners, and a published form that decodes to itself', () => {
    let publishedFigures = 0;
    fc.assert(
      fc.property(
        programArb({ maxPartners: 8, maxLeads: 40, maxDeals: 60 }).chain((program) =>
          fc.tuple(fc.constant(program), periodArb(program)),
        ),
        ([program, period]) => {
          const rollups = new Map(
            program.partners.map((id) => [
              id,
              buildRollup(
                period.tz,
                program.leads.filter((one) => one.partnerId === id),
                program.deals.filter((one) => one.partnerId === id),
              ),
            ]),
          );
          const benchmark = computeBenchmark(rollups, { period });
          for (const metric of BENCHMARK_METRICS) {
            const figure = benchmark.metrics[metric];
            expect(figure.partners).toBeLessThanOrEqual(program.partners.length);
            if ('notEnough' in figure) expect(figure.partners).toBeLessThan(MIN_PARTNERS_FOR_BENCHMARK);
            else {
              publishedFigures += 1;
              expect(figure.lowerQuartile <= figure.median && figure.median <= figure.upperQuartile).toBe(
                true,
              );
            }
          }
          expect(decodeBenchmark(JSON.stringify(encodeBenchmark(benchmark)))).toEqual(benchmark);
        },
      ),
      { seed: 11, numRuns: 60 },
    );
    // Not vacuous: some generated programs have enough partners with figures.
    expect(publishedFigures).toBeGreaterThan(0);
  });
});

function rangeOf(period: Period) {
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error('fixture period');
  return parsed.range;
}

// ---------------------------------------------------------------------------------------------

describe('benchmarkPosition', () => {
  const winRate: BenchmarkFigure = { partners: 8, lowerQuartile: 0.25, median: 0.5, upperQuartile: 0.75 };
  const cycle: BenchmarkFigure = { partners: 7, lowerQuartile: 3, median: 5, upperQuartile: 9 };

  it('says which KPIs are better higher: all but the sales cycle', () => {
    expect(BENCHMARK_METRICS.filter((metric) => !BENCHMARK_HIGHER_IS_BETTER[metric])).toEqual([
      'averageCycleDays',
    ]);
  });

  it('places a figure where higher is better (beyond a quartile is strict; the median counts as above)', () => {
    const position = (figure: number) => benchmarkPosition('winRate', figure, winRate);
    expect(position(0.8)).toBe('top-quarter');
    expect(position(0.75)).toBe('above-median');
    expect(position(0.5)).toBe('above-median');
    expect(position(0.4)).toBe('below-median');
    expect(position(0.25)).toBe('below-median');
    expect(position(0.1)).toBe('bottom-quarter');
  });

  it('turns the scale round where lower is better (the sales cycle)', () => {
    const position = (figure: number) => benchmarkPosition('averageCycleDays', figure, cycle);
    expect(position(2)).toBe('top-quarter');
    expect(position(3)).toBe('above-median');
    expect(position(5)).toBe('above-median');
    expect(position(6)).toBe('below-median');
    expect(position(9)).toBe('below-median');
    expect(position(10)).toBe('bottom-quarter');
    // The same figures read as higher-is-better land the other way round.
    expect(benchmarkPosition('averageDealSize', 10, cycle)).toBe('top-quarter');
    expect(benchmarkPosition('averageDealSize', 2, cycle)).toBe('bottom-quarter');
  });

  it('has no position without a figure or without enough partners', () => {
    expect(benchmarkPosition('winRate', null, winRate)).toBeUndefined();
    expect(benchmarkPosition('winRate', Number.NaN, winRate)).toBeUndefined();
    expect(benchmarkPosition('winRate', 0.9, { partners: 4, notEnough: true })).toBeUndefined();
  });

  it("places the 8 partners' own cycles as the aggregates say", () => {
    const rollups = rollupsOf(EIGHT);
    const benchmark = computeBenchmark(rollups, { period: MARCH });
    const positions = Object.fromEntries(
      [...benchmarkFiguresByPartner(rollups, MARCH)].map(([id, figures]) => [
        id,
        benchmarkPosition('averageCycleDays', figures.averageCycleDays, benchmark.metrics.averageCycleDays),
      ]),
    );
    // Cycles 2, 4, 5, 10, –, 8, 20, 1 against Q1 3, median 5, Q3 9.
    expect(positions).toEqual({
      p1: 'top-quarter',
      p2: 'above-median',
      p3: 'above-median',
      p4: 'bottom-quarter',
      p5: undefined,
      p6: 'below-median',
      p7: 'bottom-quarter',
      p8: 'top-quarter',
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('encodeBenchmark / decodeBenchmark', () => {
  const benchmark: Benchmark = computeBenchmark(rollupsOf(EIGHT.slice(0, 5)), { period: MARCH });
  const good = (): BenchmarkJson => JSON.parse(JSON.stringify(encodeBenchmark(benchmark))) as BenchmarkJson;

  it('round-trips, as an object and as JSON text', () => {
    const encoded = encodeBenchmark(benchmark);
    expect(encoded.version).toBe(1);
    expect(Object.keys(encoded.metrics)).toEqual([...BENCHMARK_METRICS]);
    expect(decodeBenchmark(good())).toEqual(benchmark);
    expect(decodeBenchmark(JSON.stringify(encoded))).toEqual(benchmark);
  });

  it('publishes only the fields of a figure', () => {
    const extra = {
      ...benchmark,
      metrics: { ...benchmark.metrics, winRate: { ...benchmark.metrics.winRate, partnerIds: ['p1'] } },
    };
    expect(JSON.stringify(encodeBenchmark(extra))).not.toContain('partnerIds');
  });

  type Mutation = [string, (json: BenchmarkJson & Record<string, unknown>) => unknown];
  const figure = (json: BenchmarkJson, metric: BenchmarkMetric) =>
    json.metrics[metric] as unknown as Record<string, unknown>;
  const mutations: Mutation[] = [
    ['no version', (json) => void delete (json as Partial<BenchmarkJson>).version],
    ['another version', (json) => void ((json as Record<string, unknown>).version = 2)],
    ['an unknown top-level key', (json) => void (json.partners = ['p1'])],
    ['no period', (json) => void delete (json as Partial<BenchmarkJson>).period],
    ['a period without tz', (json) => void delete (json.period as Partial<Period>).tz],
    ['a date that does not exist', (json) => void (json.period.to = '2026-02-30')],
    ['an unknown time zone', (json) => void (json.period.tz = 'Mars/Olympus')],
    ['a period ending before it starts', (json) => void (json.period.from = '2026-05-01')],
    [
      'a missing metric',
      (json) => void delete (json.metrics as Partial<BenchmarkJson['metrics']>).qualityScore,
    ],
    [
      'an unknown metric',
      (json) => void ((json.metrics as Record<string, unknown>).revenue = { partners: 1, notEnough: true }),
    ],
    ['metrics as an array', (json) => void ((json as Record<string, unknown>).metrics = [])],
    ['a figure without median', (json) => void delete figure(json, 'winRate').median],
    ['a median of NaN', (json) => void (figure(json, 'winRate').median = Number.NaN)],
    [
      'an infinite upper quartile',
      (json) => void (figure(json, 'closeRate').upperQuartile = Number.POSITIVE_INFINITY),
    ],
    ['a quartile as text', (json) => void (figure(json, 'winRate').lowerQuartile = '0.25')],
    [
      'unordered quartiles',
      (json) => void Object.assign(figure(json, 'winRate'), { lowerQuartile: 0.75, upperQuartile: 0.25 }),
    ],
    ['a median above the upper quartile', (json) => void (figure(json, 'winRate').median = 0.8)],
    ['a win rate above 1', (json) => void (figure(json, 'winRate').upperQuartile = 1.5)],
    ['a negative quality score', (json) => void (figure(json, 'qualityScore').lowerQuartile = -1)],
    ['a negative partner count', (json) => void (figure(json, 'averageDealSize').partners = -1)],
    ['a fractional partner count', (json) => void (figure(json, 'averageDealSize').partners = 2.5)],
    ['a partner count as text', (json) => void (figure(json, 'winRate').partners = '5')],
    ['aggregates of 4 partners', (json) => void (figure(json, 'winRate').partners = 4)],
    ['"not enough" with 5 partners', (json) => void (figure(json, 'averageDealSize').partners = 5)],
    ['"not enough" that is false', (json) => void (figure(json, 'averageDealSize').notEnough = false)],
    ['"not enough" carrying a median', (json) => void (figure(json, 'averageDealSize').median = 30_000)],
    ['a figure that is null', (json) => void ((json.metrics as Record<string, unknown>).closeRate = null)],
  ];

  it.each(mutations)('refuses %s', (_, mutate) => {
    const json = good() as BenchmarkJson & Record<string, unknown>;
    mutate(json);
    expect(decodeBenchmark(json)).toBeUndefined();
  });

  it('refuses what is not a benchmark at all, without throwing', () => {
    // All three keys, one of them a getter that throws (no JSON has one, but a caller might pass anything).
    const hostile: Record<string, unknown> = { period: good().period, metrics: good().metrics };
    Object.defineProperty(hostile, 'version', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    for (const value of [
      undefined,
      null,
      42,
      'not json',
      '{"version":1',
      '[]',
      [],
      new Map(),
      hostile,
      Object.assign(Object.create({ inherited: 1 }) as object, good()),
    ]) {
      expect(() => decodeBenchmark(value)).not.toThrow();
      expect(decodeBenchmark(value)).toBeUndefined();
    }
  });
});

describe('computeBenchmarksForEach — each partner sees the others', () => {
  it('leaves the viewer’s own figure out, so moving it cannot move what it sees', () => {
    const rollups = rollupsOf(EIGHT);
    const each = computeBenchmarksForEach(rollups, { period: MARCH });
    expect([...each.keys()].sort()).toEqual(EIGHT.map((plan) => plan.id).sort());
    const others = new Map([...rollups].filter(([id]) => id !== 'p1'));
    expect(each.get('p1')).toEqual(computeBenchmark(others, { period: MARCH }));
    // p1 turns its March around (all won, large): what it sees does not change at all.
    const moved = rollupsOf(
      EIGHT.map((plan) => (plan.id === 'p1' ? { ...plan, wins: [9_000_00, 9_000_00], losses: 0 } : plan)),
    );
    expect(computeBenchmarksForEach(moved, { period: MARCH }).get('p1')!.metrics.winRate).toEqual(
      each.get('p1')!.metrics.winRate,
    );
    expect(published(each.get('p1')!.metrics.winRate).partners).toBe(7);
  });

  it('sorts each metric once and leaves each viewer out by index: the same as aggregating the others, partner by partner', () => {
    const planArb = fc.record({
      wins: fc.array(
        fc.integer({ min: 1, max: 9_000 }).map((rupees) => rupees * 100),
        { maxLength: 4 },
      ),
      cycleDays: fc.integer({ min: 0, max: 20 }),
      losses: fc.integer({ min: 0, max: 4 }),
      open: fc.integer({ min: 0, max: 2 }),
      leads: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(planArb, { minLength: 1, maxLength: 14 }), (drawn) => {
        const plans = drawn.map((plan, i) => ({ ...plan, id: `p${i + 1}` }));
        const rollups = rollupsOf(plans);
        const figures = benchmarkFiguresByPartner(rollups, MARCH);
        const each = computeBenchmarksForEach(rollups, { period: MARCH }, [
          ...plans.map((plan) => plan.id),
          'p-none',
        ]);
        for (const viewer of [...plans.map((plan) => plan.id), 'p-none']) {
          const others = [...figures].filter(([id]) => id !== viewer).map(([, one]) => one);
          for (const metric of BENCHMARK_METRICS) {
            expect(each.get(viewer)!.metrics[metric]).toEqual(
              benchmarkFigure(
                others.map((one) => one[metric]).filter((value): value is number => value !== null),
              ),
            );
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('gives a partner without a rollup the aggregates of all the others', () => {
    const rollups = rollupsOf(EIGHT);
    const each = computeBenchmarksForEach(rollups, { period: MARCH }, ['p9']);
    expect(each.get('p9')).toEqual(computeBenchmark(rollups, { period: MARCH }));
  });
});
