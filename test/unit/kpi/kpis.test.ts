/**
 * The eight KPIs against hand-computed fixtures (kpi-spec.md v1). Every report computed here is
 * also compared with the naive reference implementation (test/factories/reference-kpis.ts), so each
 * fixture checks both the engine and the reference.
 */
import { describe, expect, it } from 'vitest';
import type { Channel, Deal, Lead } from '../../../src/lib/domain';
import {
  buildRollup,
  closeRateTooEarly,
  comparedRange,
  computeComparison,
  computeKpis,
  isOverdue,
  parsePeriod,
  previousRange,
  toReport,
  type KpiFigures,
  type KpiReport,
  type Period,
  type Scope,
} from '../../../src/lib/kpi';
import { DAY_MS, deal, dealFrom, lead, localTime } from '../../factories/records';
import { previousPeriod, referenceReport } from '../../factories/reference-kpis';

const KOLKATA = 'Asia/Kolkata';
const NEW_YORK = 'America/New_York';
const UTC = 'UTC';

interface Options {
  scope?: Scope;
  channel?: Channel;
  currency?: string;
}

function rangeOf(period: Period) {
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error(`bad period: ${JSON.stringify(parsed.problems)}`);
  return parsed.range;
}

function figures(leads: Lead[], deals: Deal[], period: Period, options: Options = {}): KpiFigures {
  return computeKpis(buildRollup(period.tz, leads, deals), {
    range: rangeOf(period),
    scope: options.scope ?? { kind: 'all' },
    ...(options.channel === undefined ? {} : { channel: options.channel }),
  });
}

/** Every number in a value is finite (JSON.stringify would quietly turn NaN into null). */
function expectAllFinite(value: unknown, path = 'report'): void {
  if (typeof value === 'number') expect(Number.isFinite(value), path).toBe(true);
  else if (Array.isArray(value)) value.forEach((item, i) => expectAllFinite(item, `${path}[${i}]`));
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) expectAllFinite(item, `${path}.${key}`);
}

/** The engine's report, checked against the reference implementation and for NaN on the way. */
function report(leads: Lead[], deals: Deal[], period: Period, options: Options = {}): KpiReport {
  const currency = options.currency ?? 'INR';
  const result = toReport(figures(leads, deals, period, options), period, currency);
  const scope = options.scope ?? { kind: 'all' };
  expect(result).toEqual(
    referenceReport(leads, deals, {
      period,
      scope,
      currency,
      ...(options.channel === undefined ? {} : { channel: options.channel }),
    }),
  );
  const json = JSON.stringify(result);
  expect(json).not.toMatch(/NaN|Infinity/);
  expect(JSON.parse(json)).toEqual(result);
  expectAllFinite(result);
  return result;
}

const REPORT_KEYS = [
  'period',
  'scope',
  'averageDealSize',
  'dealCount',
  'lostCount',
  'pipeline',
  'channels',
  'closeRate',
  'closeRateByMonth',
  'averageCycleDays',
  'dealVelocity',
  'qualityScores',
  'dealSuccess',
  'prospects',
  'converted',
  'needsAttention',
];
const CHANNEL_KEYS = [
  'prospects',
  'converted',
  'won',
  'lost',
  'revenue',
  'closeRate',
  'winRate',
  'averageDealSize',
  'revenueShare',
];

const emptyChannel = {
  prospects: 0,
  converted: 0,
  won: 0,
  lost: 0,
  revenue: 0,
  closeRate: null,
  winRate: null,
  averageDealSize: null,
  revenueShare: null,
};
const emptyStages = {
  prospecting: { count: 0, value: 0 },
  qualified: { count: 0, value: 0 },
  proposal: { count: 0, value: 0 },
  negotiation: { count: 0, value: 0 },
};

const won = (closedAt: number, amount: number, overrides: Partial<Deal> = {}) =>
  deal({ stage: 'won', amount, createdAt: closedAt - 5 * DAY_MS, closedAt, ...overrides });
const lostDeal = (closedAt: number, overrides: Partial<Deal> = {}) =>
  deal({ stage: 'lost', createdAt: closedAt - 5 * DAY_MS, closedAt, ...overrides });

// ---------------------------------------------------------------------------------------------

