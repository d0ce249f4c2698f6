/**
 * The partners that need the vendor's attention (src/lib/console/attention.ts): each rule on its own
 * — a case that speaks, its threshold, and cases that stay silent — then the list of partners, the
 * median of deal success, and agreement with the KPI engine's KPI 8 on real buckets.
 */
import { describe, expect, it } from 'vitest';
import {
  buildRollup,
  computeKpis,
  emptyRollup,
  parsePeriod,
  previousRange,
  type KpiFigures,
} from '../../../src/lib/kpi';
import { MIN_PROSPECTS_FOR_CLOSE_RATE } from '../../../src/lib/kpi/recommendations';
import {
  attentionReasons,
  closeRateFell,
  dealSuccessLow,
  DEFAULT_REQUIRED_COVERAGE,
  medianDealSuccess,
  noFigures,
  noRecentSync,
  partnersNeedingAttention,
  pipelineBelowTarget,
  winRateFell,
  type AttentionInput,
  type QuarterStanding,
} from '../../../src/lib/console/attention';
import { STALE_AFTER_MS } from '../../../src/lib/console/freshness';
import { attentionInputs, programFigures } from '../../../src/lib/console/program-figures';
import { attentionText } from '../../../src/lib/console/vendor-view';
import { BASE_INSTANT, DAY_MS, deal, lead } from '../../factories/records';

const TZ = 'Asia/Kolkata';
const NOW = Date.UTC(2026, 10, 28, 9, 30);
const range = (() => {
  const parsed = parsePeriod({ from: '2026-01-01', to: '2026-04-01', tz: TZ });
  if (!parsed.ok) throw new Error('bad period');
  return parsed.range;
})();

/** The figures of a quiet period (nothing makes a rule speak), with overrides. */
function figures(overrides: Partial<KpiFigures> = {}): KpiFigures {
  return { ...computeKpis(emptyRollup(TZ), { range, scope: { kind: 'partner', id: 'p1' } }), ...overrides };
}

function input(overrides: Partial<AttentionInput> = {}): AttentionInput {
  return {
    partnerId: 'p1',
    now: NOW,
    current: figures(),
    previous: figures(),
    lastSyncAt: NOW - 60_000,
    medianDealSuccess: null,
    ...overrides,
  };
}

const standing = (overrides: Partial<QuarterStanding> = {}): QuarterStanding => ({
  quarter: '2026-Q4',
  targetRevenue: 1000,
  revenueWon: 0,
  openPipeline: 5000,
  winRate: 0.5,
  ...overrides,
});

describe('noFigures', () => {
  it('speaks for a partner the server has never folded, only then', () => {
    expect(noFigures(input({ lastSyncAt: undefined }))).toEqual({ kind: 'noFigures', values: {} });
    expect(noFigures(input())).toBeNull();
  });
});

describe('noRecentSync', () => {
  it('speaks past STALE_AFTER_MS with the whole days since the last sync', () => {
    expect(noRecentSync(input({ lastSyncAt: NOW - 5 * DAY_MS - 1000 }))).toEqual({
      kind: 'noRecentSync',
      values: { days: 5 },
    });
  });

  it('is silent at the threshold, for a recent sync, and without any sync (noFigures says that)', () => {
    expect(noRecentSync(input({ lastSyncAt: NOW - STALE_AFTER_MS }))).toBeNull();
    expect(noRecentSync(input({ lastSyncAt: NOW }))).toBeNull();
    expect(noRecentSync(input({ lastSyncAt: undefined }))).toBeNull();
  });
});

