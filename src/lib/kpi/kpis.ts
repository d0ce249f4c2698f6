/**
 * The eight partner KPIs (kpi-spec.md v1), computed from rollup buckets for one period, scope and
 * optionally one channel. Money stays in integer minor units here; `report.ts` turns figures into
 * the report format. A ratio whose denominator is zero is null, never NaN.
 */
import { CHANNELS, OPEN_STAGES, type Channel, type OpenStage } from '../domain/schema';
import { seriesIndex, type Rollup, type Series } from './buckets';
import { Column, sumBetween, totalBefore } from './series-index';
import { DAY_MS, monthOfDay, monthStart, nextMonthStart, previousRange, type DayRange } from './calendar';
import { ratio, wilsonLowerBound } from './stats';

export type Scope = { kind: 'all' } | { kind: 'partner'; id: string } | { kind: 'rep'; id: string };

export function parseScope(text: string): Scope | null {
  if (text === 'all') return { kind: 'all' };
  const match = /^(partner|rep):(.+)$/.exec(text);
  if (!match || !match[2]) return null;
  return { kind: match[1] as 'partner' | 'rep', id: match[2] };
}

export function formatScope(scope: Scope): string {
  return scope.kind === 'all' ? 'all' : `${scope.kind}:${scope.id}`;
}

export interface KpiQuery {
  range: DayRange;
  scope: Scope;
  /** Only records of this channel, when given. */
  channel?: Channel;
  /**
   * The day the figures are read on (a local day number in the rollup's zone): an open deal is
   * overdue when it was due before this day, or before the period's end when that comes first.
   * Without it, before the period's end (kpi-spec.md); screens pass today, so that a deal due later
   * this month is not called overdue.
   */
  today?: number;
}

export interface ChannelFigures {
  prospects: number;
  converted: number;
  won: number;
  lost: number;
  revenue: number;
  closeRate: number | null;
  winRate: number | null;
  averageDealSize: number | null;
  revenueShare: number | null;
}

export interface StageFigures {
  count: number;
  value: number;
}

export interface PipelineFigures {
  count: number;
  value: number;
  weighted: number;
  overdue: number;
  lostToCompetitor: number;
  byStage: Record<OpenStage, StageFigures>;
}

export interface MonthCloseRate {
  month: string;
  prospects: number;
  converted: number;
  closeRate: number | null;
}

export interface QualityScore {
  id: string;
  score: number;
  won: number;
  revenue: number;
  winRate: number | null;
  winLow: number;
}

/** All eight KPIs for one query; money in minor units. */
export interface KpiFigures {
  range: DayRange;
  scope: Scope;
  channel?: Channel;
  averageDealSize: number | null;
  dealCount: number;
  lostCount: number;
  revenue: number;
  pipeline: PipelineFigures;
  channels: Record<Channel, ChannelFigures>;
  prospects: number;
  converted: number;
  closeRate: number | null;
  closeRateByMonth: MonthCloseRate[];
  winRate: number | null;
  averageCycleDays: number | null;
  dealVelocity: number | null;
  qualityScores: QualityScore[];
  dealSuccess: number | null;
  needsAttention: string[];
}

interface MonthTally {
  month: string;
  fromDay: number;
  toDay: number;
  prospects: number;
  converted: number;
}

interface Tally {
  prospects: number;
  converted: number;
  won: number;
  wonAmount: number;
  wonCycleMs: number;
  lost: number;
  lostToCompetitor: number;
}

const newTally = (): Tally => ({
  prospects: 0,
  converted: 0,
  won: 0,
  wonAmount: 0,
  wonCycleMs: 0,
  lost: 0,
  lostToCompetitor: 0,
});

function addToTally(tally: Tally, more: Tally): void {
  tally.prospects += more.prospects;
  tally.converted += more.converted;
  tally.won += more.won;
  tally.wonAmount += more.wonAmount;
  tally.wonCycleMs += more.wonCycleMs;
  tally.lost += more.lost;
  tally.lostToCompetitor += more.lostToCompetitor;
}

function inScope(series: Series, scope: Scope): boolean {
  if (scope.kind === 'all') return true;
  return scope.kind === 'partner' ? series.partnerId === scope.id : series.repId === scope.id;
}

/** The unit one level below the scope that a series belongs to (partners in `all`, reps otherwise). */
function unitOf(series: Series, scope: Scope): string {
  return scope.kind === 'all' ? series.partnerId : series.repId;
}