describe("the spec's examples", () => {
  it('two deals of 200 and 400 won in the last fifteen days: average deal size 300', () => {
    const period = { from: '2026-03-01', to: '2026-03-16', tz: KOLKATA };
    const deals = [
      won(localTime(KOLKATA, '2026-03-03', '11:00'), 200_00),
      won(localTime(KOLKATA, '2026-03-14', '16:45'), 400_00),
    ];
    expect(figures([], deals, period).averageDealSize).toBe(300_00);
    const result = report([], deals, period);
    expect(result.averageDealSize).toBe(300);
    expect(result.dealCount).toBe(2);
    expect(result.channels.paid.revenue).toBe(600);
  });

  it('the report example: 2 won of 3 closed, one partner → 0.6667, winLow 0.2077, score 84.15', () => {
    const period = { from: '2026-01-01', to: '2026-04-01', tz: KOLKATA };
    const at = (date: string) => localTime(KOLKATA, date, '10:00');
    const leads = ['2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06'].map((date) =>
      lead({ channel: 'referral', createdAt: at(date) }),
    );
    const [l1, l2, l3] = leads;
    if (!l1 || !l2 || !l3) throw new Error('fixture');
    const deals = [
      dealFrom(l1, { stage: 'won', amount: 200_00, createdAt: at('2026-01-05'), closedAt: at('2026-01-15') }), // 10 days
      dealFrom(l2, { stage: 'won', amount: 400_00, createdAt: at('2026-01-10'), closedAt: at('2026-01-25') }), // 15 days
      dealFrom(l3, {
        stage: 'lost',
        amount: 50_00,
        lostReason: 'price',
        createdAt: at('2026-01-06'),
        closedAt: at('2026-02-01'),
      }),
    ];
    const result = report(leads, deals, period);
    expect(Object.keys(result)).toEqual(REPORT_KEYS);
    // The example prints dealVelocity null next to a pipeline count of 0 ("figures are
    // illustrative"). The definition says null only when a factor is null or the average cycle is
    // 0; a count of 0 is a factor of 0, not null, so the velocity is 0.
    expect(result).toEqual({
      period: { from: '2026-01-01', to: '2026-04-01', tz: KOLKATA },
      scope: 'all',
      averageDealSize: 300,
      dealCount: 2,
      lostCount: 1,
      pipeline: { count: 0, value: 0, weighted: 0, overdue: 0, lostToCompetitor: 0, byStage: emptyStages },
      // Channels without revenue have a revenue share of 0 (0 ÷ 600), not null as in the example.
      channels: {
        paid: { ...emptyChannel, revenueShare: 0 },
        earned: { ...emptyChannel, revenueShare: 0 },
        owned: { ...emptyChannel, revenueShare: 0 },
        referral: {
          prospects: 4,
          converted: 2,
          won: 2,
          lost: 1,
          revenue: 600,
          closeRate: 0.5,
          winRate: 0.6667,
          averageDealSize: 300,
          revenueShare: 1,
        },
      },
      closeRate: 0.5,
      closeRateByMonth: [
        { month: '2026-01', prospects: 4, converted: 2, closeRate: 0.5 },
        { month: '2026-02', prospects: 0, converted: 0, closeRate: null },
        { month: '2026-03', prospects: 0, converted: 0, closeRate: null },
      ],
      averageCycleDays: 12.5,
      dealVelocity: 0,
      qualityScores: [{ id: 'p1', score: 84.15, won: 2, revenue: 600, winRate: 0.6667, winLow: 0.2077 }],
      dealSuccess: 0.6667,
      prospects: 4,
      converted: 2,
      needsAttention: [],
    });
  });

  it('money is in major units computed from minor units: 2 paise are 0.02; JPY has none, KWD three', () => {
    const period = { from: '2026-03-01', to: '2026-03-02', tz: UTC };
    const closedAt = Date.UTC(2026, 2, 1, 12);
    expect(report([], [won(closedAt, 2)], period).averageDealSize).toBe(0.02);
    expect(
      report([], [won(closedAt, 2, { currency: 'JPY' })], period, { currency: 'JPY' }).averageDealSize,
    ).toBe(2);
    expect(
      report([], [won(closedAt, 2, { currency: 'KWD' })], period, { currency: 'KWD' }).averageDealSize,
    ).toBe(0.002);
    // A large sum stays exact: 12 500.50 × 3.
    expect(
      report([], [won(closedAt, 1_250_050), won(closedAt, 1_250_050), won(closedAt, 1_250_050)], period)
        .channels.paid.revenue,
    ).toBe(37_501.5);
  });

  it('an average of half a minor unit rounds to the minor unit once, half up: 100.5 paise are 1.01', () => {
    // 100.5 / 100 is 1.00499… in floating point: rounding after dividing would give 1.00, while
    // 300.5 / 100 rounds up to 3.01. The money must be rounded in minor units, then divided.
    const period = { from: '2026-03-01', to: '2026-03-02', tz: UTC };
    const closedAt = Date.UTC(2026, 2, 1, 12);
    expect(figures([], [won(closedAt, 100), won(closedAt, 101)], period).averageDealSize).toBe(100.5);
    expect(report([], [won(closedAt, 100), won(closedAt, 101)], period).averageDealSize).toBe(1.01);
    expect(report([], [won(closedAt, 300), won(closedAt, 301)], period).averageDealSize).toBe(3.01);
    expect(
      report([], [won(closedAt, 100), won(closedAt, 101)], period, { currency: 'JPY' }).averageDealSize,
    ).toBe(101);
  });
});

