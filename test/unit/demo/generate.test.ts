import { describe, expect, it } from 'vitest';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import {
  OPEN_STAGES,
  validateDeal,
  validateLead,
  validateProgram,
  CHANNELS,
  LOST_REASONS,
} from '../../../src/lib/domain';
import {
  buildRollup,
  computeKpis,
  monthOfDay,
  parsePeriod,
  localDayOf,
  presetRange,
} from '../../../src/lib/kpi';
import { monthEndPipelineChange } from '../../../src/lib/kpi/pipeline-history';

describe('demo program generator', () => {
  const demo = generateDemoProgram({ seed: 5 });

  it('is deterministic: the same seed gives the same program, another seed another', () => {
    expect(generateDemoProgram({ seed: 5 })).toEqual(demo);
    expect(generateDemoProgram({ seed: 6 }).deals).not.toEqual(demo.deals);
  });

  it('seen at an instant of its last day, holds nothing later than that instant, and the same people', () => {
    // 09:43 in Kolkata on the demo's last day: deals lost at 11:14 pm that day have not been lost yet.
    const dayEnd = generateDemoProgram({ seed: 5, end: '2026-12-07' });
    const now = Date.UTC(2026, 11, 6, 4, 13);
    const seen = generateDemoProgram({ seed: 5, end: '2026-12-07', now });
    expect(seen.now).toBe(now);
    expect(seen.reps).toEqual(dayEnd.reps);
    const instants = [
      ...seen.leads.flatMap((lead) => [lead.createdAt, lead.qualifiedAt ?? 0]),
      ...seen.deals.flatMap((deal) => [
        deal.createdAt,
        deal.closedAt ?? 0,
        deal.updatedAt,
        ...(deal.stageLog ?? []).map((change) => change.at),
      ]),
    ];
    expect(Math.max(...instants)).toBeLessThan(now);
    // The day-end history does have events after 09:43 on that day, and those deals are open at 09:43.
    const laterToday = dayEnd.deals.filter((deal) => deal.createdAt < now && (deal.closedAt ?? 0) >= now);
    expect(laterToday.length).toBeGreaterThan(0);
    for (const deal of laterToday) {
      const then = seen.deals.find((d) => d.id === deal.id)!;
      expect(OPEN_STAGES).toContain(then.stage);
      expect(then.closedAt).toBeUndefined();
    }
    expect(seen.leads.filter((lead) => !validateLead(lead).ok)).toEqual([]);
    expect(seen.deals.filter((deal) => !validateDeal(deal).ok)).toEqual([]);
    // "Pipeline since last month's end" ends where this month's KPI 3 card stands (#13 item 6).
    const tz = seen.program.timeZone;
    const change = monthEndPipelineChange(seen.deals, now, tz);
    const card = computeKpis(buildRollup(tz, seen.leads, seen.deals), {
      range: presetRange('thisMonth', now, tz),
      scope: { kind: 'all' },
    }).pipeline;
    expect({ count: change.after.count, value: change.after.value }).toEqual({
      count: card.count,
      value: card.value,
    });
    // A lead is converted exactly when a deal of it exists.
    const withDeal = new Set(seen.deals.map((deal) => deal.leadId));
    expect(seen.leads.filter((lead) => (lead.status === 'converted') !== withDeal.has(lead.id))).toEqual([]);
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
    for (const stage of OPEN_STAGES)
      expect(
        open.some((deal) => deal.stage === stage),
        stage,
      ).toBe(true);
    expect(open.some((deal) => deal.expectedCloseAt !== undefined && deal.expectedCloseAt < demo.now)).toBe(
      true,
    );
    for (const channel of CHANNELS) expect(demo.deals.some((deal) => deal.channel === channel)).toBe(true);
    for (const reason of LOST_REASONS)
      expect(
        demo.deals.some((deal) => deal.lostReason === reason),
        reason,
      ).toBe(true);
    expect(demo.deals.some((deal) => deal.leadId === undefined)).toBe(true);
  });

  it('shows partners of different quality, channels that perform differently, and seasonality', () => {
    const period = parsePeriod({ from: '2025-06-01', to: '2026-12-01', tz: demo.program.timeZone });
    if (!period.ok) throw new Error('bad period');
    const kpis = computeKpis(buildRollup(demo.program.timeZone, demo.leads, demo.deals), {
      range: period.range,
      scope: { kind: 'all' },
    });
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
