/**
 * Recommendation rules (src/lib/kpi/recommendations.ts): each rule on its own — a case that fires,
 * the boundary at its threshold, and cases that stay silent — then `recommend` (ordering, cap) and
 * a property that no recommendation ever carries NaN or Infinity.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHANNELS, OPEN_STAGES, STAGES, type Channel, type OpenStage } from '../../../src/lib/domain/schema';
import type { ChannelFigures, KpiFigures, PipelineFigures, StageFigures } from '../../../src/lib/kpi/kpis';
import {
  closeRateFell,
  competitorLosses,
  MAX_RECOMMENDATIONS,
  noProspects,
  overdueDeals,
  pipelineThin,
  recommend,
  strongChannel,
  weakChannel,
  winRateFell,
  type Recommendation,
  type RecommendationInput,
} from '../../../src/lib/kpi/recommendations';

// ---------------------------------------------------------------------------------------------
// Builders

const NOW = Date.UTC(2026, 3, 1);
const DAY = 86_400_000;

function channelFigures(overrides: Partial<ChannelFigures> = {}): ChannelFigures {
  return {
    prospects: 0,
    converted: 0,
    won: 0,
    lost: 0,
    revenue: 0,
    closeRate: null,
    winRate: null,
    averageDealSize: null,
    revenueShare: null,
    ...overrides,
  };
}

/** Channel figures with `won` of `won + lost` closed deals. */
const closed = (won: number, lost: number): Partial<ChannelFigures> => ({
  won,
  lost,
  winRate: won / (won + lost),
});

interface FigureOverrides extends Partial<Omit<KpiFigures, 'pipeline' | 'channels'>> {
  pipeline?: Partial<PipelineFigures>;
  channels?: Partial<Record<Channel, Partial<ChannelFigures>>>;
}

/** KPI figures of a quiet period (every field filled, nothing that makes a rule speak), with overrides. */
function figures(overrides: FigureOverrides = {}): KpiFigures {
  const { pipeline, channels, ...rest } = overrides;
  return {
    range: { fromDay: 20_454, toDay: 20_544 },
    scope: { kind: 'all' },
    averageDealSize: null,
    dealCount: 0,
    lostCount: 0,
    revenue: 0,
    pipeline: {
      count: 0,
      value: 0,
      weighted: 0,
      overdue: 0,
      lostToCompetitor: 0,
      byStage: Object.fromEntries(OPEN_STAGES.map((stage) => [stage, { count: 0, value: 0 }])) as Record<
        OpenStage,
        StageFigures
      >,
      ...pipeline,
    },
    channels: Object.fromEntries(
      CHANNELS.map((channel) => [channel, channelFigures(channels?.[channel])]),
    ) as Record<Channel, ChannelFigures>,
    prospects: 1,
    converted: 0,
    closeRate: 0,
    closeRateByMonth: [],
    winRate: null,
    averageCycleDays: null,
    dealVelocity: null,
    qualityScores: [],
    dealSuccess: null,
    needsAttention: [],
    ...rest,
  };
}

function input(overrides: Partial<RecommendationInput> = {}): RecommendationInput {
  return { current: figures(), previous: figures(), openDeals: [], todayStart: NOW, ...overrides };
}

type OpenDeal = RecommendationInput['openDeals'][number];
const openDeal = (
  id: string,
  amount: number,
  expectedCloseAt?: number,
  stage: OpenDeal['stage'] = 'proposal',
  createdAt = NOW - 30 * DAY,
): OpenDeal => ({
  id,
  amount,
  createdAt,
  expectedCloseAt,
  stage,
});

/** Figures with `converted` of `prospects` prospects converted. */
const prospecting = (prospects: number, converted: number): FigureOverrides => ({
  prospects,
  converted,
  closeRate: prospects === 0 ? null : converted / prospects,
});

/** Figures with `won` of `won + lost` deals won. */
const winning = (won: number, lost: number): FigureOverrides => ({
  dealCount: won,
  lostCount: lost,
  winRate: won + lost === 0 ? null : won / (won + lost),
});

// ---------------------------------------------------------------------------------------------
// Rules