describe('period edges', () => {
  it('Asia/Kolkata: 23:59:59.999 local of the last day is in, 00:00 local of `to` is out', () => {
    const K = (date: string, time = '00:00') => localTime(KOLKATA, date, time);
    const period = { from: '2026-03-01', to: '2026-03-31', tz: KOLKATA };
    // Midnight in Kolkata is 18:30 UTC of the day before: a UTC-day implementation gets every edge wrong.
    expect(K('2026-03-31')).toBe(Date.UTC(2026, 2, 30, 18, 30));
    const la = lead({ createdAt: K('2026-03-10', '12:00') });
    const lb = lead({ createdAt: K('2026-03-10', '12:00') });
    const edgeLeads = [
      lead({ createdAt: K('2026-03-30', '23:59:59.999') }), // in
      lead({ createdAt: K('2026-03-31') }), // out: the period has ended
      lead({ createdAt: K('2026-03-01') }), // in: the first instant
      lead({ createdAt: K('2026-02-28', '23:59:59.999') }), // out: the previous period
    ];
    const deals = [
      dealFrom(la, {
        stage: 'won',
        amount: 100_00,
        createdAt: K('2026-03-10', '12:00'),
        closedAt: K('2026-03-30', '23:59:59.999'),
      }),
      dealFrom(lb, {
        stage: 'won',
        amount: 200_00,
        createdAt: K('2026-03-10', '12:00'),
        closedAt: K('2026-03-31'),
      }),
      won(K('2026-03-01'), 400_00, { createdAt: K('2026-02-15', '09:00') }),
      won(K('2026-02-28', '23:59:59.999'), 800_00, { createdAt: K('2026-02-15', '09:00') }),
    ];
    const leads = [la, lb, ...edgeLeads];
    const current = report(leads, deals, period);
    expect(current.dealCount).toBe(2);
    expect(current.averageDealSize).toBe(250); // 100 and 400
    expect(current.prospects).toBe(4); // la, lb, 03-30 23:59:59.999, 03-01 00:00
    // la's deal was won one millisecond before `to`; lb's exactly at `to`, which is too late.
    expect(current.converted).toBe(1);
    expect(current.closeRate).toBe(0.25);

    // The previous period, 2026-01-30 .. 2026-03-01.
    const previous = report(leads, deals, previousPeriod(period));
    expect(previous.period).toEqual({ from: '2026-01-30', to: '2026-03-01', tz: KOLKATA });
    expect(previous.dealCount).toBe(1);
    expect(previous.averageDealSize).toBe(800);
    // Prospects: the two deals without a lead (created 02-15) and the lead of 02-28 23:59:59.999.
    expect(previous.prospects).toBe(3);
    // The deal won at 03-01 00:00 was won at the previous period's `to`: not converted in it.
    expect(previous.converted).toBe(1);
  });

  it('America/New_York across the spring-forward change (2026-03-08): local midnights, not 24-hour steps', () => {
    const period = { from: '2026-03-01', to: '2026-03-09', tz: NEW_YORK };
    const start = localTime(NEW_YORK, '2026-03-01');
    const end = localTime(NEW_YORK, '2026-03-09');
    expect(start).toBe(Date.UTC(2026, 2, 1, 5)); // EST, UTC−5
    expect(end).toBe(Date.UTC(2026, 2, 9, 4)); // EDT, UTC−4: the period is 8 days less an hour
    const range = rangeOf(period);
    expect(range.toDay - range.fromDay).toBe(8);
    expect(previousRange(range)).toEqual(rangeOf({ from: '2026-02-21', to: '2026-03-01', tz: NEW_YORK }));
    const deals = [
      won(start - 1, 1_00), // out
      won(start, 2_00), // in
      won(Date.UTC(2026, 2, 8, 6, 59, 59, 999), 4_00), // 01:59:59.999 EST, just before the gap: in
      won(Date.UTC(2026, 2, 8, 7), 8_00), // 03:00 EDT, just after the gap: in
      won(end - 1, 16_00), // 23:59:59.999 EDT on 03-08: in
      won(end, 32_00), // out
      won(Date.UTC(2026, 2, 9, 4, 30), 64_00), // 00:30 EDT on 03-09: out (from + 8 × 24 h would take it in)
    ];
    const result = report([], deals, period);
    expect(result.dealCount).toBe(4);
    expect(result.channels.paid.revenue).toBe(30); // 2 + 4 + 8 + 16
    expect(report([], deals, previousPeriod(period)).dealCount).toBe(1);
  });

  it('America/New_York across the fall-back change (2026-11-01): a 25-hour day', () => {
    const day = { from: '2026-11-01', to: '2026-11-02', tz: NEW_YORK };
    const week = { from: '2026-10-25', to: '2026-11-01', tz: NEW_YORK };
    const deals = [
      won(Date.UTC(2026, 10, 1, 3, 59, 59, 999), 1_00), // 23:59:59.999 EDT on 10-31: the week
      won(Date.UTC(2026, 10, 1, 4), 2_00), // 00:00 EDT on 11-01: the day
      won(Date.UTC(2026, 10, 1, 5, 30), 4_00), // 01:30 EDT: the day
      won(Date.UTC(2026, 10, 1, 6, 30), 8_00), // 01:30 EST, the repeated hour: the day
      won(Date.UTC(2026, 10, 2, 4, 30), 16_00), // 23:30 EST on 11-01: the day (a 24-hour day would miss it)
      won(Date.UTC(2026, 10, 2, 5), 32_00), // 00:00 EST on 11-02: neither
    ];
    expect(report([], deals, day).channels.paid.revenue).toBe(30);
    expect(report([], deals, week).channels.paid.revenue).toBe(1);
    // Months are local too: 23:30 EDT on 10-31 is October, 00:00 EDT on 11-01 is November.
    const leads = [
      lead({ createdAt: Date.UTC(2026, 10, 1, 3, 30) }),
      lead({ createdAt: Date.UTC(2026, 10, 1, 4) }),
    ];
    const months = report(leads, [], { from: '2026-10-15', to: '2026-11-15', tz: NEW_YORK }).closeRateByMonth;
    expect(months).toEqual([
      { month: '2026-10', prospects: 1, converted: 0, closeRate: 0 },
      { month: '2026-11', prospects: 1, converted: 0, closeRate: 0 },
    ]);
  });

  it('the average cycle counts elapsed time in 86 400 000 ms days, not calendar days', () => {
    const period = { from: '2026-03-01', to: '2026-03-31', tz: NEW_YORK };
    const d = won(localTime(NEW_YORK, '2026-03-09', '12:00'), 100_00, {
      createdAt: localTime(NEW_YORK, '2026-03-07', '12:00'),
    });
    expect(figures([], [d], period).averageCycleDays).toBe(47 / 24); // two calendar days, 47 hours
    expect(report([], [d], period).averageCycleDays).toBe(1.9583);
  });

  it('rejects periods that are not real dates, end before they start or name no zone', () => {
    expect(parsePeriod({ from: '2026-02-30', to: '2026-03-01', tz: UTC }).ok).toBe(false);
    expect(parsePeriod({ from: '2026-03-01', to: '2026-03-01', tz: UTC }).ok).toBe(false);
    expect(parsePeriod({ from: '2026-03-02', to: '2026-03-01', tz: UTC }).ok).toBe(false);
    expect(parsePeriod({ from: '2026-03-01', to: '2026-03-02', tz: 'Mars/Olympus' }).ok).toBe(false);
    expect(parsePeriod({ from: '2026-03-01', to: '2026-03-02', tz: KOLKATA }).ok).toBe(true);
  });
});

