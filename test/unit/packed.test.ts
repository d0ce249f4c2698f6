import { describe, expect, it } from 'vitest';
import { generateDemoProgram } from '../../src/lib/demo/generate';
import { RollupIndex, computeKpis, parsePeriod, takeChangedSeries } from '../../src/lib/kpi';
import { packRollup, unpackRollup } from '../../src/lib/kpi/packed';

describe('packed rollup series', () => {
  const demo = generateDemoProgram({ seed: 9, stageLog: false });
  const tz = demo.program.timeZone;

  it('unpacks to the same buckets and the same KPIs', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    const back = unpackRollup(tz, structuredClone(packRollup(index.rollup)));
    const strip = (rollup: typeof back) => [...rollup.series].map(([key, s]) => [key, s.partnerId, s.repId, s.channel, [...s.days.values()]]);
    expect(strip(back)).toEqual(strip(index.rollup));
    const period = parsePeriod({ from: '2025-12-01', to: '2026-12-01', tz });
    if (!period.ok) throw new Error('bad period');
    for (const scope of [{ kind: 'all' } as const, { kind: 'partner', id: 'p-lotus' } as const]) {
      expect(computeKpis(back, { range: period.range, scope })).toEqual(computeKpis(index.rollup, { range: period.range, scope }));
    }
  });

  it('knows which series a change touched, so only those are stored again', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    takeChangedSeries(index.rollup);
    const deal = demo.deals.find((d) => d.closedAt === undefined)!;
    index.upsertDeal({ ...deal, amount: deal.amount + 100 });
    const changed = takeChangedSeries(index.rollup).map(([key]) => key);
    expect(changed).toEqual([`${deal.partnerId}|${deal.repId}|${deal.channel}`]);
    expect(takeChangedSeries(index.rollup)).toEqual([]);
  });
});
