import { describe, expect, it } from 'vitest';
import { generateDemoProgram } from '../../src/lib/demo/generate';
import { OPEN_STAGES, validateDeal, validateLead, validateProgram, CHANNELS, LOST_REASONS } from '../../src/lib/domain';
import { buildRollup, computeKpis, monthOfDay, parsePeriod, localDayOf } from '../../src/lib/kpi';

describe('demo program generator', () => {
  const demo = generateDemoProgram({ seed: 5 });

  it('is deterministic: the same seed gives the same program, another seed another', () => {
    expect(generateDemoProgram({ seed: 5 })).toEqual(demo);
    expect(generateDemoProgram({ seed: 6 }).deals).not.toEqual(demo.deals);
  });

  it('makes only valid records', () => {
    expect(validateProgram(demo.program).ok).toBe(true);
    expect(demo.leads.filter((lead) => !validateLead(lead).ok)).toEqual([]);
    expect(demo.deals.filter((deal) => !validateDeal(deal).ok)).toEqual([]);
  });

  it('has 5–6 partners with 3–8 reps each, over 18 months', () => {
    expect(demo.partners.length).toBeGreaterThanOrEqual(5);
    expect(demo.partners.length).toBeLessThanOrEqual(6);
    for (const partner of demo.partners) {
      const reps = demo.reps.filter((rep) => rep.partnerId === partner.id).length;
      expect(reps).toBeGreaterThanOrEqual(3);
      expect(reps).toBeLessThanOrEqual(8);
    }
    const dayOf = localDayOf(demo.program.timeZone);
    const months = new Set(demo.leads.map((lead) => monthOfDay(dayOf(lead.createdAt))));
    expect(months.size).toBe(18);
  });

  it('has open deals in every stage, overdue ones, every channel and every lost reason', () => {
    const open = demo.deals.filter((deal) => deal.closedAt === undefined);
    for (const stage of OPEN_STAGES) expect(open.some((deal) => deal.stage === stage), stage).toBe(true);
    expect(open.some((deal) => deal.expectedCloseAt !== undefined && deal.expectedCloseAt < demo.now)).toBe(true);
    for (const channel of CHANNELS) expect(demo.deals.some((deal) => deal.channel === channel)).toBe(true);
    for (const reason of LOST_REASONS) expect(demo.deals.some((deal) => deal.lostReason === reason), reason).toBe(true);
    expect(demo.deals.some((deal) => deal.leadId === undefined)).toBe(true);
  });

  it('shows partners of different quality, channels that perform differently, and seasonality', () => {
    const period = parsePeriod({ from: '2025-06-01', to: '2026-12-01', tz: demo.program.timeZone });
    if (!period.ok) throw new Error('bad period');
    const kpis = computeKpis(buildRollup(demo.program.timeZone, demo.leads, demo.deals), { range: period.range, scope: { kind: 'all' } });
    expect(kpis.needsAttention).toEqual(['p-lotus']);
    const scores = kpis.qualityScores.map((q) => q.score);
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(50);
    expect(kpis.channels.referral.winRate!).toBeGreaterThan(kpis.channels.paid.winRate! + 0.15);
    const prospectsByMonth = kpis.closeRateByMonth.map((m) => m.prospects);
    const march = kpis.closeRateByMonth.find((m) => m.month === '2026-03')!.prospects;
    const may = kpis.closeRateByMonth.find((m) => m.month === '2026-05')!.prospects;
    expect(march).toBeGreaterThan(may * 1.5);
    expect(prospectsByMonth).toHaveLength(18);
  });
});