describe('deleted records and zero amounts', () => {
  it('a deleted record counts nowhere', () => {
    const period = { from: '2026-03-01', to: '2026-04-01', tz: KOLKATA };
    const t = (date: string) => localTime(KOLKATA, date, '12:00');
    const deleted = { deletedAt: t('2026-03-28') };
    const l1 = lead({ createdAt: t('2026-03-02') });
    const l2 = lead({ createdAt: t('2026-03-02'), ...deleted });
    const alive = [
      l1,
      dealFrom(l2, { stage: 'won', amount: 500_00, createdAt: t('2026-03-03'), closedAt: t('2026-03-10') }), // its lead is deleted
    ];
    const gone = [
      l2,
      dealFrom(l1, {
        stage: 'won',
        amount: 700_00,
        createdAt: t('2026-03-03'),
        closedAt: t('2026-03-12'),
        ...deleted,
      }),
      lostDeal(t('2026-03-15'), { lostReason: 'competitor', ...deleted }),
      deal({
        stage: 'negotiation',
        createdAt: t('2026-03-04'),
        expectedCloseAt: t('2026-03-05'),
        ...deleted,
      }),
      deal({ stage: 'won', createdAt: t('2026-03-04'), closedAt: t('2026-03-06'), ...deleted }),
      lead({ partnerId: 'p2', repId: 'p2-r1', createdAt: t('2026-03-05'), ...deleted }),
      deal({
        partnerId: 'p2',
        repId: 'p2-r1',
        stage: 'lost',
        createdAt: t('2026-03-05'),
        closedAt: t('2026-03-06'),
        ...deleted,
      }),
    ];
    const split = (records: (Lead | Deal)[]) => ({
      leads: records.filter((r): r is Lead => !('stage' in r)),
      deals: records.filter((r): r is Deal => 'stage' in r),
    });
    const everything = split([...alive, ...gone]);
    const onlyAlive = split(alive);
    const result = report(everything.leads, everything.deals, period);
    expect(result).toEqual(report(onlyAlive.leads, onlyAlive.deals, period));
    expect(result.dealCount).toBe(1);
    expect(result.averageDealSize).toBe(500);
    expect(result.lostCount).toBe(0);
    expect(result.pipeline.count).toBe(0);
    expect(result.pipeline.overdue).toBe(0);
    expect(result.pipeline.lostToCompetitor).toBe(0);
    // l1 is the only prospect; its only won deal is deleted, so it is not converted.
    expect(result.prospects).toBe(1);
    expect(result.converted).toBe(0);
    // p2 has only deleted records: it is not a unit of the quality score.
    expect(result.qualityScores.map((q) => q.id)).toEqual(['p1']);
  });

  it('zero amounts: counted as deals, no revenue, no share, no revenue term', () => {
    const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
    const t = Date.UTC(2026, 2, 10);
    const deals = [
      won(t, 0),
      won(t, 0),
      won(t, 0, { partnerId: 'p2', repId: 'p2-r1' }),
      deal({ stage: 'proposal', amount: 0, createdAt: t }),
    ];
    const result = report([], deals, period);
    expect(result.dealCount).toBe(3);
    expect(result.averageDealSize).toBe(0); // not null: deals were won
    expect(result.channels.paid.revenue).toBe(0);
    expect(result.channels.paid.revenueShare).toBeNull(); // 0 ÷ 0
    expect(result.pipeline).toMatchObject({ count: 1, value: 0, weighted: 0 });
    expect(result.dealVelocity).toBe(0);
    // maxRevenue is 0, so the revenue term counts 0: p1 = 100 × (0.3 × 2/2 + 0.2 × wilson(2, 2)).
    expect(result.qualityScores).toEqual([
      { id: 'p1', score: 36.85, won: 2, revenue: 0, winRate: 1, winLow: 0.3424 },
      { id: 'p2', score: 19.13, won: 1, revenue: 0, winRate: 1, winLow: 0.2065 },
    ]);
    // Mixed with a non-zero win, the zero still counts in the average.
    expect(report([], [won(t, 0), won(t, 300_00)], period).averageDealSize).toBe(150);
  });
});

describe('empty periods', () => {
  it('give null ratios, never NaN, and every key', () => {
    const period = { from: '2026-03-01', to: '2026-03-02', tz: KOLKATA };
    const result = report([], [], period);
    expect(Object.keys(result)).toEqual(REPORT_KEYS);
    expect(Object.keys(result.channels)).toEqual(['paid', 'earned', 'owned', 'referral']);
    for (const channel of Object.values(result.channels)) expect(Object.keys(channel)).toEqual(CHANNEL_KEYS);
    expect(Object.keys(result.pipeline)).toEqual([
      'count',
      'value',
      'weighted',
      'overdue',
      'lostToCompetitor',
      'byStage',
    ]);
    expect(Object.keys(result.pipeline.byStage)).toEqual([
      'prospecting',
      'qualified',
      'proposal',
      'negotiation',
    ]);
    expect(result).toEqual({
      period,
      scope: 'all',
      averageDealSize: null,
      dealCount: 0,
      lostCount: 0,
      pipeline: { count: 0, value: 0, weighted: 0, overdue: 0, lostToCompetitor: 0, byStage: emptyStages },
      channels: { paid: emptyChannel, earned: emptyChannel, owned: emptyChannel, referral: emptyChannel },
      closeRate: null,
      closeRateByMonth: [{ month: '2026-03', prospects: 0, converted: 0, closeRate: null }],
      averageCycleDays: null,
      dealVelocity: null,
      qualityScores: [],
      dealSuccess: null,
      prospects: 0,
      converted: 0,
      needsAttention: [],
    });
    expect(JSON.stringify(result)).not.toContain('NaN');
  });

  it('with records only outside the period: nulls, and the units listed with score 0', () => {
    const period = { from: '2026-03-01', to: '2026-03-02', tz: KOLKATA };
    const t = Date.UTC(2026, 5, 1);
    const result = report(
      [lead({ createdAt: t })],
      [won(t, 100_00), lostDeal(t, { partnerId: 'p2', repId: 'p2-r1' })],
      period,
    );
    expect(result.closeRate).toBeNull();
    expect(result.dealSuccess).toBeNull();
    expect(result.averageDealSize).toBeNull();
    expect(result.averageCycleDays).toBeNull();
    expect(result.dealVelocity).toBeNull();
    expect(result.channels.paid).toEqual(emptyChannel);
    // Units are those with any lead or deal in scope, whatever the period (see the spec ambiguity
    // noted in the reference implementation); with nothing in the period they all score 0.
    expect(result.qualityScores).toEqual([
      { id: 'p1', score: 0, won: 0, revenue: 0, winRate: null, winLow: 0 },
      { id: 'p2', score: 0, won: 0, revenue: 0, winRate: null, winLow: 0 },
    ]);
    expect(result.needsAttention).toEqual([]);
    expect(JSON.stringify(result)).not.toContain('NaN');
  });
});

