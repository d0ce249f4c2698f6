/**
 * The KPI report (kpi-spec.md "Report format"): figures in major units, every key present, in the
 * spec's order. Rounding happens here and only here, after all sums are done in minor units:
 * money to the currency's minor unit, ratios and days to 4 decimals, quality scores to 2.
 */
import { CHANNELS, OPEN_STAGES, type Channel, type OpenStage } from '../domain/schema';
import { roundTo, toMajor } from '../domain/money';
import { formatScope, type ChannelFigures, type KpiFigures } from './kpis';
import type { Period } from './calendar';

const RATIO_DECIMALS = 4;
const SCORE_DECIMALS = 2;

/** A channel's figures in the report: the same keys as in KpiFigures, money in major units. */
export type ChannelReport = ChannelFigures;

export interface KpiReport {
  period: Period;
  scope: string;
  averageDealSize: number | null;
  dealCount: number;
  lostCount: number;
  pipeline: {
    count: number;
    value: number;
    weighted: number;
    overdue: number;
    lostToCompetitor: number;
    byStage: Record<OpenStage, { count: number; value: number }>;
  };
  channels: Record<Channel, ChannelReport>;
  closeRate: number | null;
  closeRateByMonth: { month: string; prospects: number; converted: number; closeRate: number | null }[];
  averageCycleDays: number | null;
  dealVelocity: number | null;
  qualityScores: {
    id: string;
    score: number;
    won: number;
    revenue: number;
    winRate: number | null;
    winLow: number;
  }[];
  dealSuccess: number | null;
  prospects: number;
  converted: number;
  needsAttention: string[];
}

const ratioOut = (value: number | null) => (value === null ? null : roundTo(value, RATIO_DECIMALS));

export function toReport(figures: KpiFigures, period: Period, currency: string): KpiReport {
  // Round to a whole minor unit first, then divide: 100.5 minor units are 1.01, not 1.00 (100.5 / 100
  // is 1.00499… in floating point, so rounding after the division would round some halves down).
  const money = (minor: number) => toMajor(Math.round(minor), currency);
  const moneyOrNull = (minor: number | null) => (minor === null ? null : money(minor));
  const { pipeline } = figures;
  return {
    period: { from: period.from, to: period.to, tz: period.tz },
    scope: formatScope(figures.scope),
    averageDealSize: moneyOrNull(figures.averageDealSize),
    dealCount: figures.dealCount,
    lostCount: figures.lostCount,
    pipeline: {
      count: pipeline.count,
      value: money(pipeline.value),
      weighted: money(pipeline.weighted),
      overdue: pipeline.overdue,
      lostToCompetitor: pipeline.lostToCompetitor,
      byStage: Object.fromEntries(
        OPEN_STAGES.map((stage) => [
          stage,
          { count: pipeline.byStage[stage].count, value: money(pipeline.byStage[stage].value) },
        ]),
      ) as KpiReport['pipeline']['byStage'],
    },
    channels: Object.fromEntries(
      CHANNELS.map((channel) => {
        const c = figures.channels[channel];
        const out: ChannelReport = {
          prospects: c.prospects,
          converted: c.converted,
          won: c.won,
          lost: c.lost,
          revenue: money(c.revenue),
          closeRate: ratioOut(c.closeRate),
          winRate: ratioOut(c.winRate),
          averageDealSize: moneyOrNull(c.averageDealSize),
          revenueShare: ratioOut(c.revenueShare),
        };
        return [channel, out];
      }),
    ) as Record<Channel, ChannelReport>,
    closeRate: ratioOut(figures.closeRate),
    closeRateByMonth: figures.closeRateByMonth.map((m) => ({ ...m, closeRate: ratioOut(m.closeRate) })),
    averageCycleDays: ratioOut(figures.averageCycleDays),
    dealVelocity: moneyOrNull(figures.dealVelocity),
    qualityScores: figures.qualityScores.map((q) => ({
      id: q.id,
      score: roundTo(q.score, SCORE_DECIMALS),
      won: q.won,
      revenue: money(q.revenue),
      winRate: ratioOut(q.winRate),
      winLow: roundTo(q.winLow, RATIO_DECIMALS),
    })),
    dealSuccess: ratioOut(figures.dealSuccess),
    prospects: figures.prospects,
    converted: figures.converted,
    needsAttention: figures.needsAttention,
  };
}