describe('overdueDeals', () => {
  it('counts the open deals past their expected close date and sums their value', () => {
    const openDeals = [
      openDeal('d1', 150_000, NOW - 3 * DAY),
      openDeal('d2', 270_000, NOW - DAY, 'negotiation'),
      openDeal('d3', 999_999, NOW + DAY),
      openDeal('d4', 500_000),
    ];
    expect(overdueDeals(input({ openDeals }))).toEqual({
      kind: 'overdueDeals',
      severity: 'warning',
      values: { count: 2, value: 420_000 },
    });
  });

  it('calls a deal overdue only once its expected close is strictly before today, and it was created before today too (as KPI 3)', () => {
    expect(overdueDeals(input({ openDeals: [openDeal('d1', 100, NOW)] }))).toBeNull();
    expect(overdueDeals(input({ openDeals: [openDeal('d1', 100, NOW - 1)] }))?.values).toEqual({
      count: 1,
      value: 100,
    });
    // Logged today with a close date in the past: the rollup counts it from today, so not yet.
    expect(
      overdueDeals(input({ openDeals: [openDeal('d1', 100, NOW - DAY, 'proposal', NOW + 1)] })),
    ).toBeNull();
  });

  it('stays silent with no open deals, no expected dates, or only closed deals', () => {
    expect(overdueDeals(input())).toBeNull();
    expect(
      overdueDeals(input({ openDeals: [openDeal('d1', 100), openDeal('d2', 200, NOW + DAY)] })),
    ).toBeNull();
    const closedDeals = [openDeal('d1', 100, NOW - DAY, 'won'), openDeal('d2', 100, NOW - DAY, 'lost')];
    expect(overdueDeals(input({ openDeals: closedDeals }))).toBeNull();
  });
});

describe('closeRateFell', () => {
  it('fires when the close rate fell by 5 points or more', () => {
    const result = closeRateFell(
      input({ previous: figures(prospecting(25, 8)), current: figures(prospecting(20, 4)) }),
    );
    expect(result).toEqual({ kind: 'closeRateFell', severity: 'warning', values: { from: 0.32, to: 0.2 } });
  });

  it('fires at exactly 5 points (despite floating point) and not at 4', () => {
    // 0.5 − 0.45 is 0.04999999999999999 in floating point.
    expect(
      closeRateFell(input({ previous: figures(prospecting(20, 10)), current: figures(prospecting(20, 9)) }))
        ?.values,
    ).toEqual({
      from: 0.5,
      to: 0.45,
    });
    expect(
      closeRateFell(input({ previous: figures(prospecting(50, 25)), current: figures(prospecting(50, 23)) })),
    ).toBeNull();
  });

  it('needs at least 10 prospects in each period', () => {
    const ten = closeRateFell(
      input({ previous: figures(prospecting(10, 5)), current: figures(prospecting(10, 2)) }),
    );
    expect(ten?.values).toEqual({ from: 0.5, to: 0.2 });
    expect(
      closeRateFell(input({ previous: figures(prospecting(9, 5)), current: figures(prospecting(10, 2)) })),
    ).toBeNull();
    expect(
      closeRateFell(input({ previous: figures(prospecting(10, 5)), current: figures(prospecting(9, 1)) })),
    ).toBeNull();
  });

  it('stays silent when the rate rose or held, or when a rate is null', () => {
    expect(
      closeRateFell(input({ previous: figures(prospecting(20, 4)), current: figures(prospecting(20, 8)) })),
    ).toBeNull();
    expect(
      closeRateFell(input({ previous: figures(prospecting(20, 4)), current: figures(prospecting(20, 4)) })),
    ).toBeNull();
    const nullRate = figures({ prospects: 20, converted: 0, closeRate: null });
    expect(closeRateFell(input({ previous: nullRate, current: figures(prospecting(20, 1)) }))).toBeNull();
    expect(closeRateFell(input({ previous: figures(prospecting(20, 10)), current: nullRate }))).toBeNull();
  });
});

describe('winRateFell', () => {
  it('fires when the win rate fell by 5 points or more', () => {
    const result = winRateFell(input({ previous: figures(winning(8, 2)), current: figures(winning(3, 7)) }));
    expect(result).toEqual({ kind: 'winRateFell', severity: 'warning', values: { from: 0.8, to: 0.3 } });
  });

  it('fires at exactly 5 points (despite floating point) and not just below', () => {
    // 0.3 − 0.25 is 0.04999999999999999 in floating point.
    expect(
      winRateFell(input({ previous: figures(winning(3, 7)), current: figures(winning(5, 15)) }))?.values,
    ).toEqual({
      from: 0.3,
      to: 0.25,
    });
    expect(
      winRateFell(input({ previous: figures(winning(30, 70)), current: figures(winning(26, 74)) })),
    ).toBeNull();
  });

  it('needs at least 5 closed deals in each period', () => {
    expect(
      winRateFell(input({ previous: figures(winning(4, 1)), current: figures(winning(1, 4)) }))?.values,
    ).toEqual({
      from: 0.8,
      to: 0.2,
    });
    expect(
      winRateFell(input({ previous: figures(winning(4, 0)), current: figures(winning(1, 4)) })),
    ).toBeNull();
    expect(
      winRateFell(input({ previous: figures(winning(4, 1)), current: figures(winning(1, 3)) })),
    ).toBeNull();
  });

  it('stays silent when the rate rose, or when a rate is null', () => {
    expect(
      winRateFell(input({ previous: figures(winning(3, 7)), current: figures(winning(8, 2)) })),
    ).toBeNull();
    expect(
      winRateFell(
        input({
          previous: figures({ dealCount: 5, lostCount: 5, winRate: null }),
          current: figures(winning(1, 9)),
        }),
      ),
    ).toBeNull();
    expect(
      winRateFell(
        input({
          previous: figures(winning(8, 2)),
          current: figures({ dealCount: 1, lostCount: 9, winRate: null }),
        }),
      ),
    ).toBeNull();
  });
});