describe('scope and channel', () => {
  const period = { from: '2026-03-01', to: '2026-04-01', tz: KOLKATA };
  const t = localTime(KOLKATA, '2026-03-10', '15:00');
  const r = (partnerId: string, repId: string) => ({ partnerId, repId });
  const deals = [
    won(t, 300_00, r('p1', 'p1-r1')),
    lostDeal(t, r('p1', 'p1-r1')),
    won(t, 100_00, r('p1', 'p1-r2')),
    won(t, 100_00, { ...r('p1', 'p1-r2'), channel: 'referral' }),
    won(t, 500_00, r('p2', 'p2-r1')),
    lostDeal(t, r('p2', 'p2-r1')),
  ];
  const leads = [lead({ ...r('p2', 'p2-r2'), createdAt: t, channel: 'referral' })];

  it('partner scope: only its records; quality lists its reps; no needsAttention', () => {
    const result = report(leads, deals, period, { scope: { kind: 'partner', id: 'p1' } });
    expect(result.scope).toBe('partner:p1');
    expect(result.dealCount).toBe(3);
    expect(result.lostCount).toBe(1);
    expect(result.averageDealSize).toBe(166.67); // 500 / 3
    // p1-r1: 100 × (0.5 × 300/300 + 0.3 × 1/2 + 0.2 × wilson(1, 2)) = 66.89
    // p1-r2: 100 × (0.5 × 200/300 + 0.3 × 2/2 + 0.2 × wilson(2, 2)) = 70.18
    expect(result.qualityScores).toEqual([
      { id: 'p1-r2', score: 70.18, won: 2, revenue: 200, winRate: 1, winLow: 0.3424 },
      { id: 'p1-r1', score: 66.89, won: 1, revenue: 300, winRate: 0.5, winLow: 0.0945 },
    ]);
    expect(result.needsAttention).toEqual([]);
  });

  it('rep scope: the rep alone, also when it has a lead but no deal', () => {
    const result = report(leads, deals, period, { scope: { kind: 'rep', id: 'p2-r1' } });
    expect(result.scope).toBe('rep:p2-r1');
    expect(result.dealCount).toBe(1);
    expect(result.qualityScores).toEqual([
      { id: 'p2-r1', score: 81.89, won: 1, revenue: 500, winRate: 0.5, winLow: 0.0945 },
    ]);
    const leadOnly = report(leads, deals, period, { scope: { kind: 'rep', id: 'p2-r2' } });
    expect(leadOnly.prospects).toBe(1);
    expect(leadOnly.qualityScores).toEqual([
      { id: 'p2-r2', score: 0, won: 0, revenue: 0, winRate: null, winLow: 0 },
    ]);
  });

  it('a partner with no records: an empty report', () => {
    const result = report(leads, deals, period, { scope: { kind: 'partner', id: 'p9' } });
    expect(result.dealCount).toBe(0);
    expect(result.qualityScores).toEqual([]);
  });

  it('all: partners are the units', () => {
    const result = report(leads, deals, period);
    // Equal revenue; p1 won 3 of 4, p2 1 of 2.
    expect(result.qualityScores.map((q) => [q.id, q.revenue, q.won])).toEqual([
      ['p1', 500, 3],
      ['p2', 500, 1],
    ]);
  });

  it('channel filter: only records of that channel', () => {
    const result = report(leads, deals, period, { channel: 'referral' });
    expect(result.dealCount).toBe(1);
    expect(result.lostCount).toBe(0);
    // The referral lead and the referral deal (no lead, created in the period) are the prospects.
    expect(result.prospects).toBe(2);
    expect(result.converted).toBe(1);
    // Other channels are empty; their share of the (filtered) revenue is 0 of 100.
    expect(result.channels.paid).toEqual({ ...emptyChannel, revenueShare: 0 });
    expect(result.channels.referral).toMatchObject({
      won: 1,
      revenue: 100,
      revenueShare: 1,
      prospects: 2,
      converted: 1,
    });
    const all = report(leads, deals, period);
    expect(all.channels.referral.revenueShare).toBe(0.1); // 100 of 1 000
    expect(all.channels.paid.revenueShare).toBe(0.9);
    expect(all.channels.paid).toMatchObject({ won: 3, lost: 2, winRate: 0.6, averageDealSize: 300 });
  });
});

