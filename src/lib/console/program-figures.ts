/**
 * The vendor's figures from the program document's rollups: the partners' buckets added up
 * The vendor's figures from the rollups room: the partners' buckets side by side (`programRollup`, sync
 * of one partner against the previous period, and each partner's facts for the attention rules.
 * Pure: the rollups, the directory and `now` are parameters.
 */
import type { Partner, TargetEntry } from '../domain/schema';
import { emptyRollup, type Rollup } from '../kpi/buckets';
import { presetRange, type DayRange } from '../kpi/calendar';
import {
  computeComparison,
  computeCurrent,
  computeKpis,
  type ComparedFigures,
  type ComparedRanges,
  type CurrentFigures,
  type KpiFigures,
} from '../kpi/kpis';
import type { PartnerRollup } from '../sync/program-doc';
import { medianDealSuccess, type AttentionInput } from './attention';
import { quarterFigures, quarterOf, targetFor } from './targets';

/**
 * Every partner's buckets as one rollup, in the program's zone: their series side by side (each
 * partner's are its own, so none is added to another), shared rather than copied — their query
 * indexes too, built once per rollup the server writes.
 */
export function programRollup(rollups: ReadonlyMap<string, PartnerRollup>, tz: string): Rollup {
  const program = emptyRollup(tz);
  for (const { rollup } of rollups.values()) {
    if (rollup.tz !== tz) continue;
    for (const [key, series] of rollup.series) program.series.set(key, series);
  }
  return program;
}

/** A period's figures, and those of the period compared with when there is one. */
export type PeriodFigures = CurrentFigures & { previous?: KpiFigures };

/** The ranges partners' figures are compared over: without `previous` when they cannot be compared (see VendorConsole.partnerRanges). */
export type PartnerRanges = Omit<ComparedRanges, 'previous'> & { previous?: DayRange };

/** The whole program's KPIs (scope `all`) for a period and the one it is compared with. */
export function programFigures(rollup: Rollup, ranges: ComparedRanges): ComparedFigures {
  return computeComparison(rollup, ranges, { kind: 'all' });
}

/**
 * Every partner's KPIs side by side (scope `all` over partners' buckets), or one partner's, over
 * `ranges`. `forCards`: also whether the close rate is too early to judge, which costs a year's
 * KPIs more — only a partner's cards show it, not the ranking nor the attention rules.
 */
export function partnerFigures(
  rollup: Rollup,
  partnerId: string | undefined,
  ranges: PartnerRanges,
  { forCards = false } = {},
): PeriodFigures {
  const scope =
    partnerId === undefined ? ({ kind: 'all' } as const) : ({ kind: 'partner', id: partnerId } as const);
  const { range, previous, today } = ranges;
  if (forCards)
    return previous
      ? computeComparison(rollup, { ...ranges, previous }, scope)
      : computeCurrent(rollup, ranges, scope);
  const current = computeKpis(rollup, { range, scope, today });
  return previous
    ? { current, previous: computeKpis(rollup, { range: previous, scope, today }) }
    : { current };
}

export interface AttentionInputsArgs {
  rollup: Rollup;
  /** A partner's own buckets, when kept apart (quicker than picking them out of `rollup`). */
  rollupOf?: (partnerId: string) => Rollup | undefined;
  /** The program's figures for the period (scope `all`), for the partners' median deal success. */
  program: KpiFigures;
  partners: readonly Pick<Partner, 'id' | 'deletedAt'>[];
  lastSyncAt: ReadonlyMap<string, number>;
  targets: readonly TargetEntry[];
  ranges: PartnerRanges;
  now: number;
  tz: string;
}

/** The facts the attention rules judge, for every partner of the directory that is not deleted. */
export function attentionInputs({
  rollup,
  rollupOf,
  program,
  partners,
  lastSyncAt,
  targets,
  ranges,
  now,
  tz,
}: AttentionInputsArgs): AttentionInput[] {
  const median = medianDealSuccess(program.qualityScores);
  const quarter = quarterOf(now, tz).key;
  const twelveMonths = presetRange('last12Months', now, tz);
  return partners
    .filter((partner) => partner.deletedAt === undefined)
    .map((partner) => {
      const own = rollupOf?.(partner.id) ?? rollup;
      const { current, previous } = partnerFigures(own, partner.id, ranges);
      const target = targetFor(targets, partner.id, quarter);
      const input: AttentionInput = {
        partnerId: partner.id,
        now,
        current,
        ...(previous ? { previous } : {}),
        lastSyncAt: lastSyncAt.get(partner.id),
        medianDealSuccess: median,
      };
      if (target) {
        const standing = quarterFigures(own, partner.id, now, tz);
        const winRate = computeKpis(own, {
          range: twelveMonths,
          scope: { kind: 'partner', id: partner.id },
        }).winRate;
        input.quarter = {
          quarter,
          targetRevenue: target.revenue,
          revenueWon: standing.revenueWon,
          openPipeline: standing.openPipeline,
          winRate,
        };
      }
      return input;
    });
}

/** Each partner's last sync, from the rollups. */
export function lastSyncs(rollups: ReadonlyMap<string, PartnerRollup>): Map<string, number> {
  return new Map([...rollups].map(([partnerId, entry]) => [partnerId, entry.lastSyncAt]));
}
