/**
 * The program benchmark: where a partner stands among the partners of its program, shown only
 * through aggregates. The partners of one program compete with each other, so a partner never sees
 * another partner's figure; it sees, for each partner-level KPI, the program's lower quartile,
 * median and upper quartile for the period, computed by the server from the partners' rollups and
 * published only when at least MIN_PARTNERS_FOR_BENCHMARK partners have a figure for that KPI and
 * period ("not enough partners to compare" otherwise).
 *
 * Each partner's figure is the one `computeKpis` gives it:
 * - win rate, average deal size, close rate, deal velocity, average cycle: the partner's own KPI in
 *   scope `partner:<id>`;
 * - quality score: the partner's score in scope `all` (KPI 7), since quality scores are relative
 *   among the partners (revenue and wins against the program's maxima).
 * A partner whose figure is null (no closed deal for the win rate, no prospect for the close rate…)
 * is left out of that KPI's aggregates and counted in the others. See `benchmarkFiguresByPartner`
 * for when a partner has a quality score.
 *
 * Pure: no clock (nothing here depends on the time; the rollups already hold "open now"), no store,
 * no document. `encodeBenchmark` / `decodeBenchmark` give the JSON-safe form the server publishes and
 * the checks a device applies before showing it.
 */
import type { Series, Rollup } from './buckets';
import { parsePeriod, type DayRange, type Period } from './calendar';
import { computeKpis } from './kpis';

/** The partner-level KPIs of the benchmark, in display order. */
export const BENCHMARK_METRICS = [
  'winRate',
  'averageDealSize',
  'closeRate',
  'dealVelocity',
  'averageCycleDays',
  'qualityScore',
] as const;
export type BenchmarkMetric = (typeof BENCHMARK_METRICS)[number];

/**
 * How many partners must have a figure for a KPI before its aggregates are published.
 *
 * With fewer, the quartiles come close to naming individual partners' figures: the quartiles and
 * median of n values are weighted means of at most two of them, so for n ≤ 4 a partner that knows
 * its own figure can solve for every other partner's (with 3 partners: median = x₂, lower quartile
 * = (x₁ + x₂) ÷ 2, upper = (x₂ + x₃) ÷ 2; with 2, the median is the mean of its figure and the other
 * one). From 5 on, three aggregates no longer determine the figures (with exactly 5 they are the
 * 2nd, 3rd and 4th values, of partners nobody is told the names of; the best and the worst stay
 * hidden).
 */
export const MIN_PARTNERS_FOR_BENCHMARK = 5;

/** Whether a higher figure is the better one, per KPI (a shorter sales cycle is better). */
export const BENCHMARK_HIGHER_IS_BETTER: Readonly<Record<BenchmarkMetric, boolean>> = {
  winRate: true,
  averageDealSize: true,
  closeRate: true,
  dealVelocity: true,
  averageCycleDays: false,
  qualityScore: true,
};

/** A KPI's published aggregates: enough partners had a figure. */
export interface BenchmarkQuartiles {
  /** How many partners had a (non-null) figure; at least MIN_PARTNERS_FOR_BENCHMARK. */
  partners: number;
  lowerQuartile: number;
  median: number;
  upperQuartile: number;
}

/** A KPI with too few partners to compare: only the count is published, no figure at all. */
export interface BenchmarkNotEnough {
  /** How many partners had a (non-null) figure; below MIN_PARTNERS_FOR_BENCHMARK. */
  partners: number;
  notEnough: true;
}

export type BenchmarkFigure = BenchmarkQuartiles | BenchmarkNotEnough;

/**
 * The benchmark of a period. Units are those of `computeKpis`:
 * - `winRate`, `closeRate`: ratios in [0, 1];
 * - `averageDealSize`: money in **minor units** (paise, cents), fractional (an average);
 * - `dealVelocity`: money in **minor units** per day;
 * - `averageCycleDays`: days (fractional);
 * - `qualityScore`: points in [0, 100].
 * Money assumes, like the rest of the KPIs, that the program's deals are in one currency; turn it
 * into major units (`toMajor`) only for display.
 */