describe('opportunity pipeline', () => {
  const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
  const d = (month: number, day: number, hours = 0, ms = 0) =>
    Date.UTC(2026, month - 1, day, hours, 0, 0, ms);

  it('counts the deals open now created before `to`: value, weighted, overdue, by stage', () => {
    const deals = [
      deal({ stage: 'prospecting', amount: 1000_00, createdAt: d(2, 10), expectedCloseAt: d(3, 15) }), // before `from`: counts; overdue
      deal({
        stage: 'qualified',
        amount: 2000_00,
        probability: 40,
        createdAt: d(3, 5),
        expectedCloseAt: d(4, 1),
      }), // due exactly at `to`: not overdue
      deal({ stage: 'proposal', amount: 3000_00, createdAt: d(3, 20), expectedCloseAt: d(2, 1) }), // expected before it was made: overdue
      deal({ stage: 'negotiation', amount: 0, createdAt: d(4, 1) - 1 }),
      deal({ stage: 'negotiation', amount: 4000_00, createdAt: d(4, 1), expectedCloseAt: d(3, 1) }), // created at `to`: out
      deal({ stage: 'won', amount: 5000_00, createdAt: d(3, 1), closedAt: d(4, 10) }), // won after `to`: not open now
      lostDeal(d(3, 5), { lostReason: 'competitor' }),
      lostDeal(d(3, 31, 23), { lostReason: 'competitor' }),
      lostDeal(d(3, 6), { lostReason: 'price' }),
      lostDeal(d(4, 1), { lostReason: 'competitor' }), // closed at `to`: out
      lostDeal(d(2, 28, 23), { lostReason: 'competitor' }), // before `from`: out
    ];
    const result = report([], deals, period);
    expect(result.pipeline).toEqual({
      count: 4,
      value: 6000,
      // (1000 × 10 + 2000 × 40 + 3000 × 50 + 0 × 75) ÷ 100
      weighted: 2400,
      overdue: 2,
      lostToCompetitor: 2,
      byStage: {
        prospecting: { count: 1, value: 1000 },
        qualified: { count: 1, value: 2000 },
        proposal: { count: 1, value: 3000 },
        negotiation: { count: 1, value: 0 },
      },
    });
    expect(result.lostCount).toBe(3);
    // The pipeline does not depend on `from`.
    expect(report([], deals, { ...period, from: '2026-03-31' }).pipeline.count).toBe(4);
  });

  it('counts as overdue, on the day the figures are read (`today`), only what was due before that day (#13 item 3)', () => {
    const deals = [
      deal({ stage: 'proposal', amount: 1000_00, createdAt: d(2, 10), expectedCloseAt: d(3, 3) }), // due before the 6th
      deal({ stage: 'proposal', amount: 1000_00, createdAt: d(2, 10), expectedCloseAt: d(3, 6, 10) }), // due on the 6th itself: not yet
      deal({ stage: 'proposal', amount: 1000_00, createdAt: d(2, 10), expectedCloseAt: d(3, 20) }), // due later this month
      deal({ stage: 'proposal', amount: 1000_00, createdAt: d(3, 6, 9), expectedCloseAt: d(3, 1) }), // logged today, due before: from today
    ];
    const rollup = buildRollup(UTC, [], deals);
    const range = rangeOf(period);
    const today = range.fromDay + 5; // 6 March
    // kpi-spec.md without a day to read on: due before the period's end.
    expect(computeKpis(rollup, { range, scope: { kind: 'all' } }).pipeline.overdue).toBe(4);
    expect(computeKpis(rollup, { range, scope: { kind: 'all' }, today }).pipeline.overdue).toBe(1);
    expect(computeKpis(rollup, { range, scope: { kind: 'all' }, today: today + 1 }).pipeline.overdue).toBe(3);
    // A period that ended before today: as of its end.
    expect(
      computeKpis(rollup, {
        range: { fromDay: range.fromDay, toDay: today - 1 },
        scope: { kind: 'all' },
        today,
      }).pipeline.overdue,
    ).toBe(1);
    // The screens' list uses the same rule.
    const todayStart = Date.UTC(2026, 2, 6);
    expect(deals.filter((one) => isOverdue(one, todayStart))).toHaveLength(1);
  });

  it('keeps the weighted value unrounded in figures, rounds it in the report', () => {
    const deals = [deal({ stage: 'proposal', amount: 1, createdAt: d(3, 2) })];
    expect(figures([], deals, period).pipeline.weighted).toBe(0.5);
    expect(report([], deals, period).pipeline.weighted).toBe(0.01);
  });
});

describe('close rate', () => {
  it('converted = a prospect whose deal is won with closedAt < to', () => {
    const period = { from: '2026-03-01', to: '2026-03-16', tz: UTC };
    const t = (day: number) => Date.UTC(2026, 2, day, 9);
    const l1 = lead({ createdAt: t(2) });
    const l2 = lead({ createdAt: t(3) });
    const l3 = lead({ createdAt: t(3), status: 'converted' }); // the status says converted, no won deal does
    const l4 = lead({ createdAt: t(4) });
    const l5 = lead({ createdAt: t(4) });
    const leads = [l1, l2, l3, l4, l5];
    const deals = [
      dealFrom(l1, { stage: 'won', createdAt: t(2), closedAt: t(10) }),
      dealFrom(l2, { stage: 'won', createdAt: t(3), closedAt: t(20) }), // won after `to`
      dealFrom(l4, { stage: 'lost', createdAt: t(4), closedAt: t(5) }),
      dealFrom(l4, { stage: 'won', createdAt: t(5), closedAt: t(8) }), // one of its two deals won: converted once
      dealFrom(l5, { stage: 'won', createdAt: t(4), closedAt: t(9), deletedAt: t(11) }), // deleted win
      deal({ stage: 'won', createdAt: t(4), closedAt: t(12) }), // a deal without lead is a prospect itself
      deal({ stage: 'qualified', createdAt: t(4) }),
    ];
    const result = report(leads, deals, period);
    expect(result.prospects).toBe(7);
    expect(result.converted).toBe(3);
    expect(result.closeRate).toBe(0.4286);
    expect(result.channels.paid).toMatchObject({ prospects: 7, converted: 3, closeRate: 0.4286 });
    // Over the whole month, l2's win comes before the end.
    const month = report(leads, deals, { ...period, to: '2026-04-01' });
    expect(month.converted).toBe(4);
    expect(month.closeRate).toBe(0.5714);
  });

  it('closeRateByMonth: every month overlapping the period, oldest first, months without prospects included', () => {
    const K = (date: string, time: string) => localTime(KOLKATA, date, time);
    const jan = lead({ createdAt: K('2026-01-25', '10:00') });
    const leads = [
      lead({ createdAt: K('2026-01-19', '23:59') }), // before the period
      jan,
      lead({ createdAt: K('2026-01-31', '23:30') }), // January in Kolkata
      lead({ createdAt: K('2026-02-01', '00:10') }), // February in Kolkata, still January 31 in UTC
    ];
    const april = lead({ createdAt: K('2026-04-04', '23:59') });
    leads.push(april);
    const deals = [
      dealFrom(jan, {
        stage: 'won',
        createdAt: K('2026-01-26', '10:00'),
        closedAt: K('2026-02-01', '10:00'),
      }),
      dealFrom(april, {
        stage: 'won',
        createdAt: K('2026-04-04', '23:59'),
        closedAt: K('2026-04-05', '00:00'),
      }), // at `to`
    ];
    const result = report(leads, deals, { from: '2026-01-20', to: '2026-04-05', tz: KOLKATA });
    expect(result.closeRateByMonth).toEqual([
      { month: '2026-01', prospects: 2, converted: 1, closeRate: 0.5 },
      { month: '2026-02', prospects: 1, converted: 0, closeRate: 0 },
      { month: '2026-03', prospects: 0, converted: 0, closeRate: null },
      { month: '2026-04', prospects: 1, converted: 0, closeRate: 0 },
    ]);
    expect(result.closeRate).toBe(0.25);
    // A period ending at a month's start does not overlap that month.
    expect(
      report(leads, deals, { from: '2026-01-01', to: '2026-03-01', tz: KOLKATA }).closeRateByMonth.map(
        (m) => m.month,
      ),
    ).toEqual(['2026-01', '2026-02']);
    expect(
      report(leads, deals, { from: '2026-02-10', to: '2026-02-11', tz: KOLKATA }).closeRateByMonth,
    ).toEqual([{ month: '2026-02', prospects: 0, converted: 0, closeRate: null }]);
    // Across a year end.
    expect(
      report([], [], { from: '2025-12-15', to: '2026-01-15', tz: KOLKATA }).closeRateByMonth.map(
        (m) => m.month,
      ),
    ).toEqual(['2025-12', '2026-01']);
  });
});

