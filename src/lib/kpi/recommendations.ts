/**
 * Recommendations drawn from the KPIs: small pure rules that each look at the figures of a period
 * (and of the period before it) and either say one thing worth acting on or stay silent.
 *
 * A rule gives numbers, never text: the UI formats them (money in minor units, ratios 0..1) and puts
 * them into its own translated sentence. A null ratio means "not enough data" and keeps a rule
 * silent; no rule ever gives NaN or Infinity (a rule whose numbers are not finite stays silent).
 */
import { CHANNELS, isOpenStage, type Channel, type Deal } from '../domain/schema';
import { isOverdue } from './buckets';
import type { KpiFigures } from './kpis';

export type RecommendationKind =
  | 'overdueDeals'
  | 'closeRateFell'
  | 'winRateFell'
  | 'weakChannel'
  | 'competitorLosses'
  | 'noProspects'
  | 'pipelineThin'
  | 'strongChannel';

export type RecommendationSeverity = 'warning' | 'info' | 'good';

export interface Recommendation {
  kind: RecommendationKind;
  severity: RecommendationSeverity;
  /** numbers the UI formats and puts in its own (translated) sentence */
  values: Record<string, number | string>;
}

export interface RecommendationInput {
  current: KpiFigures;
  previous: KpiFigures;
  openDeals: Pick<Deal, 'id' | 'amount' | 'createdAt' | 'expectedCloseAt' | 'stage'>[];
  /** The instant today began in the program's zone: a deal due (and created) before it is overdue (`isOverdue`). */
  todayStart: number;
}

export type RecommendationRule = (input: RecommendationInput) => Recommendation | null;

// ---------------------------------------------------------------------------------------------
// Thresholds

/**
 * A rate must fall by at least 5 percentage points before we call it a fall: smaller moves are the
 * ordinary wobble between two periods of a partner's volume, and a warning for each would be noise.
 */
export const MIN_RATE_DROP = 0.05;

/**
 * Slack for comparing a difference of two ratios with MIN_RATE_DROP: 0.5 − 0.45 is 0.04999999999999999
 * in floating point. The rounding error is around 1e-16, while two genuinely different ratios of
 * counts below ~30 000 differ by more than 1e-9, so the slack only absorbs rounding.
 */
export const RATE_TOLERANCE = 1e-9;

/**
 * Close rate compared only when each period has at least 10 prospects: below that, one prospect
 * moves the rate by more than 10 points, so a drop says more about luck than about the partner.
 */
export const MIN_PROSPECTS_FOR_CLOSE_RATE = 10;

/**
 * Win rate compared only when each period has at least 5 closed (won + lost) deals: with fewer,
 * a single deal moves the rate by 20 points or more.
 */
export const MIN_CLOSED_FOR_WIN_RATE = 5;

/** A channel's win rate is judged only with at least 5 closed deals in the period (as for the overall win rate). */
export const MIN_CLOSED_PER_CHANNEL = 5;

/**
 * A channel is weak when its win rate is below half of the best channel's: the same "below half"
 * yardstick the KPI spec uses for partners that need attention (deal success below half the median).
 */
export const WEAK_CHANNEL_FACTOR = 0.5;

/**
 * A channel is strong when it brings at least 40 % of revenue: with four channels an even split is
 * 25 % each, so 40 % means one channel clearly carries more than its share.
 */
export const STRONG_CHANNEL_SHARE = 0.4;

/**
 * Losses to competitors matter when they are at least 30 % of lost deals: losses spread over five
 * reasons (competitor, price, no decision, timing, other) would give each about 20 %, so 30 % marks
 * competitors as the leading cause rather than one among several.
 */
export const COMPETITOR_LOSS_SHARE = 0.3;

/** Competitor share judged only with at least 5 lost deals: 2 of 3 lost to a competitor is an anecdote. */
export const MIN_LOST_FOR_COMPETITOR = 5;

/** At most 5 recommendations: more is a list nobody reads on a phone screen. */
export const MAX_RECOMMENDATIONS = 5;

// ---------------------------------------------------------------------------------------------
// Helpers
//
// Comparisons are written as `!(x >= limit)` rather than `x < limit` where a NaN must mean "not
// enough data" (every comparison with NaN is false).

/** A recommendation, or null when any of its numbers is NaN or ±Infinity (bad input stays silent). */
function make(
  kind: RecommendationKind,
  severity: RecommendationSeverity,
  values: Record<string, number | string>,
): Recommendation | null {
  for (const value of Object.values(values))
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return { kind, severity, values };
}

const isRatio = (value: number | null): value is number => value !== null && Number.isFinite(value);

/** `from` → `to` is a fall of at least MIN_RATE_DROP. */
const fellEnough = (from: number, to: number): boolean => from - to >= MIN_RATE_DROP - RATE_TOLERANCE;

// ---------------------------------------------------------------------------------------------
// Rules

/** Open deals whose expected close day has passed, as KPI 3 counts them: values { count, value (minor units) }. */
export const overdueDeals: RecommendationRule = ({ openDeals, todayStart }) => {
  let count = 0;
  let value = 0;
  for (const deal of openDeals) {
    if (!isOpenStage(deal.stage) || !isOverdue(deal, todayStart)) continue;
    count++;
    value += deal.amount;
  }
  return count > 0 ? make('overdueDeals', 'warning', { count, value }) : null;
};

