/**
 * The partners that need the vendor's attention, and why: small pure rules, each looking at one
 * partner's figures (and the program's) and either giving one reason with its numbers or staying
 * silent — as the rep's recommendations (kpi/recommendations.ts) do, whose thresholds the rules
 * that compare two periods share. A rule gives numbers, never text: the screens say it in the
 * person's language. No rule gives NaN or Infinity; a null ratio means "not enough data".
 */
import type { KpiFigures, QualityScore } from '../kpi/kpis';
import {
  closeRateFell as closeRateFellRecommendation,
  winRateFell as winRateFellRecommendation,
} from '../kpi/recommendations';
import { daysSince, STALE_AFTER_MS } from './freshness';
import { pipelineCoverage } from './targets';

export type AttentionKind =
  'noFigures' | 'noRecentSync' | 'pipelineBelowTarget' | 'dealSuccessLow' | 'winRateFell' | 'closeRateFell';

export interface AttentionReason {
  kind: AttentionKind;
  /** Numbers the screens format (money in minor units, ratios 0..1) and put in their own sentence. */
  values: Record<string, number | string>;
}

/** Where a partner stands against its target for the current quarter. */
export interface QuarterStanding {
  /** `2026-Q4` */
  quarter: string;
  targetRevenue: number;
  /** Revenue won so far this quarter (minor units). */
  revenueWon: number;
  /** The partner's open pipeline now (minor units). */
  openPipeline: number;
  /** The partner's win rate over the last twelve months: how much of its pipeline it usually wins. */
  winRate: number | null;
}

export interface AttentionInput {
  partnerId: string;
  now: number;
  /** The partner's KPIs (scope `partner:<id>`) for the chosen period, and for the period before it when they can be compared. */
  current: KpiFigures;
  previous?: KpiFigures;
  /** When the partner's figures last came from its devices; undefined when the server has none. */
  lastSyncAt: number | undefined;
  /** The median of the partners' deal success over the period (KPI 8); null when no partner closed a deal. */
  medianDealSuccess: number | null;
  /** Set when the partner has a target for the current quarter. */
  quarter?: QuarterStanding;
}

export type AttentionRule = (input: AttentionInput) => AttentionReason | null;

/**
 * The coverage asked of a partner whose win rate is not known (no deal closed in twelve months):
 * three times the remaining target is the usual rule of thumb of sales planning, i.e. a win rate of
 * about one in three.
 */
export const DEFAULT_REQUIRED_COVERAGE = 3;

/** A reason, or null when any of its numbers is not finite (bad input stays silent). */
function reason(kind: AttentionKind, values: Record<string, number | string>): AttentionReason | null {
  for (const value of Object.values(values))
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return { kind, values };
}

/** The server has never folded this partner's document: no device of the partner has synced. */
export const noFigures: AttentionRule = ({ lastSyncAt }) =>
  lastSyncAt === undefined ? reason('noFigures', {}) : null;

/** No device of the partner has synced for longer than STALE_AFTER_MS: values { days }. */
export const noRecentSync: AttentionRule = ({ lastSyncAt, now }) => {
  if (lastSyncAt === undefined || !(now - lastSyncAt > STALE_AFTER_MS)) return null;
  return reason('noRecentSync', { days: daysSince(lastSyncAt, now) });
};

/**
 * The open pipeline, at the partner's own win rate, would not fill what is left of this quarter's
 * revenue target: coverage (pipeline ÷ remaining) below 1 ÷ win rate — and never below 1, since a
 * pipeline smaller than the remaining target cannot fill it even if every deal is won. Values
 * { coverage, required, remaining, pipeline, quarter }. Silent without a target or once it is reached.
 */
export const pipelineBelowTarget: AttentionRule = ({ quarter }) => {
  if (!quarter) return null;
  const remaining = Math.max(0, quarter.targetRevenue - quarter.revenueWon);
  const coverage = pipelineCoverage(quarter.openPipeline, remaining);
  if (coverage === null) return null;
  const required =
    quarter.winRate !== null && quarter.winRate > 0
      ? Math.max(1, 1 / quarter.winRate)
      : DEFAULT_REQUIRED_COVERAGE;
  if (!(coverage < required)) return null;
  return reason('pipelineBelowTarget', {
    coverage,
    required,
    remaining,
    pipeline: quarter.openPipeline,
    quarter: quarter.quarter,
  });
};

/**
 * Deal success (KPI 8) below half of the median of the partners': the partner pursues deals it
 * loses where the others win theirs (kpi-spec.md). Values { dealSuccess, median }.
 */
export const dealSuccessLow: AttentionRule = ({ current, medianDealSuccess }) => {
  const success = current.dealSuccess;
  if (success === null || medianDealSuccess === null || !(success < medianDealSuccess / 2)) return null;
  return reason('dealSuccessLow', { dealSuccess: success, median: medianDealSuccess });
};

/** The partner's win rate fell against the previous period (the rep screen's rule and thresholds): values { from, to }. */
export const winRateFell: AttentionRule = ({ current, previous, now }) => {
  if (!previous) return null;
  const fell = winRateFellRecommendation({ current, previous, openDeals: [], todayStart: now });
  return fell ? reason('winRateFell', fell.values) : null;
};

/** The partner's close rate fell against the previous period (the rep screen's rule and thresholds): values { from, to }. */
export const closeRateFell: AttentionRule = ({ current, previous, now }) => {
  if (!previous) return null;
  const fell = closeRateFellRecommendation({ current, previous, openDeals: [], todayStart: now });
  return fell ? reason('closeRateFell', fell.values) : null;
};

/** Every rule, the most urgent first: without current figures, the others judge old numbers. */
export const ATTENTION_RULES: readonly AttentionRule[] = [
  noFigures,
  noRecentSync,
  pipelineBelowTarget,
  dealSuccessLow,
  winRateFell,
  closeRateFell,
];

/** Every reason a partner needs attention, in the order of ATTENTION_RULES. */
export function attentionReasons(
  input: AttentionInput,
  rules: readonly AttentionRule[] = ATTENTION_RULES,
): AttentionReason[] {
  return rules.map((rule) => rule(input)).filter((found): found is AttentionReason => found !== null);
}

export interface PartnerAttention {
  partnerId: string;
  reasons: AttentionReason[];
}

/** The partners with at least one reason: those with the most reasons first, then by id. */
export function partnersNeedingAttention(inputs: readonly AttentionInput[]): PartnerAttention[] {
  return inputs
    .map((input) => ({ partnerId: input.partnerId, reasons: attentionReasons(input) }))
    .filter((entry) => entry.reasons.length > 0)
    .sort(
      (a, b) =>
        b.reasons.length - a.reasons.length ||
        (a.partnerId < b.partnerId ? -1 : a.partnerId > b.partnerId ? 1 : 0),
    );
}

/**
 * The median of the partners' deal success (their win rates over the period, as the program's
 * quality scores list them), partners without a closed deal left out — the yardstick of KPI 8.
 */
export function medianDealSuccess(scores: readonly Pick<QualityScore, 'winRate'>[]): number | null {
  const rates = scores
    .map((score) => score.winRate)
    .filter((rate): rate is number => rate !== null && Number.isFinite(rate))
    .sort((a, b) => a - b);
  if (rates.length === 0) return null;
  const middle = rates.length >> 1;
  return rates.length % 2 === 1 ? rates[middle]! : (rates[middle - 1]! + rates[middle]!) / 2;
}