describe('deal velocity', () => {
  const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
  const t = (day: number) => Date.UTC(2026, 2, day);
  const open = [deal({ stage: 'proposal', createdAt: t(2) }), deal({ stage: 'qualified', createdAt: t(3) })];

  it('= pipeline count × win rate × average deal size ÷ average cycle (money per day)', () => {
    const deals = [...open, won(t(11), 300_00, { createdAt: t(1) }), lostDeal(t(15))];
    // 2 × 0.5 × 30 000 paise ÷ 10 days = 3 000 paise a day
    expect(figures([], deals, period).dealVelocity).toBe(3000);
    const result = report([], deals, period);
    expect(result.averageCycleDays).toBe(10);
    expect(result.dealVelocity).toBe(30);
  });

  it('is null when nothing was won, when nothing closed, or when the average cycle is 0', () => {
    expect(report([], [...open, lostDeal(t(15))], period).dealVelocity).toBeNull();
    expect(report([], open, period).dealVelocity).toBeNull();
    const instant = won(t(11), 300_00, { createdAt: t(11) });
    const result = report([], [...open, instant], period);
    expect(result.averageCycleDays).toBe(0);
    expect(result.dealVelocity).toBeNull();
  });

  it('is 0, not null, with an empty pipeline', () => {
    expect(report([], [won(t(11), 300_00, { createdAt: t(1) })], period).dealVelocity).toBe(0);
  });
});