describe('pipelineBelowTarget', () => {
  it('speaks when the pipeline, at the partner’s win rate, cannot fill what is left of the target', () => {
    // 1000 left, win rate 50 %: it needs 2× coverage; 1500 of pipeline is 1.5×.
    expect(pipelineBelowTarget(input({ quarter: standing({ openPipeline: 1500 }) }))).toEqual({
      kind: 'pipelineBelowTarget',
      values: { coverage: 1.5, required: 2, remaining: 1000, pipeline: 1500, quarter: '2026-Q4' },
    });
  });

  it('is silent at exactly the coverage needed, and above it', () => {
    expect(pipelineBelowTarget(input({ quarter: standing({ openPipeline: 2000 }) }))).toBeNull();
    expect(pipelineBelowTarget(input({ quarter: standing({ openPipeline: 9000 }) }))).toBeNull();
  });

  it('never asks for less than 1× (a pipeline smaller than what is left cannot fill it)', () => {
    expect(
      pipelineBelowTarget(input({ quarter: standing({ winRate: 1, openPipeline: 999 }) }))?.values[
        'required'
      ],
    ).toBe(1);
    expect(pipelineBelowTarget(input({ quarter: standing({ winRate: 1, openPipeline: 1000 }) }))).toBeNull();
  });

  it('asks for DEFAULT_REQUIRED_COVERAGE without a win rate', () => {
    expect(
      pipelineBelowTarget(input({ quarter: standing({ winRate: null, openPipeline: 2500 }) }))?.values[
        'required'
      ],
    ).toBe(DEFAULT_REQUIRED_COVERAGE);
    expect(pipelineBelowTarget(input({ quarter: standing({ winRate: 0, openPipeline: 3000 }) }))).toBeNull();
  });

  it('is silent without a target, and once the target is reached', () => {
    expect(pipelineBelowTarget(input())).toBeNull();
    expect(
      pipelineBelowTarget(input({ quarter: standing({ revenueWon: 1000, openPipeline: 0 }) })),
    ).toBeNull();
  });
});

describe('dealSuccessLow', () => {
  it('speaks below half the partners’ median deal success, not at it', () => {
    expect(dealSuccessLow(input({ current: figures({ dealSuccess: 0.2 }), medianDealSuccess: 0.5 }))).toEqual(
      { kind: 'dealSuccessLow', values: { dealSuccess: 0.2, median: 0.5 } },
    );
    expect(
      dealSuccessLow(input({ current: figures({ dealSuccess: 0.25 }), medianDealSuccess: 0.5 })),
    ).toBeNull();
  });

  it('is silent without a deal success or a median', () => {
    expect(
      dealSuccessLow(input({ current: figures({ dealSuccess: null }), medianDealSuccess: 0.5 })),
    ).toBeNull();
    expect(
      dealSuccessLow(input({ current: figures({ dealSuccess: 0.1 }), medianDealSuccess: null })),
    ).toBeNull();
  });
});

describe('closeRateFell and winRateFell', () => {
  const prospects = MIN_PROSPECTS_FOR_CLOSE_RATE;
  it('speak when the rate fell by the rep screen’s threshold, with enough data in both periods', () => {
    const fell = input({
      previous: figures({ closeRate: 0.5, prospects }),
      current: figures({ closeRate: 0.4, prospects }),
    });
    expect(closeRateFell(fell)).toEqual({ kind: 'closeRateFell', values: { from: 0.5, to: 0.4 } });
    const winFell = input({
      previous: figures({ winRate: 0.6, dealCount: 6, lostCount: 4 }),
      current: figures({ winRate: 0.3, dealCount: 3, lostCount: 7 }),
    });
    expect(winRateFell(winFell)).toEqual({ kind: 'winRateFell', values: { from: 0.6, to: 0.3 } });
  });

  it('are silent for small moves, too little data, and rises', () => {
    expect(
      closeRateFell(
        input({
          previous: figures({ closeRate: 0.5, prospects }),
          current: figures({ closeRate: 0.48, prospects }),
        }),
      ),
    ).toBeNull();
    expect(
      closeRateFell(
        input({
          previous: figures({ closeRate: 0.5, prospects: 3 }),
          current: figures({ closeRate: 0.1, prospects }),
        }),
      ),
    ).toBeNull();
    expect(
      winRateFell(
        input({
          previous: figures({ winRate: 0.3, dealCount: 3, lostCount: 7 }),
          current: figures({ winRate: 0.6, dealCount: 6, lostCount: 4 }),
        }),
      ),
    ).toBeNull();
  });
});

