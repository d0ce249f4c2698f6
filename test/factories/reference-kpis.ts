/**
 * A naive reference implementation of kpi-spec.md (v1), the independent second implementation the
 * engine is compared with. It reads the records one by one for every figure: no buckets, no day
 * numbers, no caches, and nothing from src/lib/kpi. Periods are turned into instants with TZDate
 * (the first instant of each date in the zone) and every "t ∈ P" is `start ≤ t < end`, as the spec
 * says. It returns the report format, rounded as the spec says:
 * money to the currency's minor unit (computed in minor units, rounded there, only then divided),
 * ratios and days to 4 decimals, scores to 2.
 */
import { TZDate } from '@date-fns/tz';
import {
  CHANNELS,
  OPEN_STAGES,
  type Channel,
  type Deal,
  type Lead,
  type OpenStage,
} from '../../src/lib/domain';
import type { ChannelReport, KpiReport } from '../../src/lib/kpi/report';

export type ReferenceScope = { kind: 'all' } | { kind: 'partner'; id: string } | { kind: 'rep'; id: string };

export interface ReferencePeriod {
  from: string;
  to: string;
  tz: string;
}

export interface ReferenceQuery {
  period: ReferencePeriod;
  scope: ReferenceScope;
  channel?: Channel;
  currency: string;
}

// Only the report's shape is shared with the engine (kpi-spec.md "Report format"), never its logic.
export type ReferenceChannel = ChannelReport;
export type ReferenceReport = KpiReport;

const MS_PER_DAY = 86_400_000;
const Z = 1.96;

// ---------------------------------------------------------------------------------------------
// Calendar, straight from the dates

function parts(date: string): [number, number, number] {
  const [year, month, day] = date.split('-').map(Number);
  if (year === undefined || month === undefined || day === undefined) throw new Error(`bad date ${date}`);
  return [year, month, day];
}

/** 00:00 of `date` in `tz` (TZDate moves a midnight that a DST gap swallows to the gap's end). */
export function startOfDate(date: string, tz: string): number {
  const [year, month, day] = parts(date);
  return new TZDate(year, month - 1, day, tz).getTime();
}

function shiftDate(date: string, days: number): string {
  const [year, month, day] = parts(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

function calendarDays(from: string, to: string): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / MS_PER_DAY);
}

/**
 * The previous period: the same length, ending where P starts. Periods are made of calendar dates,
 * so "the same length" is read as the same number of calendar days (not the same number of hours:
 * across a DST change those differ by one).
 */
export function previousPeriod(period: ReferencePeriod): ReferencePeriod {
  const length = calendarDays(period.from, period.to);
  return { from: shiftDate(period.from, -length), to: period.from, tz: period.tz };
}

const monthFormats = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM of the calendar month in which `instant` falls, in `tz`. */
function localMonth(instant: number, tz: string): string {
  let format = monthFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit' });
    monthFormats.set(tz, format);
  }
  const fields = format.formatToParts(new Date(instant));
  const year = fields.find((f) => f.type === 'year')?.value ?? '';
  const month = fields.find((f) => f.type === 'month')?.value ?? '';
  return `${year.padStart(4, '0')}-${month}`;
}