export interface Benchmark {
  period: Period;
  metrics: Record<BenchmarkMetric, BenchmarkFigure>;
}

export interface BenchmarkQuery {
  /** The period, in the time zone the rollups were folded in. */
  period: Period;
}

/** One partner's figures, as the benchmark sees them (null: no figure, left out of that KPI). */
export type PartnerBenchmarkFigures = Record<BenchmarkMetric, number | null>;

export function isPublished(figure: BenchmarkFigure): figure is BenchmarkQuartiles {
  return !('notEnough' in figure);
}

/** Whether a value can be a figure of the KPI at all (rates in [0, 1], scores in [0, 100], the rest ≥ 0). */
function inDomain(metric: BenchmarkMetric, value: number): boolean {
  if (!Number.isFinite(value) || value < 0) return false;
  if (metric === 'winRate' || metric === 'closeRate') return value <= 1;
  if (metric === 'qualityScore') return value <= 100;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Quartiles

/**
 * The p-quantile (0 ≤ p ≤ 1) of values sorted ascending, by linear interpolation between the
 * closest ranks — Hyndman & Fan's type 7, the default of R's `quantile` and of numpy's
 * `percentile`: with n values x₀ ≤ … ≤ xₙ₋₁ (0-based), h = (n − 1)·p, and
 * Q(p) = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
 * So the median of an even count is the mean of the middle two, Q(0) the least and Q(1) the most.
 * The result is kept within [x⌊h⌋, x⌊h⌋₊₁] (floating point could step a hair outside), which keeps
 * quantiles of one list ordered. Throws a RangeError for no values or p outside [0, 1].
 */
export function quantile(sorted: readonly number[], p: number): number {
  return quantileOf((k) => sorted[k]!, sorted.length, p);
}

/** `quantile` of `length` sorted values read through `at` (the k-th smallest). */
function quantileOf(at: (k: number) => number, length: number, p: number): number {
  if (length === 0) throw new RangeError('quantile of no values');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantile p must be in [0, 1], not ${p}`);
  const h = (length - 1) * p;
  const lowIndex = Math.floor(h);
  const low = at(lowIndex);
  const high = at(Math.min(lowIndex + 1, length - 1));
  const value = low + (h - lowIndex) * (high - low);
  return Math.min(Math.max(value, low), high);
}

/** The aggregates of one KPI's figures (the partners with a figure, in any order). */
export function benchmarkFigure(values: readonly number[]): BenchmarkFigure {
  return figureWithout(
    [...values].sort((a, b) => a - b),
    -1,
  );
}

/** The aggregates of sorted figures without the one at index `skip` (none when -1): one partner's view, in O(1). */
function figureWithout(sorted: readonly number[], skip: number): BenchmarkFigure {
  const partners = sorted.length - (skip >= 0 ? 1 : 0);
  if (partners < MIN_PARTNERS_FOR_BENCHMARK) return { partners, notEnough: true };
  const at = skip < 0 ? (k: number) => sorted[k]! : (k: number) => sorted[k < skip ? k : k + 1]!;
  return {
    partners,
    lowerQuartile: quantileOf(at, partners, 0.25),
    median: quantileOf(at, partners, 0.5),
    upperQuartile: quantileOf(at, partners, 0.75),
  };
}

// ---------------------------------------------------------------------------------------------
// Computing it

/** The range of a period, or a RangeError naming what is wrong with it. */
function rangeOf(period: Period): DayRange {
  const parsed = parsePeriod(period);
  if (!parsed.ok)
    throw new RangeError(
      `Bad benchmark period: ${parsed.problems.map((problem) => problem.message).join(' ')}`,
    );
  return parsed.range;
}

/**
 * Each partner's figures for the period, by partner id (the server's input to the aggregates; the
 * server may also hand each partner its own row, never another's).
 *
 * `rollups` holds each partner's rollup under its partner id, as the program document does. Only a
 * rollup's series of that partner are read (a series of another partner would be counted twice),
 * and a rollup folded in another time zone than the period's is left out, as the vendor's console
 * leaves it out (its buckets cannot be cut at the period's local midnights; it is refolded soon).
 * A partner left out that way has no row.
 *
 * A partner has a quality score only when at least one of its deals was won or lost in the period:
 * the score measures those deals (revenue and wins of Won(P), the Wilson bound over won + lost), so
 * a partner without any would score 0 by absence, not by standing, and would drag the program's
 * quartiles down. Leaving it out changes no other partner's score (it raises neither maximum).
 */
export function benchmarkFiguresByPartner(
  rollups: ReadonlyMap<string, Rollup>,
  period: Period,
): Map<string, PartnerBenchmarkFigures> {
  const range = rangeOf(period);
  // Every partner's own series in one rollup, for the quality scores of scope `all`. The series are
  // shared, not copied: computing KPIs only reads them (and caches their query index).
  const program: Rollup = { tz: period.tz, series: new Map<string, Series>() };
  const own = new Map<string, Rollup>();
  for (const [partnerId, rollup] of rollups) {
    if (rollup.tz !== period.tz) continue;
    const series = new Map<string, Series>();
    for (const [key, one] of rollup.series) {
      if (one.partnerId !== partnerId) continue;
      series.set(key, one);
      program.series.set(`${partnerId}\u0000${key}`, one);
    }
    own.set(partnerId, { tz: rollup.tz, series });
  }
  const quality = new Map<string, number>();
  for (const score of computeKpis(program, { range, scope: { kind: 'all' } }).qualityScores) {
    if (score.winRate !== null) quality.set(score.id, score.score);
  }
  const figures = new Map<string, PartnerBenchmarkFigures>();
  for (const [partnerId, rollup] of own) {
    const kpis = computeKpis(rollup, { range, scope: { kind: 'partner', id: partnerId } });
    const raw: PartnerBenchmarkFigures = {
      winRate: kpis.winRate,
      averageDealSize: kpis.averageDealSize,
      closeRate: kpis.closeRate,
      dealVelocity: kpis.dealVelocity,
      averageCycleDays: kpis.averageCycleDays,
      qualityScore: quality.get(partnerId) ?? null,
    };
    // A figure outside its KPI's domain (NaN, negative…) can only come from a corrupted rollup:
    // it is left out like a null rather than spoil the program's aggregates.
    for (const metric of BENCHMARK_METRICS) {
      const value = raw[metric];
      if (value !== null && !inDomain(metric, value)) raw[metric] = null;
    }
    figures.set(partnerId, raw);
  }
  return figures;
}

/**
 * The program benchmark of a period from every partner's rollup (partner id → rollup; pass the
 * partners to compare, e.g. without deleted ones). The result names no partner and holds no
 * partner's figure except through the aggregates; it does not depend on the order of the partners
 * or of their series. Throws a RangeError for a period that is not valid (see `parsePeriod`).
 */
export function computeBenchmark(rollups: ReadonlyMap<string, Rollup>, query: BenchmarkQuery): Benchmark {
  return aggregate([...benchmarkFiguresByPartner(rollups, query.period).values()], query.period);
}

/**
 * The benchmark each of `viewers` (default: the partners with a rollup) sees: the aggregates of the
 * *other* partners' figures, by partner id (at least MIN_PARTNERS_FOR_BENCHMARK others per KPI). A partner's own figure never enters what it
 * sees, so moving its own figure (a run of made-up lost deals, then won ones) cannot slide the
 * quartiles over the others' figures one by one: with everyone's figures in, five partners' type-7
 * quartiles are the 2nd, 3rd and 4th values, and a partner that puts itself first, then last, reads
 * all four competitors' figures in two publications. Quality scores stay relative to the maxima
 * of every partner (KPI 7), its own included.
 */
export function computeBenchmarksForEach(
  rollups: ReadonlyMap<string, Rollup>,
  query: BenchmarkQuery,
  viewers: Iterable<string> = rollups.keys(),
): Map<string, Benchmark> {
  const byPartner = benchmarkFiguresByPartner(rollups, query.period);
  // Each metric's figures sorted once; each viewer's aggregates then leave its own figure out by
  // index (a thousand partners: a thousand sorts fewer).
  const sorted = Object.fromEntries(
    BENCHMARK_METRICS.map((metric) => [
      metric,
      [...byPartner.values()]
        .map((figures) => figures[metric])
        .filter((value): value is number => value !== null)
        .sort((a, b) => a - b),
    ]),
  ) as Record<BenchmarkMetric, number[]>;
  const { from, to, tz } = query.period;
  const benchmarks = new Map<string, Benchmark>();
  for (const partnerId of viewers) {
    const own = byPartner.get(partnerId);
    const metrics = Object.fromEntries(
      BENCHMARK_METRICS.map((metric) => {
        const figure = own?.[metric] ?? null;
        return [
          metric,
          figureWithout(sorted[metric], figure === null ? -1 : indexIn(sorted[metric], figure)),
        ];
      }),
    ) as Record<BenchmarkMetric, BenchmarkFigure>;
    benchmarks.set(partnerId, { period: { from, to, tz }, metrics });
  }
  return benchmarks;
}

/** An index of `value` in ascending `sorted` (any of equal ones: they are interchangeable). */
function indexIn(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else if (sorted[middle]! > value) high = middle - 1;
    else return middle;
  }
  return sorted.indexOf(value);
}

function aggregate(byPartner: readonly PartnerBenchmarkFigures[], { from, to, tz }: Period): Benchmark {
  const metrics = Object.fromEntries(
    BENCHMARK_METRICS.map((metric) => {
      const values = byPartner
        .map((figures) => figures[metric])
        .filter((value): value is number => value !== null);
      return [metric, benchmarkFigure(values)];
    }),
  ) as Record<BenchmarkMetric, BenchmarkFigure>;
  return { period: { from, to, tz }, metrics };
}

// ---------------------------------------------------------------------------------------------
// A partner's position

export type BenchmarkPosition = 'top-quarter' | 'above-median' | 'below-median' | 'bottom-quarter';

/**
 * Where a partner's own figure of a KPI stands against the published aggregates, "better" being
 * higher or lower as BENCHMARK_HIGHER_IS_BETTER says:
 * - `top-quarter`: strictly better than the upper quartile (the lower one for a shorter-is-better KPI);
 * - `bottom-quarter`: strictly worse than the lower quartile (the upper one, likewise);
 * - `above-median`: otherwise, and at least as good as the median (the median itself included);
 * - `below-median`: otherwise.
 * Undefined when the partner has no figure (null or not finite) or the KPI has not enough partners.
 */
export function benchmarkPosition(
  metric: BenchmarkMetric,
  figure: number | null,
  published: BenchmarkFigure,
): BenchmarkPosition | undefined {
  if (figure === null || !Number.isFinite(figure) || !isPublished(published)) return undefined;
  // Turned so that higher is better: negate both the figure and the (then swapped) quartiles.
  const sign = BENCHMARK_HIGHER_IS_BETTER[metric] ? 1 : -1;
  const value = sign * figure;
  const [worse, median, better] =
    sign === 1
      ? [published.lowerQuartile, published.median, published.upperQuartile]
      : [-published.upperQuartile, -published.median, -published.lowerQuartile];
  if (value > better) return 'top-quarter';
  if (value < worse) return 'bottom-quarter';
  return value >= median ? 'above-median' : 'below-median';
}

// ---------------------------------------------------------------------------------------------
// The published form

/** The version of the published form; a device refuses any other. */
export const BENCHMARK_FORMAT_VERSION = 1;

/** The benchmark as the server publishes it (as JSON text): plain objects, finite numbers only. */
export interface BenchmarkJson {
  version: typeof BENCHMARK_FORMAT_VERSION;
  period: { from: string; to: string; tz: string };
  metrics: Record<BenchmarkMetric, BenchmarkQuartiles | BenchmarkNotEnough>;
}

function encodeFigure(figure: BenchmarkFigure): BenchmarkFigure {
  // Field by field, so that nothing else attached to a figure is ever published.
  return isPublished(figure)
    ? {
        partners: figure.partners,
        lowerQuartile: figure.lowerQuartile,
        median: figure.median,
        upperQuartile: figure.upperQuartile,
      }
    : { partners: figure.partners, notEnough: true };
}

/** The JSON-safe form of a benchmark (JSON.stringify it to store it). */
export function encodeBenchmark(benchmark: Benchmark): BenchmarkJson {
  const { from, to, tz } = benchmark.period;
  return {
    version: BENCHMARK_FORMAT_VERSION,
    period: { from, to, tz },
    metrics: Object.fromEntries(
      BENCHMARK_METRICS.map((metric) => [metric, encodeFigure(benchmark.metrics[metric])]),
    ) as BenchmarkJson['metrics'],
  };
}

type Plain = Record<string, unknown>;

/** A plain object (not an array, a Map, a Date…) with exactly these keys. */
function withKeys(value: unknown, keys: readonly string[]): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => Object.prototype.hasOwnProperty.call(value, key));
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function decodeFigure(metric: BenchmarkMetric, value: unknown): BenchmarkFigure | undefined {
  if (withKeys(value, ['partners', 'notEnough'])) {
    const { partners, notEnough } = value;
    if (notEnough !== true || !isCount(partners) || partners >= MIN_PARTNERS_FOR_BENCHMARK) return undefined;
    return { partners, notEnough: true };
  }
  if (withKeys(value, ['partners', 'lowerQuartile', 'median', 'upperQuartile'])) {
    const { partners, lowerQuartile, median, upperQuartile } = value;
    // Aggregates of fewer partners must not be shown even if a server published them.
    if (!isCount(partners) || partners < MIN_PARTNERS_FOR_BENCHMARK) return undefined;
    if (typeof lowerQuartile !== 'number' || typeof median !== 'number' || typeof upperQuartile !== 'number')
      return undefined;
    if (!inDomain(metric, lowerQuartile) || !inDomain(metric, median) || !inDomain(metric, upperQuartile))
      return undefined;
    if (!(lowerQuartile <= median && median <= upperQuartile)) return undefined;
    return { partners, lowerQuartile, median, upperQuartile };
  }
  return undefined;
}

function decodeOrThrow(value: unknown): Benchmark | undefined {
  const input: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!withKeys(input, ['version', 'period', 'metrics']) || input.version !== BENCHMARK_FORMAT_VERSION)
    return undefined;
  const { period, metrics } = input;
  if (!withKeys(period, ['from', 'to', 'tz'])) return undefined;
  const { from, to, tz } = period;
  if (
    typeof from !== 'string' ||
    typeof to !== 'string' ||
    typeof tz !== 'string' ||
    !parsePeriod({ from, to, tz }).ok
  )
    return undefined;
  if (!withKeys(metrics, BENCHMARK_METRICS)) return undefined;
  const decoded: Partial<Record<BenchmarkMetric, BenchmarkFigure>> = {};
  for (const metric of BENCHMARK_METRICS) {
    const figure = decodeFigure(metric, metrics[metric]);
    if (figure === undefined) return undefined;
    decoded[metric] = figure;
  }
  return { period: { from, to, tz }, metrics: decoded as Record<BenchmarkMetric, BenchmarkFigure> };
}

/**
 * A published benchmark read back, or undefined when it is malformed in any way — never a throw.
 * Takes the parsed object or its JSON text. Refused: another version; a missing or unknown key at
 * any level; a bad period (not calendar dates, not an IANA zone, not ending after it starts); a
 * partner count that is not an integer ≥ 0; a number that is not finite or outside its KPI's range
 * (rates in [0, 1], scores in [0, 100], the rest ≥ 0); quartiles out of order; aggregates of fewer
 * than MIN_PARTNERS_FOR_BENCHMARK partners, or "not enough" with that many.
 */
export function decodeBenchmark(value: unknown): Benchmark | undefined {
  try {
    return decodeOrThrow(value);
  } catch {
    // Bad JSON text, or a hostile object (a throwing getter): refused like any other malformed input.
    return undefined;
  }
}
