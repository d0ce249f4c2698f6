import { describe, expect, it } from 'vitest';
import { rankReps } from '../../../src/lib/app/rep-ranking';
import type { Rep } from '../../../src/lib/domain';
import type { QualityScore } from '../../../src/lib/kpi';

const rep = (id: string, name: string, role: Rep['role'] = 'rep', partnerId = 'p1'): Rep => ({
  id,
  partnerId,
  name,
  role,
  createdAt: 0,
});
const score = (id: string, value: number, won: number, lost: number): QualityScore => ({
  id,
  score: value,
  won,
  revenue: won * 100,
  winRate: won + lost === 0 ? null : won / (won + lost),
  winLow: 0,
});

describe('rankReps (#13 item 14)', () => {
  const reps = [
    rep('m', 'Meera', 'partner_manager'),
    rep('a', 'Arjun'),
    rep('b', 'Bina'),
    rep('c', 'Chetan'),
    rep('x', 'Xavier', 'rep', 'p2'),
  ];

  it('ranks the reps who closed a deal, in the order of their scores, and not the manager', () => {
    const ranking = rankReps(
      [score('m', 90, 5, 0), score('b', 70, 3, 1), score('a', 40, 0, 2), score('c', 0, 0, 0)],
      reps,
      'p1',
    );
    expect(ranking.ranked.map((entry) => [entry.name, entry.score])).toEqual([
      ['Bina', 70],
      ['Arjun', 40],
    ]);
  });

  it('names the reps with no deal closed apart, also those with no records at all, and no other partner’s', () => {
    const ranking = rankReps([score('b', 70, 3, 1), score('c', 0, 0, 0), score('x', 80, 2, 0)], reps, 'p1');
    expect(ranking.noClosedDeals).toEqual(['Arjun', 'Chetan']);
    expect(ranking.ranked.map((entry) => entry.id)).toEqual(['b']);
  });
});
