/**
 * A partner manager's ranking of their reps by quality score (KPI 7): the partner's reps who closed
 * a deal in the period, best first. The manager is not ranked among the people she manages, and a
 * rep with no deal closed has no score worth a place: they are named apart, so that nobody reads
 * "last" where the truth is "nothing closed yet".
 */
import type { Rep } from '../domain/schema';
import type { QualityScore } from '../kpi/kpis';

export interface RepRanking {
  ranked: (QualityScore & { name: string })[];
  /** Reps of the partner with no deal won or lost in the period, by name. */
  noClosedDeals: string[];
}

export function rankReps(
  scores: readonly QualityScore[],
  reps: readonly Rep[],
  partnerId: string,
): RepRanking {
  const team = reps.filter(
    (rep) => rep.partnerId === partnerId && rep.role === 'rep' && rep.deletedAt === undefined,
  );
  const byId = new Map(team.map((rep) => [rep.id, rep]));
  const closed = new Set<string>();
  const ranked: RepRanking['ranked'] = [];
  for (const score of scores) {
    const rep = byId.get(score.id);
    if (!rep || score.winRate === null) continue;
    closed.add(rep.id);
    ranked.push({ ...score, name: rep.name });
  }
  const noClosedDeals = team
    .filter((rep) => !closed.has(rep.id))
    .map((rep) => rep.name)
    .sort((a, b) => a.localeCompare(b));
  return { ranked, noClosedDeals };
}