/** The calendar months that P overlaps: from the month of `from` to the month of the day before `to`. */
function monthsOverlapping(period: ReferencePeriod): string[] {
  const first = period.from.slice(0, 7);
  const last = shiftDate(period.to, -1).slice(0, 7);
  const months: string[] = [];
  let [year, month] = parts(`${first}-01`);
  for (;;) {
    const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    months.push(text);
    if (text >= last) break;
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
  return months;
}

// ---------------------------------------------------------------------------------------------
// Numbers

function divide(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return rounded === 0 ? 0 : rounded; // no -0 in a report
}

function roundOrNull(value: number | null, decimals: number): number | null {
  return value === null ? null : round(value, decimals);
}

function minorDigitsOf(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** Wilson lower bound, as written in the spec. With no wins it is exactly 0 (p = 0 makes the two terms equal). */
export function referenceWilson(wins: number, trials: number): number {
  if (trials === 0 || wins === 0) return 0;
  const p = wins / trials;
  const n = trials;
  return (
    (p + (Z * Z) / (2 * n) - Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n))) / (1 + (Z * Z) / n)
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[half]!;
  return (sorted[half - 1]! + sorted[half]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// The report

export function referenceReport(
  leads: readonly Lead[],
  deals: readonly Deal[],
  query: ReferenceQuery,
): ReferenceReport {
  const { period, scope, channel, currency } = query;
  const digits = minorDigitsOf(currency);
  /** Money: minor units rounded to a whole minor unit, then divided into major units. */
  const money = (minor: number) => round(Math.round(minor) / 10 ** digits, digits);
  const moneyOrNull = (minor: number | null) => (minor === null ? null : money(minor));
  const ratio4 = (value: number | null) => roundOrNull(value, 4);

  const start = startOfDate(period.from, period.tz);
  const end = startOfDate(period.to, period.tz);
  const inP = (instant: number | undefined) => instant !== undefined && start <= instant && instant < end;

  const inScope = (record: { partnerId: string; repId: string }) =>
    scope.kind === 'all' ||
    (scope.kind === 'partner' ? record.partnerId === scope.id : record.repId === scope.id);
  const counts = (record: Lead | Deal) =>
    record.deletedAt === undefined &&
    inScope(record) &&
    (channel === undefined || record.channel === channel);

  const myLeads = leads.filter(counts);
  const myDeals = deals.filter(counts);
  const won = myDeals.filter((d) => d.stage === 'won' && inP(d.closedAt));
  const lost = myDeals.filter((d) => d.stage === 'lost' && inP(d.closedAt));
  const sumAmount = (list: Deal[]) => list.reduce((sum, d) => sum + d.amount, 0);

  // Prospects(P): leads created in P, and deals created in P with no lead. A prospect is converted
  // when its deal is won with closedAt < to; a lead's deal is any (not deleted) deal whose leadId
  // is the lead's id, wherever that deal is (scope and channel select prospects, not their deals).
  const wonBeforeEnd = (d: Deal) =>
    d.deletedAt === undefined && d.stage === 'won' && d.closedAt !== undefined && d.closedAt < end;
  const prospects: { channel: Channel; createdAt: number; converted: boolean }[] = [
    ...myLeads
      .filter((l) => inP(l.createdAt))
      .map((l) => ({
        channel: l.channel,
        createdAt: l.createdAt,
        converted: deals.some((d) => d.leadId === l.id && wonBeforeEnd(d)),
      })),
    ...myDeals
      .filter((d) => d.leadId === undefined && inP(d.createdAt))
      .map((d) => ({ channel: d.channel, createdAt: d.createdAt, converted: wonBeforeEnd(d) })),
  ];
  const convertedCount = prospects.filter((p) => p.converted).length;

  // KPI 1, 2
  const revenue = sumAmount(won);
  const averageDealSize = divide(revenue, won.length);
  const winRate = divide(won.length, won.length + lost.length);

  // KPI 3: deals open now, created before the period's end.
  const open = myDeals.filter((d) => d.stage !== 'won' && d.stage !== 'lost' && d.createdAt < end);
  const byStage = Object.fromEntries(
    OPEN_STAGES.map((stage) => {
      const ofStage = open.filter((d) => d.stage === stage);
      return [stage, { count: ofStage.length, value: money(sumAmount(ofStage)) }];
    }),
  ) as Record<OpenStage, { count: number; value: number }>;
  const pipeline = {
    count: open.length,
    value: money(sumAmount(open)),
    weighted: money(open.reduce((sum, d) => sum + d.amount * d.probability, 0) / 100),
    overdue: open.filter((d) => d.expectedCloseAt !== undefined && d.expectedCloseAt < end).length,
    lostToCompetitor: lost.filter((d) => d.lostReason === 'competitor').length,
    byStage,
  };

  // KPI 4
  const channels = Object.fromEntries(
    CHANNELS.map((c) => {
      const cProspects = prospects.filter((p) => p.channel === c);
      const cConverted = cProspects.filter((p) => p.converted).length;
      const cWon = won.filter((d) => d.channel === c);
      const cLost = lost.filter((d) => d.channel === c);
      const cRevenue = sumAmount(cWon);
      const figures: ReferenceChannel = {
        prospects: cProspects.length,
        converted: cConverted,
        won: cWon.length,
        lost: cLost.length,
        revenue: money(cRevenue),
        closeRate: ratio4(divide(cConverted, cProspects.length)),
        winRate: ratio4(divide(cWon.length, cWon.length + cLost.length)),
        averageDealSize: moneyOrNull(divide(cRevenue, cWon.length)),
        revenueShare: ratio4(divide(cRevenue, revenue)),
      };
      return [c, figures];
    }),
  ) as Record<Channel, ReferenceChannel>;

  // KPI 5
  const closeRateByMonth = monthsOverlapping(period).map((month) => {
    const ofMonth = prospects.filter((p) => localMonth(p.createdAt, period.tz) === month);
    const converted = ofMonth.filter((p) => p.converted).length;
    return {
      month,
      prospects: ofMonth.length,
      converted,
      closeRate: ratio4(divide(converted, ofMonth.length)),
    };
  });

  // KPI 6
  const averageCycleDays =
    won.length === 0
      ? null
      : won.reduce((sum, d) => sum + (d.closedAt ?? 0) - d.createdAt, 0) / won.length / MS_PER_DAY;
  const dealVelocity =
    winRate === null || averageDealSize === null || averageCycleDays === null || averageCycleDays === 0
      ? null
      : (open.length * winRate * averageDealSize) / averageCycleDays;

  // KPI 7: units one level below the scope that have any lead or deal in scope (at any time: the
  // spec's "in scope" is about partner / rep, the period only selects what is summed).
  const unitOf = (record: { partnerId: string; repId: string }) =>
    scope.kind === 'all' ? record.partnerId : record.repId;
  const units = [...new Set([...myLeads, ...myDeals].map(unitOf))];
  const unitFigures = units.map((id) => {
    const unitWon = won.filter((d) => unitOf(d) === id);
    const unitLost = lost.filter((d) => unitOf(d) === id);
    return { id, won: unitWon.length, lost: unitLost.length, revenue: sumAmount(unitWon) };
  });
  const maxRevenue = Math.max(0, ...unitFigures.map((u) => u.revenue));
  const maxWon = Math.max(0, ...unitFigures.map((u) => u.won));
  const scored = unitFigures.map((u) => {
    const winLow = referenceWilson(u.won, u.won + u.lost);
    const revenueTerm = maxRevenue === 0 ? 0 : u.revenue / maxRevenue;
    const wonTerm = maxWon === 0 ? 0 : u.won / maxWon;
    return { ...u, winLow, score: 100 * (0.5 * revenueTerm + 0.3 * wonTerm + 0.2 * winLow) };
  });
  scored.sort((a, b) => (a.score !== b.score ? b.score - a.score : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const qualityScores = scored.map((u) => ({
    id: u.id,
    score: round(u.score, 2),
    won: u.won,
    revenue: money(u.revenue),
    winRate: ratio4(divide(u.won, u.won + u.lost)),
    winLow: round(u.winLow, 4),
  }));

  // KPI 8: in scope all, partners below half the median deal success (nulls left out).
  let needsAttention: string[] = [];
  if (scope.kind === 'all') {
    const rates = unitFigures
      .filter((u) => u.won + u.lost > 0)
      .map((u) => ({ id: u.id, rate: u.won / (u.won + u.lost) }));
    if (rates.length > 0) {
      const half = median(rates.map((r) => r.rate)) / 2;
      needsAttention = rates
        .filter((r) => r.rate < half)
        .map((r) => r.id)
        .sort();
    }
  }

  return {
    period: { from: period.from, to: period.to, tz: period.tz },
    scope: scope.kind === 'all' ? 'all' : `${scope.kind}:${scope.id}`,
    averageDealSize: moneyOrNull(averageDealSize),
    dealCount: won.length,
    lostCount: lost.length,
    pipeline,
    channels,
    closeRate: ratio4(divide(convertedCount, prospects.length)),
    closeRateByMonth,
    averageCycleDays: ratio4(averageCycleDays),
    dealVelocity: moneyOrNull(dealVelocity),
    qualityScores,
    dealSuccess: ratio4(winRate),
    prospects: prospects.length,
    converted: convertedCount,
    needsAttention,
  };
}