/** Close rate fell by at least MIN_RATE_DROP, with enough prospects in both periods: values { from, to }. */
export const closeRateFell: RecommendationRule = ({ current, previous }) => {
  const from = previous.closeRate;
  const to = current.closeRate;
  if (!isRatio(from) || !isRatio(to)) return null;
  if (!(
    previous.prospects >= MIN_PROSPECTS_FOR_CLOSE_RATE && current.prospects >= MIN_PROSPECTS_FOR_CLOSE_RATE
  ))
    return null;
  return fellEnough(from, to) ? make('closeRateFell', 'warning', { from, to }) : null;
};

/** Win rate fell by at least MIN_RATE_DROP, with enough closed deals in both periods: values { from, to }. */
export const winRateFell: RecommendationRule = ({ current, previous }) => {
  const from = previous.winRate;
  const to = current.winRate;
  if (!isRatio(from) || !isRatio(to)) return null;
  if (!(previous.dealCount + previous.lostCount >= MIN_CLOSED_FOR_WIN_RATE)) return null;
  if (!(current.dealCount + current.lostCount >= MIN_CLOSED_FOR_WIN_RATE)) return null;
  return fellEnough(from, to) ? make('winRateFell', 'warning', { from, to }) : null;
};

/**
 * Among channels with enough closed deals, the one with the lowest win rate when that is below
 * WEAK_CHANNEL_FACTOR × the best channel's: values { channel, winRate, bestChannel, bestWinRate }.
 * Silent for figures of a single channel (there is nothing to compare). Ties go to the channel
 * listed first in CHANNELS.
 */
export const weakChannel: RecommendationRule = ({ current }) => {
  if (current.channel !== undefined) return null;
  let best: { channel: Channel; winRate: number } | null = null;
  let worst: { channel: Channel; winRate: number } | null = null;
  for (const channel of CHANNELS) {
    const figures = current.channels[channel];
    const winRate = figures.winRate;
    if (!(figures.won + figures.lost >= MIN_CLOSED_PER_CHANNEL) || !isRatio(winRate)) continue;
    if (best === null || winRate > best.winRate) best = { channel, winRate };
    if (worst === null || winRate < worst.winRate) worst = { channel, winRate };
  }
  if (best === null || worst === null || !(worst.winRate < best.winRate * WEAK_CHANNEL_FACTOR)) return null;
  return make('weakChannel', 'warning', {
    channel: worst.channel,
    winRate: worst.winRate,
    bestChannel: best.channel,
    bestWinRate: best.winRate,
  });
};

/** Lost deals that went to a competitor are a large share of all lost deals: values { count, share }. */
export const competitorLosses: RecommendationRule = ({ current }) => {
  const lost = current.lostCount;
  const count = current.pipeline.lostToCompetitor;
  if (!(lost >= MIN_LOST_FOR_COMPETITOR)) return null;
  const share = count / lost;
  return share >= COMPETITOR_LOSS_SHARE ? make('competitorLosses', 'warning', { count, share }) : null;
};

/** No prospect at all was found in the period: values {}. */
export const noProspects: RecommendationRule = ({ current }) =>
  current.prospects === 0 ? make('noProspects', 'info', {}) : null;

/**
 * The weighted open pipeline is smaller than the revenue won in the previous period, so the next
 * period will likely bring less: values { weighted, previousRevenue } (minor units; weighted may
 * have a fraction, being Σ amount × probability ÷ 100). Silent when nothing was won before.
 */
export const pipelineThin: RecommendationRule = ({ current, previous }) => {
  const weighted = current.pipeline.weighted;
  const previousRevenue = previous.revenue;
  if (!(previousRevenue > 0) || !(weighted < previousRevenue)) return null;
  return make('pipelineThin', 'warning', { weighted, previousRevenue });
};

/**
 * The channel with the highest revenue share, when it brings at least STRONG_CHANNEL_SHARE of the
 * revenue: values { channel, share }. Silent for figures of a single channel (its share is always
 * 100 %). Ties go to the channel listed first in CHANNELS.
 */
export const strongChannel: RecommendationRule = ({ current }) => {
  if (current.channel !== undefined) return null;
  let top: { channel: Channel; share: number } | null = null;
  for (const channel of CHANNELS) {
    const share = current.channels[channel].revenueShare;
    if (isRatio(share) && (top === null || share > top.share)) top = { channel, share };
  }
  if (top === null || !(top.share >= STRONG_CHANNEL_SHARE)) return null;
  return make('strongChannel', 'good', { channel: top.channel, share: top.share });
};

// ---------------------------------------------------------------------------------------------
// All rules

/**
 * Every rule, most important first within a severity: deals slipping now, then falling rates,
 * then the revenue to come, then where deals are lost.
 */
export const RULES: readonly RecommendationRule[] = [
  overdueDeals,
  winRateFell,
  closeRateFell,
  pipelineThin,
  competitorLosses,
  weakChannel,
  noProspects,
  strongChannel,
];

const SEVERITY_RANK: Readonly<Record<RecommendationSeverity, number>> = { warning: 0, info: 1, good: 2 };

/** All rules that speak, warnings first, then info, then good (RULES order within each), at most MAX_RECOMMENDATIONS. */
export function recommend(input: RecommendationInput): Recommendation[] {
  const found: Recommendation[] = [];
  for (const rule of RULES) {
    const recommendation = rule(input);
    if (recommendation !== null) found.push(recommendation);
  }
  // Array.prototype.sort is stable, so RULES order holds within a severity.
  found.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return found.slice(0, MAX_RECOMMENDATIONS);
}