describe('weakChannel', () => {
  it('names the channel whose win rate is below half of the best channel', () => {
    const current = figures({
      channels: { paid: closed(8, 2), earned: closed(5, 5), referral: closed(3, 7), owned: closed(2, 8) },
    });
    expect(weakChannel(input({ current }))).toEqual({
      kind: 'weakChannel',
      severity: 'warning',
      values: { channel: 'owned', winRate: 0.2, bestChannel: 'paid', bestWinRate: 0.8 },
    });
  });

  it('stays silent at exactly half of the best, fires just below', () => {
    expect(
      weakChannel(input({ current: figures({ channels: { paid: closed(8, 2), referral: closed(4, 6) } }) })),
    ).toBeNull();
    const below = weakChannel(
      input({ current: figures({ channels: { paid: closed(80, 20), referral: closed(39, 61) } }) }),
    );
    expect(below?.values).toEqual({
      channel: 'referral',
      winRate: 0.39,
      bestChannel: 'paid',
      bestWinRate: 0.8,
    });
  });

  it('counts only channels with at least 5 closed deals', () => {
    expect(
      weakChannel(input({ current: figures({ channels: { paid: closed(4, 1), referral: closed(0, 5) } }) }))
        ?.values,
    ).toEqual({
      channel: 'referral',
      winRate: 0,
      bestChannel: 'paid',
      bestWinRate: 0.8,
    });
    expect(
      weakChannel(input({ current: figures({ channels: { paid: closed(4, 0), referral: closed(0, 5) } }) })),
    ).toBeNull();
    expect(
      weakChannel(input({ current: figures({ channels: { paid: closed(4, 1), referral: closed(0, 4) } }) })),
    ).toBeNull();
  });

  it('stays silent with null win rates, equal channels, or figures of one channel', () => {
    expect(weakChannel(input())).toBeNull();
    const nulls = { won: 5, lost: 5, winRate: null };
    expect(
      weakChannel(input({ current: figures({ channels: { paid: nulls, referral: closed(0, 10) } }) })),
    ).toBeNull();
    expect(
      weakChannel(
        input({ current: figures({ channels: { paid: closed(0, 10), referral: closed(0, 10) } }) }),
      ),
    ).toBeNull();
    const oneChannel = figures({ channel: 'paid', channels: { paid: closed(8, 2), referral: closed(1, 9) } });
    expect(weakChannel(input({ current: oneChannel }))).toBeNull();
  });
});

describe('competitorLosses', () => {
  it('fires when competitors took at least 30 % of the lost deals', () => {
    const current = figures({ lostCount: 8, pipeline: { lostToCompetitor: 4 } });
    expect(competitorLosses(input({ current }))).toEqual({
      kind: 'competitorLosses',
      severity: 'warning',
      values: { count: 4, share: 0.5 },
    });
  });

  it('fires at exactly 30 % and not below', () => {
    expect(
      competitorLosses(input({ current: figures({ lostCount: 10, pipeline: { lostToCompetitor: 3 } }) }))
        ?.values,
    ).toEqual({
      count: 3,
      share: 0.3,
    });
    expect(
      competitorLosses(input({ current: figures({ lostCount: 100, pipeline: { lostToCompetitor: 29 } }) })),
    ).toBeNull();
  });

  it('needs at least 5 lost deals', () => {
    expect(
      competitorLosses(input({ current: figures({ lostCount: 5, pipeline: { lostToCompetitor: 2 } }) }))
        ?.values,
    ).toEqual({
      count: 2,
      share: 0.4,
    });
    expect(
      competitorLosses(input({ current: figures({ lostCount: 4, pipeline: { lostToCompetitor: 4 } }) })),
    ).toBeNull();
  });

  it('stays silent with nothing lost or no competitor losses', () => {
    expect(competitorLosses(input())).toBeNull();
    expect(
      competitorLosses(input({ current: figures({ lostCount: 20, pipeline: { lostToCompetitor: 0 } }) })),
    ).toBeNull();
  });
});