export function computeKpis(rollup: Rollup, query: KpiQuery): KpiFigures {
  const { range, scope, channel } = query;
  const { fromDay, toDay } = range;
  const overdueBefore = query.today === undefined ? toDay : Math.min(toDay, query.today);
  const total = newTally();
  const byChannel = Object.fromEntries(CHANNELS.map((c) => [c, newTally()])) as Record<Channel, Tally>;
  const byUnit = new Map<string, Tally>();
  const unitsWithRecords = new Set<string>();
  // Months overlapping the period, and for each day of the period the month it falls in.
  const months: MonthTally[] = [];
  const monthOfPeriodDay = new Int32Array(toDay - fromDay);
  for (let month = monthStart(fromDay); month < toDay; month = nextMonthStart(month)) {
    const end = Math.min(nextMonthStart(month), toDay);
    for (let day = Math.max(month, fromDay); day < end; day++)
      monthOfPeriodDay[day - fromDay] = months.length;
    months.push({ month: monthOfDay(month), fromDay: month, toDay: end, prospects: 0, converted: 0 });
  }
  const pipeline: PipelineFigures = {
    count: 0,
    value: 0,
    weighted: 0,
    overdue: 0,
    lostToCompetitor: 0,
    byStage: Object.fromEntries(OPEN_STAGES.map((s) => [s, { count: 0, value: 0 }])) as Record<
      OpenStage,
      StageFigures
    >,
  };
  let weightedTimes100 = 0;

  for (const series of rollup.series.values()) {
    if (!inScope(series, scope) || (channel !== undefined && series.channel !== channel)) continue;
    const index = seriesIndex(series);
    const unitId = unitOf(series, scope);
    let unit = byUnit.get(unitId);
    if (unit === undefined) byUnit.set(unitId, (unit = newTally()));
    if (index.hasRecords) unitsWithRecords.add(unitId);

    // The open pipeline: deals open now and created before the period's end.
    pipeline.overdue += totalBefore(index, Column.Overdue, overdueBefore);
    for (let stage = 0; stage < OPEN_STAGES.length; stage++) {
      const count = totalBefore(index, Column.OpenCount + stage, toDay);
      if (count === 0) continue;
      const value = totalBefore(index, Column.OpenAmount + stage, toDay);
      const figures = pipeline.byStage[OPEN_STAGES[stage]!];
      figures.count += count;
      figures.value += value;
      pipeline.count += count;
      pipeline.value += value;
      weightedTimes100 += totalBefore(index, Column.OpenWeighted + stage, toDay);
    }

    // Prospects created in the period, converted when won before its end.
    let converted = 0;
    const conversions = index.conversions;
    for (let i = 0; i < conversions.length; i += 3) {
      const day = conversions[i]!;
      if (day < fromDay || day >= toDay || day + conversions[i + 1]! >= toDay) continue;
      converted += conversions[i + 2]!;
      months[monthOfPeriodDay[day - fromDay]!]!.converted += conversions[i + 2]!;
    }
    for (const month of months)
      month.prospects += sumBetween(
        index,
        Column.Prospects,
        Math.max(month.fromDay, fromDay),
        Math.min(month.toDay, toDay),
      );

    const period: Tally = {
      prospects: sumBetween(index, Column.Prospects, fromDay, toDay),
      converted,
      won: sumBetween(index, Column.Won, fromDay, toDay),
      wonAmount: sumBetween(index, Column.WonAmount, fromDay, toDay),
      wonCycleMs: sumBetween(index, Column.WonCycleMs, fromDay, toDay),
      lost: sumBetween(index, Column.Lost, fromDay, toDay),
      lostToCompetitor: sumBetween(index, Column.LostToCompetitor, fromDay, toDay),
    };
    addToTally(total, period);
    addToTally(byChannel[series.channel], period);
    addToTally(unit, period);
  }
  pipeline.weighted = weightedTimes100 / 100;
  pipeline.lostToCompetitor = total.lostToCompetitor;

  const winRate = ratio(total.won, total.won + total.lost);
  const averageDealSize = ratio(total.wonAmount, total.won);
  const averageCycleDays = total.won === 0 ? null : total.wonCycleMs / total.won / DAY_MS;
  const dealVelocity =
    winRate === null || averageDealSize === null || averageCycleDays === null || averageCycleDays === 0
      ? null
      : (pipeline.count * winRate * averageDealSize) / averageCycleDays;

  const channels = Object.fromEntries(
    CHANNELS.map((c) => {
      const tally = byChannel[c];
      const figures: ChannelFigures = {
        prospects: tally.prospects,
        converted: tally.converted,
        won: tally.won,
        lost: tally.lost,
        revenue: tally.wonAmount,
        closeRate: ratio(tally.converted, tally.prospects),
        winRate: ratio(tally.won, tally.won + tally.lost),
        averageDealSize: ratio(tally.wonAmount, tally.won),
        revenueShare: ratio(tally.wonAmount, total.wonAmount),
      };
      return [c, figures];
    }),
  ) as Record<Channel, ChannelFigures>;

  // Quality and deal success rank the units that have any lead or deal in scope, whatever the period.
  for (const unitId of byUnit.keys()) if (!unitsWithRecords.has(unitId)) byUnit.delete(unitId);
  const qualityScores = rankQuality(byUnit);
  return {
    range,
    scope,
    ...(channel === undefined ? {} : { channel }),
    averageDealSize,
    dealCount: total.won,
    lostCount: total.lost,
    revenue: total.wonAmount,
    pipeline,
    channels,
    prospects: total.prospects,
    converted: total.converted,
    closeRate: ratio(total.converted, total.prospects),
    closeRateByMonth: months.map(({ month, prospects, converted }) => ({
      month,
      prospects,
      converted,
      closeRate: ratio(converted, prospects),
    })),
    winRate,
    averageCycleDays,
    dealVelocity,
    qualityScores,
    dealSuccess: winRate,
    needsAttention: scope.kind === 'all' ? partnersNeedingAttention(byUnit) : [],
  };
}

