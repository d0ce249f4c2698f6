/**
 * Quarterly targets (src/lib/console/targets.ts): the quarter of an instant in the program's zone,
 * the quarters offered, the vendor's form (every problem by field) and a partner's progress and
 * pipeline coverage.
 */
import { describe, expect, it } from 'vitest';
import { getLocale, overwriteGetLocale } from '$lib/paraglide/runtime';
import { targetProblemText } from '../../../src/lib/console/vendor-view';
import { formatDay } from '../../../src/lib/kpi/calendar';
import {
  MAX_DEAL_TARGET,
  parseQuarter,
  parseTargetForm,
  pipelineCoverage,
  quarterOf,
  targetFor,
  targetProgress,
  targetQuarters,
  targetToForm,
} from '../../../src/lib/console/targets';

const TZ = 'Asia/Kolkata';
const days = (range: { fromDay: number; toDay: number }) => [
  formatDay(range.fromDay),
  formatDay(range.toDay),
];

describe('quarters', () => {
  it('takes the quarter of an instant in the program’s zone, not in UTC', () => {
    // 20:00 UTC on 30 September is 01:30 on 1 October in India: already the fourth quarter there.
    const instant = Date.UTC(2026, 8, 30, 20, 0);
    expect(quarterOf(instant, TZ).key).toBe('2026-Q4');
    expect(quarterOf(instant, 'UTC').key).toBe('2026-Q3');
    expect(days(quarterOf(instant, TZ).range)).toEqual(['2026-10-01', '2027-01-01']);
  });

  it('parses quarter keys and refuses anything else', () => {
    expect(days(parseQuarter('2026-Q1')!.range)).toEqual(['2026-01-01', '2026-04-01']);
    for (const bad of ['2026-Q5', '2026-Q0', '26-Q1', '2026Q1', '', '2026-q1'])
      expect(parseQuarter(bad)).toBeUndefined();
  });

  it('offers the current quarter and the next three, across the year’s end', () => {
    expect(targetQuarters(Date.UTC(2026, 10, 28), TZ).map((quarter) => quarter.key)).toEqual([
      '2026-Q4',
      '2027-Q1',
      '2027-Q2',
      '2027-Q3',
    ]);
  });

  it('finds a partner’s target for a quarter', () => {
    const targets = [
      { partnerId: 'p1', quarter: '2026-Q4', revenue: 1, deals: 1, setAt: 0, setBy: 'v' },
      { partnerId: 'p2', quarter: '2026-Q4', revenue: 2, deals: 2, setAt: 0, setBy: 'v' },
    ];
    expect(targetFor(targets, 'p2', '2026-Q4')?.revenue).toBe(2);
    expect(targetFor(targets, 'p2', '2027-Q1')).toBeUndefined();
  });
});