describe('noProspects', () => {
  it('fires when the period has no prospect at all', () => {
    expect(noProspects(input({ current: figures(prospecting(0, 0)) }))).toEqual({
      kind: 'noProspects',
      severity: 'info',
      values: {},
    });
  });

  it('stays silent from the first prospect on', () => {
    expect(noProspects(input({ current: figures(prospecting(1, 0)) }))).toBeNull();
    expect(noProspects(input({ current: figures(prospecting(40, 10)) }))).toBeNull();
  });

  it('looks only at the current period', () => {
    expect(
      noProspects(input({ previous: figures(prospecting(0, 0)), current: figures(prospecting(3, 1)) })),
    ).toBeNull();
  });
});

describe('pipelineThin', () => {
  it('fires when the weighted pipeline is below the revenue won in the previous period', () => {
    const result = pipelineThin(
      input({
        current: figures({ pipeline: { weighted: 250_000.5 } }),
        previous: figures({ revenue: 600_000 }),
      }),
    );
    expect(result).toEqual({
      kind: 'pipelineThin',
      severity: 'warning',
      values: { weighted: 250_000.5, previousRevenue: 600_000 },
    });
  });

  it('stays silent when the weighted pipeline equals the previous revenue, fires just below', () => {
    expect(
      pipelineThin(
        input({
          current: figures({ pipeline: { weighted: 600_000 } }),
          previous: figures({ revenue: 600_000 }),
        }),
      ),
    ).toBeNull();
    expect(
      pipelineThin(
        input({
          current: figures({ pipeline: { weighted: 599_999.75 } }),
          previous: figures({ revenue: 600_000 }),
        }),
      )?.values,
    ).toEqual({ weighted: 599_999.75, previousRevenue: 600_000 });
  });

  it('stays silent when nothing was won in the previous period, or the pipeline is larger', () => {
    expect(
      pipelineThin(
        input({ current: figures({ pipeline: { weighted: 0 } }), previous: figures({ revenue: 0 }) }),
      ),
    ).toBeNull();
    expect(
      pipelineThin(
        input({
          current: figures({ pipeline: { weighted: 900_000 } }),
          previous: figures({ revenue: 600_000 }),
        }),
      ),
    ).toBeNull();
  });
});

