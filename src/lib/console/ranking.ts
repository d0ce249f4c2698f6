/**
 * The vendor's partner ranking: the program's partners by quality score (KPI 7, over the chosen
 * period), with their won deals, revenue and win rate, and how fresh each partner's figures are.
 * Partners without any record yet, and those whose figures cannot be read, are listed after the
 * ranked ones so that no partner silently disappears. Pure.
 */
import type { Partner } from '../domain/schema';
import type { QualityScore } from '../kpi/kpis';
import { freshnessOf, type Freshness } from './freshness';

export interface PartnerRankRow {
  partnerId: string;
  name: string;
  /** 1 for the best; null for a partner with nothing to rank. */
  rank: number | null;
  score: number | null;
  won: number;
  /** Revenue won in the period (minor units). */
  revenue: number;
  winRate: number | null;
  freshness: Freshness;
  /** Why the partner's figures cannot be shown (an unreadable rollup entry, sync SPEC.md P6). */
  unavailable?: string;
}

export interface RankingInput {
  /** The program's quality scores (scope `all`): one per partner with records, best first. */
  qualityScores: readonly QualityScore[];
  partners: readonly Pick<Partner, 'id' | 'name' | 'deletedAt'>[];
  /** Each partner's last sync, for the partners the server has folded. */
  lastSyncAt: ReadonlyMap<string, number>;
  /** Partners whose rollup entry could not be read, with the reason. */
  unavailable?: ReadonlyMap<string, string>;
  now: number;
}

const byName = (a: PartnerRankRow, b: PartnerRankRow) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.partnerId < b.partnerId ? -1 : 1;

export function partnerRanking({
  qualityScores,
  partners,
  lastSyncAt,
  unavailable = new Map(),
  now,
}: RankingInput): PartnerRankRow[] {
  const names = new Map(partners.map((partner) => [partner.id, partner.name]));
  const row = (partnerId: string, score?: QualityScore, rank: number | null = null): PartnerRankRow => ({
    partnerId,
    name: names.get(partnerId) ?? partnerId,
    rank,
    score: score?.score ?? null,
    won: score?.won ?? 0,
    revenue: score?.revenue ?? 0,
    winRate: score?.winRate ?? null,
    freshness: freshnessOf(lastSyncAt.get(partnerId), now),
    ...(unavailable.has(partnerId) ? { unavailable: unavailable.get(partnerId)! } : {}),
  });
  const ranked = qualityScores.map((score, index) => row(score.id, score, index + 1));
  const listed = new Set(ranked.map((entry) => entry.partnerId));
  // Partners of the directory (not deleted) with no figures: after the ranked ones, by name.
  const rest = partners
    .filter((partner) => partner.deletedAt === undefined && !listed.has(partner.id))
    .map((partner) => row(partner.id))
    .sort(byName);
  // An unreadable entry of a partner the directory does not list (yet) still shows, last.
  const strangers = [...unavailable.keys()]
    .filter((id) => !listed.has(id) && !names.has(id))
    .map((id) => row(id));
  return [...ranked, ...rest, ...strangers];
}

/** The stale partners' rows (figures older than STALE_AFTER_MS, or none at all). */
export function staleRows(rows: readonly PartnerRankRow[]): PartnerRankRow[] {
  return rows.filter((entry) => entry.freshness.stale);
}
