/** The program benchmark as a partner's screens show it (src/lib/app/benchmark-view.ts). */
import { describe, expect, it } from 'vitest';
import { benchmarkLines } from '../../../src/lib/app/benchmark-view';
import { computeKpis, emptyRollup, parsePeriod } from '../../../src/lib/kpi';
import type { Benchmark } from '../../../src/lib/kpi/benchmark';

const period = { from: '2026-11-01', to: '2026-12-01', tz: 'Asia/Kolkata' };
const benchmark: Benchmark = {
  period,
  metrics: {
    winRate: { partners: 6, lowerQuartile: 0.2, median: 0.28, upperQuartile: 0.4 },
    averageDealSize: {
      partners: 6,
      lowerQuartile: 100_000_00,
      median: 200_000_00,
      upperQuartile: 300_000_00,
    },
    closeRate: { partners: 3, notEnough: true },
    dealVelocity: { partners: 6, lowerQuartile: 1_000_00, median: 2_000_00, upperQuartile: 3_000_00 },
    averageCycleDays: { partners: 6, lowerQuartile: 10, median: 20, upperQuartile: 30 },
    qualityScore: { partners: 6, lowerQuartile: 10, median: 40, upperQuartile: 70 },
  },
};

function ownFigures(overrides: Partial<ReturnType<typeof computeKpis>>) {
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error('bad period');
  return {
    current: {
      ...computeKpis(emptyRollup(period.tz), { range: parsed.range, scope: { kind: 'partner', id: 'p1' } }),
      ...overrides,
    },
  };
}

describe('benchmarkLines', () => {
  it('puts the partner’s own figure beside the median and where the top quarter starts, a shorter cycle being better', () => {
    const lines = benchmarkLines(
      benchmark,
      ownFigures({ winRate: 0.45, averageCycleDays: 35 }),
      'INR',
      'en-IN',
    );
    expect(lines.map((line) => line.metric)).toEqual([
      'winRate',
      'averageDealSize',
      'closeRate',
      'dealVelocity',
      'averageCycleDays',
    ]);
    expect(lines[0]).toMatchObject({
      label: 'Win rate',
      text: 'yours 45% · program median 28% · top quarter from 40%',
      position: 'top-quarter',
    });
    // The top quarter of a sales cycle is the short end.
    expect(lines[4]).toMatchObject({
      text: 'yours 35 days · program median 20 days · top quarter from 10 days',
      position: 'bottom-quarter',
    });
  });

  it('says when there are not enough partners, and shows no figure of its own it does not have', () => {
    const lines = benchmarkLines(benchmark, ownFigures({}), 'INR', 'en-IN');
    expect(lines[2]).toMatchObject({
      metric: 'closeRate',
      text: 'not enough partners to compare',
      position: undefined,
    });
    expect(lines[0]!.text).toMatch(/^yours — · program median 28%/);
    expect(lines.some((line) => line.metric === 'qualityScore')).toBe(false);
  });

  it('compares a close rate too early to judge with nothing (#13 item 4)', () => {
    const published: Benchmark = {
      ...benchmark,
      metrics: {
        ...benchmark.metrics,
        closeRate: { partners: 6, lowerQuartile: 0, median: 0, upperQuartile: 0 },
      },
    };
    const young = { ...ownFigures({ closeRate: 0 }), closeRateTooEarly: { ageDays: 6, cycleDays: 40 } };
    expect(benchmarkLines(published, young, 'INR', 'en-IN')[2]).toMatchObject({
      metric: 'closeRate',
      text: 'too early to judge',
      position: undefined,
    });
    expect(benchmarkLines(published, ownFigures({ closeRate: 0 }), 'INR', 'en-IN')[2]!.text).toBe(
      'yours 0% · program median 0% · top quarter from 0%',
    );
  });
});