describe('the target form', () => {
  it('turns major units into minor units, ignoring thousands separators', () => {
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '25,00,000', deals: '12' }, 'INR')).toEqual({
      ok: true,
      quarter: '2026-Q4',
      revenue: 250_000_000,
      deals: 12,
    });
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '12500.5', deals: '0' }, 'INR')).toEqual({
      ok: true,
      quarter: '2026-Q4',
      revenue: 1_250_050,
      deals: 0,
    });
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '5000', deals: '3' }, 'JPY')).toMatchObject({
      ok: true,
      revenue: 5000,
    });
  });

  it('takes amounts and counts as the screens show them: ₹, lakh and crore, Devanagari digits (#13 item 13)', () => {
    for (const revenue of ['₹25,00,000', '₹ 25 L', '₹25 लाख', '२५,००,०००', '₹2,500,000']) {
      expect(parseTargetForm({ quarter: '2026-Q4', revenue, deals: '१२' }, 'INR'), revenue).toEqual({
        ok: true,
        quarter: '2026-Q4',
        revenue: 250_000_000,
        deals: 12,
      });
    }
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '25,0000', deals: '1,2' }, 'INR')).toMatchObject({
      ok: false,
      problems: { revenue: { code: 'notAmount', value: '25,0000' }, deals: { code: 'notWholeNumber' } },
    });
  });

  it('names every problem by its field, at once', () => {
    expect(parseTargetForm({ quarter: '', revenue: '', deals: '' }, 'INR')).toEqual({
      ok: false,
      problems: { quarter: { code: 'required' }, revenue: { code: 'noTarget' } },
    });
    expect(parseTargetForm({ quarter: '2026-Q7', revenue: 'lots', deals: '2.5' }, 'INR')).toEqual({
      ok: false,
      problems: {
        quarter: { code: 'notQuarter' },
        revenue: { code: 'notAmount', value: 'lots' },
        deals: { code: 'notWholeNumber', value: '2.5' },
      },
    });
  });

  it('refuses a target of nothing (₹0 and 0 deals) and negative figures; an empty part is no target for it (#13 item 14)', () => {
    for (const [revenue, deals] of [
      ['0', '0'],
      ['', '0'],
      ['0', ''],
      ['0.00', ' '],
    ]) {
      expect(parseTargetForm({ quarter: '2026-Q4', revenue: revenue!, deals: deals! }, 'INR')).toEqual({
        ok: false,
        problems: { revenue: { code: 'noTarget' } },
      });
    }
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '-5', deals: '-2' }, 'INR')).toEqual({
      ok: false,
      problems: { revenue: { code: 'negative' }, deals: { code: 'negative' } },
    });
    // Revenue alone, or deals alone, is a target.
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '500000', deals: '' }, 'INR')).toEqual({
      ok: true,
      quarter: '2026-Q4',
      revenue: 50_000_000,
      deals: 0,
    });
    expect(parseTargetForm({ quarter: '2026-Q4', revenue: '', deals: '12' }, 'INR')).toEqual({
      ok: true,
      quarter: '2026-Q4',
      revenue: 0,
      deals: 12,
    });
    // And the form shows such a target with the empty part empty again.
    expect(targetToForm({ quarter: '2026-Q4', revenue: 0, deals: 12 }, 'INR')).toEqual({
      quarter: '2026-Q4',
      revenue: '',
      deals: '12',
    });
    expect(targetToForm({ quarter: '2026-Q4', revenue: 50_000_000, deals: 0 }, 'INR')).toEqual({
      quarter: '2026-Q4',
      revenue: '500000',
      deals: '',
    });
  });

  it('says why a target of nothing or a negative one is refused, in English and Hindi', () => {
    const appLocale = getLocale;
    try {
      expect(targetProblemText({ code: 'noTarget' }, 'Revenue target (INR)')).toBe(
        'A target needs revenue or deals to win above 0: set one of them, or both.',
      );
      expect(targetProblemText({ code: 'negative' }, 'Deals to win')).toBe(
        'Deals to win cannot be negative.',
      );
      overwriteGetLocale(() => 'hi');
      expect(targetProblemText({ code: 'noTarget' }, 'राजस्व लक्ष्य (INR)')).toBe(
        'लक्ष्य में 0 से अधिक राजस्व या जीतने वाली डील होनी चाहिए: इनमें से एक या दोनों तय करें।',
      );
    } finally {
      overwriteGetLocale(appLocale);
    }
  });

  it('refuses decimals a currency does not have, too many decimals, and amounts too large', () => {
    const problems = (revenue: string, currency: string, deals = '1') => {
      const result = parseTargetForm({ quarter: '2026-Q4', revenue, deals }, currency);
      return result.ok ? undefined : result.problems;
    };
    expect(problems('10.5', 'JPY')).toEqual({
      revenue: { code: 'noMinorUnit', value: '10.5', currency: 'JPY' },
    });
    expect(problems('10.555', 'INR')).toEqual({
      revenue: { code: 'tooManyDecimals', value: '10.555', max: 2 },
    });
    expect(problems('99999999999999999999', 'INR')).toEqual({
      revenue: { code: 'tooLarge', value: '99999999999999999999' },
    });
    expect(problems('10', 'INR', String(MAX_DEAL_TARGET + 1))).toEqual({
      deals: { code: 'tooLarge', value: String(MAX_DEAL_TARGET + 1) },
    });
  });

  it('fills the form from a target, whole amounts without decimals', () => {
    expect(targetToForm({ quarter: '2026-Q4', revenue: 250_000_000, deals: 12 }, 'INR')).toEqual({
      quarter: '2026-Q4',
      revenue: '2500000',
      deals: '12',
    });
    expect(targetToForm({ quarter: '2026-Q4', revenue: 1_250_050, deals: 1 }, 'INR').revenue).toBe(
      '12500.50',
    );
    const back = parseTargetForm(
      targetToForm({ quarter: '2026-Q4', revenue: 1_250_050, deals: 1 }, 'INR'),
      'INR',
    );
    expect(back).toMatchObject({ ok: true, revenue: 1_250_050 });
  });
});

describe('progress and pipeline coverage', () => {
  it('coverage is the open pipeline over what is left of the target', () => {
    expect(pipelineCoverage(300, 100)).toBe(3);
    expect(pipelineCoverage(50, 100)).toBe(0.5);
    expect(pipelineCoverage(0, 100)).toBe(0);
    // Nothing left to win: nothing to cover.
    expect(pipelineCoverage(300, 0)).toBeNull();
    expect(pipelineCoverage(300, -5)).toBeNull();
  });

  it('counts revenue and deals won against the target, and what remains', () => {
    expect(
      targetProgress({
        target: { revenue: 1000, deals: 4 },
        revenueWon: 400,
        dealsWon: 1,
        openPipeline: 1200,
      }),
    ).toEqual({
      revenueShare: 0.4,
      dealsShare: 0.25,
      remaining: 600,
      coverage: 2,
      reached: false,
    });
  });

  it('a reached target has nothing remaining and no coverage; a zero target no share', () => {
    expect(
      targetProgress({
        target: { revenue: 1000, deals: 2 },
        revenueWon: 1500,
        dealsWon: 3,
        openPipeline: 10,
      }),
    ).toEqual({
      revenueShare: 1.5,
      dealsShare: 1.5,
      remaining: 0,
      coverage: null,
      reached: true,
    });
    // A target of nothing (older data; the form refuses it) is never "reached".
    expect(
      targetProgress({ target: { revenue: 0, deals: 0 }, revenueWon: 0, dealsWon: 0, openPipeline: 0 }),
    ).toMatchObject({ revenueShare: null, dealsShare: null, reached: false });
  });

  it('a target of deals alone is reached when its deals are won, not on the first day', () => {
    expect(
      targetProgress({ target: { revenue: 0, deals: 3 }, revenueWon: 900, dealsWon: 2, openPipeline: 500 }),
    ).toEqual({
      revenueShare: null,
      dealsShare: 2 / 3,
      remaining: 0,
      coverage: null,
      reached: false,
    });
    expect(
      targetProgress({ target: { revenue: 0, deals: 3 }, revenueWon: 900, dealsWon: 3, openPipeline: 500 }),
    ).toMatchObject({ reached: true });
  });
});