describe('the partners needing attention', () => {
  it('lists every reason in rule order, partners with most reasons first, then by id', () => {
    const stale = input({
      partnerId: 'p3',
      lastSyncAt: NOW - 10 * DAY_MS,
      current: figures({ dealSuccess: 0.1 }),
      medianDealSuccess: 0.6,
    });
    const short = input({ partnerId: 'p2', quarter: standing({ openPipeline: 100 }) });
    const quiet = input({ partnerId: 'p1' });
    const none = input({ partnerId: 'p0', lastSyncAt: undefined });
    expect(attentionReasons(stale).map((reason) => reason.kind)).toEqual(['noRecentSync', 'dealSuccessLow']);
    expect(
      partnersNeedingAttention([quiet, short, stale, none]).map((entry) => [
        entry.partnerId,
        entry.reasons.length,
      ]),
    ).toEqual([
      ['p3', 2],
      ['p0', 1],
      ['p2', 1],
    ]);
  });

  it('every reason reads as a sentence with its figures', () => {
    const text = (found: ReturnType<typeof noFigures>) => attentionText(found!, 'INR', 'en-IN');
    expect(text(noRecentSync(input({ lastSyncAt: NOW - 5 * DAY_MS - 1 })))).toBe(
      'No sync for 5 days: its figures may be out of date.',
    );
    // ₹12 L open for the ₹20 L left of ₹25 L: 0.6×, where a 50 % win rate needs 2×.
    const short = standing({
      openPipeline: 12_00_000_00,
      targetRevenue: 25_00_000_00,
      revenueWon: 5_00_000_00,
    });
    expect(text(pipelineBelowTarget(input({ quarter: short })))).toBe(
      'Pipeline coverage 0.6× (₹12\u00a0L open for ₹20\u00a0L still to win in Q4 2026); at its win rate it needs 2×.',
    );
    expect(
      text(dealSuccessLow(input({ current: figures({ dealSuccess: 0.2 }), medianDealSuccess: 0.5 }))),
    ).toBe("Wins 20% of the deals it closes, under half the partners' median of 50%.");
  });
});

describe('the median of deal success (KPI 8)', () => {
  it('leaves out partners without a closed deal; averages the middle two of an even count', () => {
    expect(medianDealSuccess([{ winRate: 0.2 }, { winRate: null }, { winRate: 0.8 }, { winRate: 0.5 }])).toBe(
      0.5,
    );
    expect(medianDealSuccess([{ winRate: 0.2 }, { winRate: 0.4 }])).toBeCloseTo(0.3);
    expect(medianDealSuccess([{ winRate: null }])).toBeNull();
  });

  it('flags the same partners as the KPI engine’s needsAttention', () => {
    const at = (day: number) => BASE_INSTANT + day * DAY_MS;
    const closed = (partnerId: string, won: number, lost: number) => [
      ...Array.from({ length: won }, (_, i) =>
        deal({ partnerId, repId: `${partnerId}-r1`, stage: 'won', createdAt: at(i), closedAt: at(i + 10) }),
      ),
      ...Array.from({ length: lost }, (_, i) =>
        deal({
          partnerId,
          repId: `${partnerId}-r1`,
          stage: 'lost',
          lostReason: 'price',
          createdAt: at(i),
          closedAt: at(i + 12),
        }),
      ),
    ];
    const deals = [
      ...closed('p1', 6, 4),
      ...closed('p2', 5, 5),
      ...closed('p3', 1, 9),
      ...closed('p4', 7, 3),
    ];
    const rollup = buildRollup(TZ, [lead({ partnerId: 'p5', repId: 'p5-r1', createdAt: at(1) })], deals);
    const quarter = (() => {
      const parsed = parsePeriod({ from: '2026-01-01', to: '2026-04-01', tz: TZ });
      if (!parsed.ok) throw new Error('bad period');
      return parsed.range;
    })();
    const ranges = { range: quarter, previous: previousRange(quarter), today: quarter.toDay };
    const program = programFigures(rollup, ranges).current;
    const partners = ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => ({ id }));
    const inputs = attentionInputs({
      rollup,
      program,
      partners,
      lastSyncAt: new Map(partners.map(({ id }) => [id, NOW])),
      targets: [],
      ranges,
      now: NOW,
      tz: TZ,
    });
    const flagged = inputs.filter((one) => dealSuccessLow(one) !== null).map((one) => one.partnerId);
    expect(program.needsAttention).toEqual(['p3']);
    expect(flagged).toEqual(program.needsAttention);
  });
});
