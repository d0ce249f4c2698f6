/**
 * The vendor's partner ranking and program figures (src/lib/console/ranking.ts, program-figures.ts):
 * partners by quality score with their freshness, the ones without figures after them, and program
 * KPIs from the partners' rollups equal to the KPIs of all records (buckets add up).
 */
import { describe, expect, it } from 'vitest';
import { buildRollup, computeKpis, parsePeriod, previousRange, toReport } from '../../../src/lib/kpi';
import { partnerRanking, staleRows } from '../../../src/lib/console/ranking';
import { lastSyncs, programFigures, programRollup } from '../../../src/lib/console/program-figures';
import { quarterFigures } from '../../../src/lib/console/targets';
import type { QualityScore } from '../../../src/lib/kpi/kpis';
import { BASE_INSTANT, DAY_MS, deal, lead } from '../../factories/records';

const TZ = 'Asia/Kolkata';
const NOW = Date.UTC(2026, 10, 28, 9, 30);
const score = (
  id: string,
  value: number,
  won = 1,
  revenue = 100,
  winRate: number | null = 0.5,
): QualityScore => ({ id, score: value, won, revenue, winRate, winLow: 0 });
const partners = [
  { id: 'p1', name: 'Sunrise Systems' },
  { id: 'p2', name: 'BluePeak IT' },
  { id: 'p3', name: 'Kaveri Solutions' },
  { id: 'p4', name: 'Archived Partner', deletedAt: BASE_INSTANT },
  { id: 'p5', name: 'Alpha New' },
];

describe('the partner ranking', () => {
  it('ranks by quality score with names, figures and freshness; partners without records follow by name', () => {
    const rows = partnerRanking({
      qualityScores: [score('p2', 80, 5, 5000, 0.6), score('p1', 40, 2, 900, 0.4)],
      partners,
      lastSyncAt: new Map([
        ['p1', NOW - 2 * 3_600_000],
        ['p2', NOW - 5 * DAY_MS],
      ]),
      now: NOW,
    });
    expect(rows.map((row) => [row.rank, row.name])).toEqual([
      [1, 'BluePeak IT'],
      [2, 'Sunrise Systems'],
      [null, 'Alpha New'],
      [null, 'Kaveri Solutions'],
    ]);
    expect(rows[0]).toMatchObject({
      partnerId: 'p2',
      score: 80,
      won: 5,
      revenue: 5000,
      winRate: 0.6,
      freshness: { amount: 5, unit: 'day', stale: true },
    });
    expect(rows[1]!.freshness).toMatchObject({ amount: 2, unit: 'hour', stale: false });
    expect(rows[2]).toMatchObject({
      score: null,
      won: 0,
      revenue: 0,
      winRate: null,
      freshness: { lastSyncAt: undefined, stale: true },
    });
    expect(staleRows(rows).map((row) => row.partnerId)).toEqual(['p2', 'p5', 'p3']);
  });

  it('keeps a partner whose figures cannot be read, saying why', () => {
    const rows = partnerRanking({
      qualityScores: [],
      partners: partners.slice(0, 1),
      lastSyncAt: new Map(),
      unavailable: new Map([
        ['p1', 'newer server'],
        ['p9', 'bad bytes'],
      ]),
      now: NOW,
    });
    expect(rows.map((row) => [row.partnerId, row.name, row.unavailable])).toEqual([
      ['p1', 'Sunrise Systems', 'newer server'],
      ['p9', 'p9', 'bad bytes'],
    ]);
  });
});

describe('program figures from the partners’ rollups', () => {
  const at = (day: number) => BASE_INSTANT + day * DAY_MS;
  const records = {
    p1: {
      leads: [lead({ id: 'L1', partnerId: 'p1', createdAt: at(1) })],
      deals: [
        deal({
          id: 'D1',
          partnerId: 'p1',
          leadId: 'L1',
          stage: 'won',
          amount: 500_00,
          createdAt: at(2),
          closedAt: at(5),
        }),
      ],
    },
    p2: {
      leads: [lead({ id: 'L2', partnerId: 'p2', repId: 'p2-r1', createdAt: at(3) })],
      deals: [
        deal({
          id: 'D2',
          partnerId: 'p2',
          repId: 'p2-r1',
          stage: 'lost',
          lostReason: 'competitor',
          createdAt: at(3),
          closedAt: at(9),
        }),
        deal({
          id: 'D3',
          partnerId: 'p2',
          repId: 'p2-r1',
          stage: 'proposal',
          amount: 700_00,
          createdAt: at(4),
        }),
      ],
    },
  };
  const period = (() => {
    const parsed = parsePeriod({ from: '2026-01-01', to: '2026-02-01', tz: TZ });
    if (!parsed.ok) throw new Error('bad period');
    return parsed.range;
  })();

  it('adds the partners’ buckets up to the KPIs of all their records', () => {
    const rollups = new Map(
      Object.entries(records).map(([partnerId, { leads, deals }], index) => [
        partnerId,
        { lastSyncAt: NOW - index, rollup: buildRollup(TZ, leads, deals) },
      ]),
    );
    const merged = programRollup(rollups, TZ);
    const all = buildRollup(
      TZ,
      [...records.p1.leads, ...records.p2.leads],
      [...records.p1.deals, ...records.p2.deals],
    );
    const query = { range: period, scope: { kind: 'all' } as const };
    expect(
      toReport(computeKpis(merged, query), { from: '2026-01-01', to: '2026-02-01', tz: TZ }, 'INR'),
    ).toEqual(toReport(computeKpis(all, query), { from: '2026-01-01', to: '2026-02-01', tz: TZ }, 'INR'));
    const { current, previous } = programFigures(merged, {
      range: period,
      previous: previousRange(period),
      today: period.toDay,
    });
    expect([current.dealCount, current.lostCount, current.revenue, previous.dealCount]).toEqual([
      1, 1, 500_00, 0,
    ]);
    expect(current.qualityScores.map((unit) => unit.id)).toEqual(['p1', 'p2']);
    expect(lastSyncs(rollups)).toEqual(
      new Map([
        ['p1', NOW],
        ['p2', NOW - 1],
      ]),
    );
  });

  it('has no figures at all without rollups', () => {
    expect(programRollup(new Map(), TZ).series.size).toBe(0);
  });

  it('a partner’s quarter: revenue and deals won in it, and every deal open now', () => {
    const rollup = buildRollup(TZ, [], [...records.p1.deals, ...records.p2.deals]);
    expect(quarterFigures(rollup, 'p2', BASE_INSTANT, TZ)).toEqual({
      quarter: '2026-Q1',
      revenueWon: 0,
      dealsWon: 0,
      openPipeline: 700_00,
    });
    expect(quarterFigures(rollup, 'p1', BASE_INSTANT, TZ)).toEqual({
      quarter: '2026-Q1',
      revenueWon: 500_00,
      dealsWon: 1,
      openPipeline: 0,
    });
  });
});