describe('quality score', () => {
  const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
  const t = Date.UTC(2026, 2, 10);
  const of = (partnerId: string) => ({ partnerId, repId: `${partnerId}-r1` });
  const many = (count: number, make: () => Deal) => Array.from({ length: count }, make);

  it('2 wins of 2 do not outrank 40 of 60', () => {
    const deals = [
      ...many(2, () => won(t, 100_00, of('a'))),
      ...many(40, () => won(t, 100_00, of('b'))),
      ...many(20, () => lostDeal(t, of('b'))),
    ];
    const result = report([], deals, period);
    expect(result.qualityScores.map((q) => [q.id, q.winRate, q.winLow])).toEqual([
      ['b', 0.6667, 0.5406],
      ['a', 1, 0.3424],
    ]);
    // Even with the same revenue (a's two deals are 20 times larger) b ranks first.
    const sameRevenue = [...many(2, () => won(t, 2000_00, of('a'))), ...deals.slice(2)];
    expect(report([], sameRevenue, period).qualityScores.map((q) => q.id)).toEqual(['b', 'a']);
  });

  it('is listed by score descending, then id ascending', () => {
    const deals = [
      won(t, 100_00, of('p3')),
      won(t, 100_00, of('p1')), // p1 and p3 tie: id ascending
      won(t, 300_00, of('p2')),
      won(t, 300_00, of('p10')), // p10 and p2 tie, 'p10' < 'p2'
    ];
    const result = report([lead({ ...of('p0'), createdAt: t })], deals, period);
    expect(result.qualityScores.map((q) => q.id)).toEqual(['p10', 'p2', 'p1', 'p3', 'p0']);
    const scores = result.qualityScores.map((q) => q.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('units with no win all score exactly 0 and are ordered by id (0 of 11 does not outrank 0 of 5)', () => {
    const deals = [
      ...many(11, () => lostDeal(t, of('p1'))),
      ...many(5, () => lostDeal(t, of('p2'))),
      ...many(3, () => lostDeal(t, of('p3'))),
    ];
    const result = report([], deals, period);
    expect(result.qualityScores).toEqual([
      { id: 'p1', score: 0, won: 0, revenue: 0, winRate: 0, winLow: 0 },
      { id: 'p2', score: 0, won: 0, revenue: 0, winRate: 0, winLow: 0 },
      { id: 'p3', score: 0, won: 0, revenue: 0, winRate: 0, winLow: 0 },
    ]);
    const reversed = [...many(5, () => lostDeal(t, of('p1'))), ...many(11, () => lostDeal(t, of('p2')))];
    expect(report([], reversed, period).qualityScores.map((q) => q.id)).toEqual(['p1', 'p2']);
  });
});

describe('deal success and needsAttention', () => {
  const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
  const t = Date.UTC(2026, 2, 10);
  const record = (partnerId: string, wins: number, losses: number): Deal[] => [
    ...Array.from({ length: wins }, () => won(t, 100_00, { partnerId, repId: `${partnerId}-r1` })),
    ...Array.from({ length: losses }, () => lostDeal(t, { partnerId, repId: `${partnerId}-r1` })),
  ];
  /** A partner with an open deal only: its deal success is null. */
  const noneClosed = (partnerId: string) => [deal({ partnerId, repId: `${partnerId}-r1`, createdAt: t })];

  it('odd number of partners: below half the median, strictly; null partners left out', () => {
    // Rates 1, 0.5, 0.5, 0.25, 0.2 → median 0.5, half 0.25: p5 (0.2) is listed, p4 (0.25) is not.
    const deals = [
      ...record('p1', 1, 0),
      ...record('p2', 1, 1),
      ...record('p3', 2, 2),
      ...record('p4', 1, 3),
      ...record('p5', 1, 4),
      ...noneClosed('p6'),
    ];
    const result = report([], deals, period);
    expect(result.needsAttention).toEqual(['p5']);
    expect(result.dealSuccess).toBe(0.375); // 6 of 16
    expect(result.dealSuccess).toBe(result.channels.paid.winRate);
    expect(result.qualityScores.find((q) => q.id === 'p6')?.winRate).toBeNull();
  });

  it('even number of partners: the median is the mean of the middle two; ids ascending', () => {
    // Rates 0 (p9), 0 (p10), 1 (p1), 1 (p2) → median 0.5, half 0.25: p10 and p9, in id order.
    // Counting p5 (null) as 0 would make the median 0 and list nobody.
    const deals = [
      ...record('p9', 0, 2),
      ...record('p10', 0, 1),
      ...record('p1', 1, 0),
      ...record('p2', 2, 0),
      ...noneClosed('p5'),
    ];
    const result = report([], deals, period);
    expect(result.needsAttention).toEqual(['p10', 'p9']);
    // Only in scope all.
    expect(report([], deals, period, { scope: { kind: 'partner', id: 'p9' } }).needsAttention).toEqual([]);
  });

  it('nobody needs attention when no partner closed a deal, or when all do alike', () => {
    expect(report([], [...noneClosed('p1'), ...noneClosed('p2')], period).needsAttention).toEqual([]);
    expect(report([], [...record('p1', 1, 1), ...record('p2', 2, 2)], period).needsAttention).toEqual([]);
  });
});

describe('previous period', () => {
  it('has the same number of days and ends where the period starts', () => {
    const period = { from: '2026-03-01', to: '2026-03-16', tz: KOLKATA };
    const range = rangeOf(period);
    expect(previousRange(range)).toEqual(rangeOf({ from: '2026-02-14', to: '2026-03-01', tz: KOLKATA }));
    expect(previousPeriod(period)).toEqual({ from: '2026-02-14', to: '2026-03-01', tz: KOLKATA });
    const deals = [
      won(localTime(KOLKATA, '2026-02-20', '12:00'), 700_00),
      won(localTime(KOLKATA, '2026-03-05', '12:00'), 100_00),
    ];
    const rollup = buildRollup(KOLKATA, [], deals);
    const previous = computeKpis(rollup, { range: previousRange(range), scope: { kind: 'all' } });
    expect(previous.dealCount).toBe(1);
    expect(previous.revenue).toBe(700_00);
    expect(report([], deals, previousPeriod(period)).averageDealSize).toBe(700);
    expect(report([], deals, period).averageDealSize).toBe(100);
  });
});

describe('a period under way (#13 item 4)', () => {
  it('is compared with the same days of the previous one: six days of wins against six, not against a month', () => {
    const at = (date: string) => localTime(KOLKATA, date, '12:00');
    const deals = [
      won(at('2026-11-03'), 100_00),
      won(at('2026-11-20'), 900_00),
      won(at('2026-12-04'), 100_00),
    ];
    const rollup = buildRollup(KOLKATA, [], deals);
    const range = rangeOf({ from: '2026-12-01', to: '2027-01-01', tz: KOLKATA });
    const today = range.fromDay + 5;
    const { previous: previousDays } = comparedRange(range, today);
    const { current, previous } = computeComparison(
      rollup,
      { range, previous: previousDays, today },
      { kind: 'all' },
    );
    expect([current.dealCount, previous.dealCount, previous.revenue]).toEqual([1, 1, 100_00]);
  });

  it('says a close rate is too early to judge while its prospects are younger than the typical sales cycle', () => {
    const range = rangeOf({ from: '2026-12-01', to: '2027-01-01', tz: KOLKATA });
    const sixth = range.fromDay + 5;
    expect(closeRateTooEarly(range, sixth, 30)).toEqual({ ageDays: 6, cycleDays: 30 });
    // Once a cycle has passed, or for a month over (31 days) with a shorter cycle: judged.
    expect(closeRateTooEarly(range, sixth, 6)).toBeUndefined();
    expect(closeRateTooEarly(range, range.toDay + 100, 30)).toBeUndefined();
    // A past period: its prospects had until its end, whatever today is.
    expect(
      closeRateTooEarly({ fromDay: range.fromDay, toDay: range.fromDay + 10 }, range.toDay + 100, 30),
    ).toEqual({ ageDays: 10, cycleDays: 30 });
    // No deal won in a year: no cycle to go by, judged.
    expect(closeRateTooEarly(range, sixth, null)).toBeUndefined();
    // computeComparison learns the cycle from the year's wins (40 days each here).
    const deals = [won(localTime(KOLKATA, '2026-10-01', '12:00'), 100_00)].map((one) => ({
      ...one,
      createdAt: one.closedAt! - 40 * DAY_MS,
    }));
    const rollup = buildRollup(KOLKATA, [], deals);
    const compared = computeComparison(
      rollup,
      { range, previous: previousRange(range), today: sixth },
      { kind: 'all' },
    );
    expect(compared.closeRateTooEarly).toEqual({ ageDays: 6, cycleDays: 40 });
  });
});

describe('figures', () => {
  it('keep money in integer minor units and report it in major units', () => {
    const period = { from: '2026-03-01', to: '2026-04-01', tz: UTC };
    const deals = [won(Date.UTC(2026, 2, 3), 12_345_67), won(Date.UTC(2026, 2, 4), 1)];
    const f = figures([], deals, period);
    expect(f.revenue).toBe(12_345_68);
    expect(f.averageDealSize).toBe(12_345_68 / 2);
    expect(toReport(f, period, 'INR').averageDealSize).toBe(6172.84);
    expect(f.averageCycleDays).toBe(5);
  });
});