describe('strongChannel', () => {
  it('names the channel with the highest revenue share when it is 40 % or more', () => {
    const current = figures({
      channels: {
        paid: { revenueShare: 0.2 },
        earned: { revenueShare: 0.15 },
        owned: { revenueShare: 0.05 },
        referral: { revenueShare: 0.6 },
      },
    });
    expect(strongChannel(input({ current }))).toEqual({
      kind: 'strongChannel',
      severity: 'good',
      values: { channel: 'referral', share: 0.6 },
    });
  });

  it('fires at exactly 40 % and not below', () => {
    const at = figures({
      channels: {
        paid: { revenueShare: 4 / 10 },
        earned: { revenueShare: 3 / 10 },
        owned: { revenueShare: 3 / 10 },
      },
    });
    expect(strongChannel(input({ current: at }))?.values).toEqual({ channel: 'paid', share: 0.4 });
    const below = figures({
      channels: {
        paid: { revenueShare: 0.39 },
        earned: { revenueShare: 0.31 },
        owned: { revenueShare: 0.3 },
      },
    });
    expect(strongChannel(input({ current: below }))).toBeNull();
  });

  it('stays silent when no revenue was won (null shares) or for figures of one channel', () => {
    expect(strongChannel(input())).toBeNull();
    const oneChannel = figures({ channel: 'earned', channels: { earned: { revenueShare: 1 } } });
    expect(strongChannel(input({ current: oneChannel }))).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// recommend

/** Input on which every rule but noProspects speaks (noProspects cannot speak with closeRateFell). */
function everythingWrong(): RecommendationInput {
  return input({
    openDeals: [openDeal('d1', 100, NOW - DAY)],
    previous: figures({ ...prospecting(20, 10), ...winning(8, 2), revenue: 1_000_000 }),
    current: figures({
      ...prospecting(20, 2),
      ...winning(2, 8),
      pipeline: { weighted: 10, lostToCompetitor: 4 },
      channels: { paid: { ...closed(8, 2), revenueShare: 0.9 }, referral: closed(1, 9) },
    }),
  });
}

const kinds = (recommendations: Recommendation[]) => recommendations.map((r) => r.kind);

describe('recommend', () => {
  it('says nothing about a quiet period', () => {
    expect(recommend(input())).toEqual([]);
  });

  it('puts warnings first, then info, then good', () => {
    const result = recommend(
      input({
        openDeals: [openDeal('d1', 100, NOW - DAY)],
        current: figures({ ...prospecting(0, 0), channels: { owned: { revenueShare: 1 } } }),
      }),
    );
    expect(kinds(result)).toEqual(['overdueDeals', 'noProspects', 'strongChannel']);
    expect(result.map((r) => r.severity)).toEqual(['warning', 'info', 'good']);
  });

  it('keeps at most 5, the most important first', () => {
    const all = [
      overdueDeals,
      winRateFell,
      closeRateFell,
      pipelineThin,
      competitorLosses,
      weakChannel,
      strongChannel,
    ];
    const input = everythingWrong();
    for (const rule of all) expect(rule(input), rule.name).not.toBeNull();
    const result = recommend(input);
    expect(result).toHaveLength(MAX_RECOMMENDATIONS);
    expect(kinds(result)).toEqual([
      'overdueDeals',
      'winRateFell',
      'closeRateFell',
      'pipelineThin',
      'competitorLosses',
    ]);
  });

  it('gives what each rule gives on its own', () => {
    const input = everythingWrong();
    const result = recommend(input);
    expect(result[0]).toEqual(overdueDeals(input));
    expect(result[1]).toEqual(winRateFell(input));
  });
});

// ---------------------------------------------------------------------------------------------
// Property: never NaN or Infinity

const SEVERITY_ORDER = { warning: 0, info: 1, good: 2 } as const;

function arbitraryInput(
  number: fc.Arbitrary<number>,
  rate: fc.Arbitrary<number | null>,
): fc.Arbitrary<RecommendationInput> {
  const channel = fc.record({
    prospects: number,
    converted: number,
    won: number,
    lost: number,
    revenue: number,
    closeRate: rate,
    winRate: rate,
    averageDealSize: fc.option(number, { nil: null }),
    revenueShare: rate,
  });
  const kpis = fc
    .record({
      channel: fc.option(fc.constantFrom(...CHANNELS), { nil: undefined }),
      averageDealSize: fc.option(number, { nil: null }),
      dealCount: number,
      lostCount: number,
      revenue: number,
      pipeline: fc.record({
        count: number,
        value: number,
        weighted: number,
        overdue: number,
        lostToCompetitor: number,
      }),
      channels: fc.record({ paid: channel, earned: channel, owned: channel, referral: channel }),
      prospects: number,
      converted: number,
      closeRate: rate,
      winRate: rate,
    })
    .map(({ channel: only, pipeline, ...rest }) => {
      const base: FigureOverrides = { ...rest, pipeline, dealSuccess: rest.winRate };
      return figures(only === undefined ? base : { ...base, channel: only });
    });
  const deal = fc.record({
    id: fc.string({ minLength: 1, maxLength: 8 }),
    amount: number,
    createdAt: number,
    expectedCloseAt: fc.option(number, { nil: undefined }),
    stage: fc.constantFrom(...STAGES),
  });
  return fc.record({
    current: kpis,
    previous: kpis,
    openDeals: fc.array(deal, { maxLength: 20 }),
    todayStart: number,
  });
}

function expectWellFormed(result: Recommendation[]): void {
  expect(result.length).toBeLessThanOrEqual(MAX_RECOMMENDATIONS);
  for (const recommendation of result)
    for (const [key, value] of Object.entries(recommendation.values))
      if (typeof value === 'number')
        expect(Number.isFinite(value), `${recommendation.kind}.${key} = ${value}`).toBe(true);
  const ranks = result.map((r) => SEVERITY_ORDER[r.severity]);
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
}

describe('recommend on arbitrary figures', () => {
  it('never gives NaN or Infinity, keeps the cap and the order, for figures in their domain', () => {
    const count = fc.nat({ max: 10_000 });
    const money = fc.nat({ max: Number.MAX_SAFE_INTEGER });
    const rate = fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null });
    // Counts and money share one arbitrary here: small counts make the thresholds matter.
    fc.assert(
      fc.property(arbitraryInput(fc.oneof(count, money), rate), (generated) =>
        expectWellFormed(recommend(generated)),
      ),
    );
  });

  it('never gives NaN or Infinity even for figures with NaN, Infinity or negative numbers', () => {
    const anything = fc.double();
    fc.assert(
      fc.property(arbitraryInput(anything, fc.option(anything, { nil: null })), (generated) =>
        expectWellFormed(recommend(generated)),
      ),
    );
  });
});