/** Quality score (KPI 7): revenue, wins and the Wilson lower bound of the win rate, weighted 50/30/20. */
function rankQuality(byUnit: Map<string, Tally>): QualityScore[] {
  let maxRevenue = 0;
  let maxWon = 0;
  for (const tally of byUnit.values()) {
    maxRevenue = Math.max(maxRevenue, tally.wonAmount);
    maxWon = Math.max(maxWon, tally.won);
  }
  const scores = [...byUnit].map(([id, tally]) => {
    const winLow = wilsonLowerBound(tally.won, tally.won + tally.lost);
    const score =
      100 *
      (0.5 * (maxRevenue === 0 ? 0 : tally.wonAmount / maxRevenue) +
        0.3 * (maxWon === 0 ? 0 : tally.won / maxWon) +
        0.2 * winLow);
    return {
      id,
      score,
      won: tally.won,
      revenue: tally.wonAmount,
      winRate: ratio(tally.won, tally.won + tally.lost),
      winLow,
    };
  });
  return scores.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Deal success (KPI 8) across partners: a partner whose win rate is below half the median of the
 * partners' win rates (partners with no closed deal left out) pursues deals it loses while others
 * win theirs.
 */
function partnersNeedingAttention(byPartner: Map<string, Tally>): string[] {
  const rates = [...byPartner]
    .map(([id, tally]) => ({ id, rate: ratio(tally.won, tally.won + tally.lost) }))
    .filter((entry): entry is { id: string; rate: number } => entry.rate !== null);
  if (rates.length === 0) return [];
  const sorted = rates.map((entry) => entry.rate).sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return rates
    .filter((entry) => entry.rate < median / 2)
    .map((entry) => entry.id)
    .sort();
}

/** The KPIs of a period and of the period before it (`previousRange`, unless given). */
export function computeKpisWithPrevious(
  rollup: Rollup,
  query: KpiQuery,
  previous: DayRange = previousRange(query.range),
) {
  return {
    current: computeKpis(rollup, query),
    previous: computeKpis(rollup, { ...query, range: previous }),
  };
}

/** How young a period's prospects are against the typical sales cycle, when too young to judge. */
export interface TooEarly {
  /** The most days any prospect of the period has had to buy. */
  ageDays: number;
  /** The typical sales cycle, in days. */
  cycleDays: number;
}

/**
 * Whether a period's close rate is too early to judge on `today`: its prospects count as converted
 * only when won before the period's end, so the oldest of them has had `min(today + 1, toDay) −
 * fromDay` days; when that is less than the typical sales cycle, most have not had time to buy and a
 * low close rate says nothing yet. Undefined (judge it) when there is no typical cycle to go by.
 */
export function closeRateTooEarly(
  range: DayRange,
  today: number,
  typicalCycleDays: number | null,
): TooEarly | undefined {
  if (typicalCycleDays === null || !(typicalCycleDays > 0)) return undefined;
  const ageDays = Math.max(0, Math.min(today + 1, range.toDay) - range.fromDay);
  return ageDays < typicalCycleDays ? { ageDays, cycleDays: typicalCycleDays } : undefined;
}

/** A period and what it is compared with, read on `today` (see `comparedRange`). */
export interface ComparedRanges {
  range: DayRange;
  previous: DayRange;
  today: number;
}

/** A period's KPIs, and whether its close rate is too early to judge. */
export interface CurrentFigures {
  current: KpiFigures;
  closeRateTooEarly?: TooEarly;
}

/** A period's KPIs beside those of the period it is compared with. */
export interface ComparedFigures extends CurrentFigures {
  previous: KpiFigures;
}

/**
 * The KPIs of `range` for one scope, read on `today` (overdue as of today). The typical sales cycle
 * that says whether the close rate can be judged is that of the deals the scope won in the year up
 * to today.
 */
export function computeCurrent(
  rollup: Rollup,
  { range, today }: Omit<ComparedRanges, 'previous'>,
  scope: Scope,
): CurrentFigures {
  const current = computeKpis(rollup, { range, scope, today });
  const typicalCycle = computeKpis(rollup, {
    range: { fromDay: today + 1 - 365, toDay: today + 1 },
    scope,
  }).averageCycleDays;
  const tooEarly = closeRateTooEarly(range, today, typicalCycle);
  return { current, ...(tooEarly ? { closeRateTooEarly: tooEarly } : {}) };
}

/** `computeCurrent`, and the KPIs of `ranges.previous` beside them. */
export function computeComparison(rollup: Rollup, ranges: ComparedRanges, scope: Scope): ComparedFigures {
  return {
    ...computeCurrent(rollup, ranges, scope),
    previous: computeKpis(rollup, { range: ranges.previous, scope, today: ranges.today }),
  };
}
