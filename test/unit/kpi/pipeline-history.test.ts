/**
 * The pipeline at past instants and "what changed since last month", reconstructed from stage logs
 * (src/lib/kpi/pipeline-history.ts): hand-computed fixtures for each rule and each movement, then
 * properties against a naive reference (sort the log, replay it) and against the current pipeline.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STAGE_PROBABILITY,
  OPEN_STAGES,
  STAGES,
  isOpenStage,
  type Deal,
  type OpenStage,
  type Stage,
  type StageChange,
} from '../../../src/lib/domain';
import {
  PIPELINE_MOVEMENTS,
  monthEndPipelineChange,
  pipelineAt,
  pipelineChange,
  pipelineMovement,
  stageAt,
  type DealTally,
  type PipelineMovement,
  type PipelineSnapshot,
} from '../../../src/lib/kpi/pipeline-history';
import { DAY_MS, HOUR_MS, deal, localTime } from '../../factories/records';

const KOLKATA = 'Asia/Kolkata';
const NEW_YORK = 'America/New_York';

/** The start of the compared span in the fixtures: 2026-02-01 00:00 UTC. */
const F = Date.UTC(2026, 1, 1);
/** Its end: 2026-02-20 00:00 UTC. */
const T = Date.UTC(2026, 1, 20);

const change = (stage: Stage, at: number, by = 'p1-r1'): StageChange => ({ stage, at, by });

function compareChanges(a: StageChange, b: StageChange): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

/**
 * A deal whose current stage is where its log ends (sorted by at, then by; Array#sort is stable,
 * so the last written of entries equal in both ends it), closed at that entry when won or lost.
 */
function logged(id: string, log: StageChange[], overrides: Partial<Deal> = {}): Deal {
  const last = [...log].sort(compareChanges).at(-1);
  if (!last) throw new Error('logged() needs at least one entry');
  const closed = !isOpenStage(last.stage);
  const createdAt = overrides.createdAt ?? Math.min(...log.map((entry) => entry.at));
  return deal({
    id,
    stage: last.stage,
    probability: DEFAULT_STAGE_PROBABILITY[last.stage],
    createdAt,
    closedAt: closed ? last.at : undefined,
    updatedAt: Math.max(createdAt, last.at),
    stageLog: log,
    ...overrides,
  });
}

const tally = (count: number, value: number): DealTally => ({ count, value });

function byStage(values: Partial<Record<OpenStage, DealTally>>): Record<OpenStage, DealTally> {
  return {
    prospecting: values.prospecting ?? tally(0, 0),
    qualified: values.qualified ?? tally(0, 0),
    proposal: values.proposal ?? tally(0, 0),
    negotiation: values.negotiation ?? tally(0, 0),
  };
}

describe('stageAt', () => {
  const d = logged('d1', [
    change('prospecting', F),
    change('proposal', F + DAY_MS),
    change('won', F + 3 * DAY_MS),
  ]);

  it('replays the log: the latest entry at or before the instant', () => {
    expect(stageAt(d, F + HOUR_MS)).toBe('prospecting');
    expect(stageAt(d, F + 2 * DAY_MS)).toBe('proposal');
    expect(stageAt(d, F + 30 * DAY_MS)).toBe('won');
  });

  it('counts an entry stamped exactly at the instant (at ≤ instant), not one a millisecond later', () => {
    expect(stageAt(d, F + DAY_MS)).toBe('proposal');
    expect(stageAt(d, F + DAY_MS - 1)).toBe('prospecting');
    expect(stageAt(d, F + 3 * DAY_MS)).toBe('won');
    expect(stageAt(d, F + 3 * DAY_MS - 1)).toBe('proposal');
  });

  it('is undefined at and before creation (createdAt < instant is needed)', () => {
    expect(stageAt(d, F)).toBeUndefined();
    expect(stageAt(d, F - DAY_MS)).toBeUndefined();
    expect(stageAt(d, F + 1)).toBe('prospecting');
  });

  it('is undefined from the deletion on (deletedAt ≤ instant), and unchanged before it', () => {
    const deleted = { ...d, deletedAt: F + 2 * DAY_MS };
    expect(stageAt(deleted, F + 2 * DAY_MS - 1)).toBe('proposal');
    expect(stageAt(deleted, F + 2 * DAY_MS)).toBeUndefined();
    expect(stageAt(deleted, F + 30 * DAY_MS)).toBeUndefined();
  });

  it('breaks ties in `at` by `by` in UTF-16 code-unit order, whatever the order of the log', () => {
    const at = F + DAY_MS;
    // 'Z' (U+005A) < 'a' (U+0061) in code units, although localeCompare puts 'a' first.
    const entries = [
      change('prospecting', F, 'a'),
      change('negotiation', at, 'Z'),
      change('proposal', at, 'a'),
    ];
    expect(stageAt(logged('t1', entries), at)).toBe('proposal');
    expect(stageAt(logged('t2', [...entries].reverse()), at)).toBe('proposal');
    // A surrogate pair (U+1F600 is D83D DE00) sorts below U+FF21 in code units, above it in code points.
    const astral = [
      change('prospecting', F, 'a'),
      change('qualified', at, '\u{1F600}'),
      change('negotiation', at, '\uFF21'),
    ];
    expect(stageAt(logged('t3', astral), at)).toBe('negotiation');
    expect(stageAt(logged('t4', [...astral].reverse()), at)).toBe('negotiation');
  });

  it('takes the last written of entries equal in both at and by', () => {
    const at = F + DAY_MS;
    const entries = [change('prospecting', F), change('qualified', at, 'r1'), change('proposal', at, 'r1')];
    expect(stageAt(logged('e1', entries), at)).toBe('proposal');
    expect(stageAt(logged('e2', [entries[0]!, entries[2]!, entries[1]!]), at)).toBe('qualified');
  });

  it('before the first entry: the first stage when it is open, prospecting when it is won or lost', () => {
    const lateOpen = logged('f1', [change('proposal', F + DAY_MS)], { createdAt: F });
    expect(stageAt(lateOpen, F + HOUR_MS)).toBe('proposal');
    const createdClosed = logged('f2', [change('won', F + DAY_MS)], { createdAt: F });
    expect(stageAt(createdClosed, F + HOUR_MS)).toBe('prospecting');
    expect(stageAt(createdClosed, F + DAY_MS)).toBe('won');
  });

  it('an open deal without a log has been in its current stage since it was created', () => {
    const open = deal({ id: 'n1', stage: 'negotiation', createdAt: F });
    expect(open.stageLog).toBeUndefined();
    expect(stageAt(open, F)).toBeUndefined();
    expect(stageAt(open, F + 1)).toBe('negotiation');
    expect(stageAt(open, T)).toBe('negotiation');
    expect(stageAt({ ...open, stageLog: [] }, F + 1)).toBe('negotiation');
  });

  it('a closed deal without a log was in prospecting until closedAt, then in its stage', () => {
    const lost = deal({ id: 'n2', stage: 'lost', createdAt: F, closedAt: F + 5 * DAY_MS });
    expect(stageAt(lost, F + 1)).toBe('prospecting');
    expect(stageAt(lost, F + 5 * DAY_MS - 1)).toBe('prospecting');
    expect(stageAt(lost, F + 5 * DAY_MS)).toBe('lost');
    expect(stageAt({ ...lost, stageLog: [] }, F + 1)).toBe('prospecting');
    // A closedAt before createdAt (clock skew): closed for its whole life.
    expect(stageAt({ ...lost, closedAt: F - DAY_MS }, F + 1)).toBe('lost');
  });
});

describe('pipelineAt', () => {
  const deals = [
    // In proposal at T, current stage: its own probability (override 60).
    logged('p1', [change('prospecting', F), change('proposal', F + DAY_MS)], {
      amount: 10_000,
      probability: 60,
    }),
    // In qualified at T, won later: the default probability of qualified (25).
    logged('p2', [change('qualified', F), change('won', T + DAY_MS)], { amount: 20_000 }),
    // Won before T: not in the pipeline.
    logged('p3', [change('negotiation', F), change('won', F + DAY_MS)], { amount: 40_000 }),
    // Deleted exactly at T: not in the pipeline at T.
    logged('p4', [change('proposal', F)], { amount: 80_000, deletedAt: T }),
    // Deleted after T: it was in the pipeline at T.
    logged('p5', [change('proposal', F)], { amount: 3_00, probability: 33, deletedAt: T + 1 }),
    // Created exactly at T: not yet.
    logged('p6', [change('prospecting', T)], { amount: 160_000 }),
  ];

  it('counts the deals open at the instant, valued at current amounts, weighted by stage probability', () => {
    const expected: PipelineSnapshot = {
      count: 3,
      value: 10_000 + 20_000 + 3_00,
      // (10 000 × 60 + 20 000 × 25 + 300 × 33) ÷ 100
      weighted: 11_099,
      byStage: byStage({ qualified: tally(1, 20_000), proposal: tally(2, 10_300) }),
    };
    expect(pipelineAt(deals, T)).toEqual(expected);
  });

  it("uses the program's stage probabilities for a stage other than the deal's current one", () => {
    const stageProbabilities = { ...DEFAULT_STAGE_PROBABILITY, qualified: 40, proposal: 1 };
    // p1 and p5 are in their current stage (own probability); p2 uses qualified: 40.
    expect(pipelineAt(deals, T, { stageProbabilities }).weighted).toBe(
      (10_000 * 60 + 20_000 * 40 + 3_00 * 33) / 100,
    );
  });

  it('is empty before any deal exists, with every open stage listed', () => {
    expect(pipelineAt(deals, F)).toEqual({ count: 0, value: 0, weighted: 0, byStage: byStage({}) });
  });
});

describe('pipelineChange', () => {
  // One deal (or two) for each movement, and deals that belong to none; amounts tell them apart.
  const deals = [
    logged('added-new', [change('prospecting', F + HOUR_MS)], { amount: 1_000 }),
    logged(
      'added-reopened',
      [
        change('qualified', F - 10 * DAY_MS),
        change('won', F - DAY_MS),
        change('negotiation', F + 2 * DAY_MS),
      ],
      {
        amount: 2_000,
        probability: 80,
      },
    ),
    logged('won', [change('proposal', F - 5 * DAY_MS), change('won', F + 3 * DAY_MS)], { amount: 3_000 }),
    logged('lost', [change('negotiation', F - 5 * DAY_MS), change('lost', F + 4 * DAY_MS)], {
      amount: 4_000,
      lostReason: 'price',
    }),
    logged('advanced', [change('prospecting', F - 5 * DAY_MS), change('proposal', F + DAY_MS)], {
      amount: 5_000,
    }),
    logged('slipped', [change('negotiation', F - 5 * DAY_MS), change('qualified', F + DAY_MS)], {
      amount: 6_000,
    }),
    logged(
      'unchanged',
      [
        change('qualified', F - 5 * DAY_MS),
        change('negotiation', F + DAY_MS),
        change('qualified', F + 2 * DAY_MS),
      ],
      {
        amount: 7_000,
        probability: 30,
      },
    ),
    logged('removed', [change('proposal', F - 5 * DAY_MS)], {
      amount: 8_000,
      probability: 60,
      deletedAt: F + 5 * DAY_MS,
    }),
    logged('removed-after-win', [change('proposal', F - 5 * DAY_MS), change('won', F + DAY_MS)], {
      amount: 8_500,
      deletedAt: F + 2 * DAY_MS,
    }),
    // In neither pipeline:
    logged('opened-and-lost-between', [change('prospecting', F + DAY_MS), change('lost', F + 2 * DAY_MS)], {
      amount: 9_000,
    }),
    logged('closed-at-both', [change('won', F - 3 * DAY_MS)], { amount: 10_000, createdAt: F - 5 * DAY_MS }),
    logged('deleted-before', [change('proposal', F - 5 * DAY_MS)], { amount: 11_000, deletedAt: F - 1 }),
    logged('created-after', [change('prospecting', T + 1)], { amount: 12_000 }),
    logged('created-at-to', [change('prospecting', T)], { amount: 13_000 }),
  ];

  it('sorts every deal open at either instant into exactly one movement (hand-computed)', () => {
    const result = pipelineChange(deals, F, T);
    expect(result.from).toBe(F);
    expect(result.to).toBe(T);
    expect({
      added: result.added,
      won: result.won,
      lost: result.lost,
      advanced: result.advanced,
      slipped: result.slipped,
      unchanged: result.unchanged,
      removed: result.removed,
    }).toEqual({
      added: tally(2, 3_000),
      won: tally(1, 3_000),
      lost: tally(1, 4_000),
      advanced: tally(1, 5_000),
      slipped: tally(1, 6_000),
      unchanged: tally(1, 7_000),
      removed: tally(2, 16_500),
    });
  });

  it('gives the pipelines at both instants (hand-computed)', () => {
    const result = pipelineChange(deals, F, T);
    expect(result.before).toEqual({
      count: 7,
      value: 41_500,
      // won 3000×50 (proposal default), lost 4000×75, advanced 5000×10, slipped 6000×75,
      // unchanged 7000×30 (own), removed 8000×60 (own), removed-after-win 8500×50, ÷ 100
      weighted: 20_650,
      byStage: byStage({
        prospecting: tally(1, 5_000),
        qualified: tally(1, 7_000),
        proposal: tally(3, 19_500),
        negotiation: tally(2, 10_000),
      }),
    });
    expect(result.after).toEqual({
      count: 5,
      value: 21_000,
      // added-new 1000×10, added-reopened 2000×80 (own), advanced 5000×50, slipped 6000×25, unchanged 7000×30
      weighted: 7_800,
      byStage: byStage({
        prospecting: tally(1, 1_000),
        qualified: tally(2, 13_000),
        proposal: tally(1, 5_000),
        negotiation: tally(1, 2_000),
      }),
    });
    expect(result.before).toEqual(pipelineAt(deals, F));
    expect(result.after).toEqual(pipelineAt(deals, T));
  });

  it('names the movement of each deal, undefined for deals open at neither instant', () => {
    const movements = Object.fromEntries(deals.map((d) => [d.id, pipelineMovement(d, F, T) ?? null]));
    expect(movements).toEqual({
      'added-new': 'added',
      'added-reopened': 'added',
      won: 'won',
      lost: 'lost',
      advanced: 'advanced',
      slipped: 'slipped',
      unchanged: 'unchanged',
      removed: 'removed',
      'removed-after-win': 'removed',
      'opened-and-lost-between': null,
      'closed-at-both': null,
      'deleted-before': null,
      'created-after': null,
      'created-at-to': null,
    });
  });

  it('counts a change stamped exactly at `from` as done before the span, and one exactly at `to` within it', () => {
    const atFrom = logged('at-from', [change('prospecting', F - DAY_MS), change('proposal', F)]);
    const atTo = logged('at-to', [change('prospecting', F - DAY_MS), change('won', T)]);
    expect(pipelineMovement(atFrom, F, T)).toBe('unchanged');
    expect(pipelineMovement(atTo, F, T)).toBe('won');
    expect(
      pipelineMovement(logged('del-at-to', [change('qualified', F - DAY_MS)], { deletedAt: T }), F, T),
    ).toBe('removed');
  });

  it('over an empty span every open deal is unchanged, and a span that ends before it starts is refused', () => {
    const empty = pipelineChange(deals, T, T);
    expect(PIPELINE_MOVEMENTS.map((movement) => empty[movement])).toEqual(
      PIPELINE_MOVEMENTS.map((movement) => (movement === 'unchanged' ? tally(5, 21_000) : tally(0, 0))),
    );
    expect(empty.before).toEqual(empty.after);
    expect(() => pipelineChange(deals, T, F)).toThrow(RangeError);
    expect(() => pipelineMovement(deals[0]!, T, F)).toThrow(RangeError);
    expect(() => pipelineChange(deals, Number.NaN, T)).toThrow(RangeError);
  });
});

describe('monthEndPipelineChange', () => {
  // 2026-03-01 00:00 in Kolkata is 2026-02-28 18:30 UTC; in New York it is 2026-03-01 05:00 UTC.
  const kolkataMonth = localTime(KOLKATA, '2026-03-01');
  const now = localTime(KOLKATA, '2026-03-15', '10:00');
  const deals = [
    // Advanced a millisecond before the month began in Kolkata: last month's news.
    logged('m1', [change('prospecting', F), change('proposal', kolkataMonth - 1)], { amount: 100 }),
    // Advanced exactly at 00:00 of the 1st in Kolkata: already in the month-end snapshot (at ≤ instant).
    logged('m2', [change('prospecting', F), change('proposal', kolkataMonth)], { amount: 200 }),
    // Advanced at 02:00 UTC on the 1st: this month in Kolkata (07:30), last month in New York (21:00 on the 28th).
    logged('m3', [change('prospecting', F), change('proposal', Date.UTC(2026, 2, 1, 2))], { amount: 400 }),
    // Won during March.
    logged('m4', [change('negotiation', F), change('won', localTime(KOLKATA, '2026-03-10', '12:00'))], {
      amount: 800,
    }),
  ];

  it('compares the start of the current month in the zone with now', () => {
    const result = monthEndPipelineChange(deals, now, KOLKATA);
    expect(result.from).toBe(kolkataMonth);
    expect(result.from).toBe(Date.UTC(2026, 1, 28, 18, 30));
    expect(result.to).toBe(now);
    expect(result).toEqual(pipelineChange(deals, kolkataMonth, now));
    expect(result.advanced).toEqual(tally(1, 400));
    expect(result.unchanged).toEqual(tally(2, 300));
    expect(result.won).toEqual(tally(1, 800));
    expect(result.before.byStage).toEqual(
      byStage({ prospecting: tally(1, 400), proposal: tally(2, 300), negotiation: tally(1, 800) }),
    );
  });

  it('depends on the zone: the same change is last month in New York', () => {
    const result = monthEndPipelineChange(deals, now, NEW_YORK);
    expect(result.from).toBe(Date.UTC(2026, 2, 1, 5));
    expect(result.advanced).toEqual(tally(0, 0));
    expect(result.unchanged).toEqual(tally(3, 700));
  });

  it('shows no movement exactly at the start of a month, and refuses an unknown zone', () => {
    // m1 and m2, whose last change is at or before 00:00 (m3 and m4 change later in the month).
    const settled = deals.slice(0, 2);
    const atStart = monthEndPipelineChange(settled, kolkataMonth, KOLKATA);
    expect(atStart.from).toBe(kolkataMonth);
    expect(atStart.unchanged).toEqual(tally(2, 300));
    expect(atStart.before).toEqual(atStart.after);
    expect(() => monthEndPipelineChange(deals, now, 'Mars/Olympus')).toThrow(RangeError);
  });

  it('ends at the deals as they are: a change stamped after this clock (a device whose clock runs ahead) is in, as in KPI 3', () => {
    // m4 is won on the 10th; at 09:00 on the 1st this device's clock has not got there, the deal has.
    const early = localTime(KOLKATA, '2026-03-01', '09:00');
    const result = monthEndPipelineChange(deals, early, KOLKATA);
    expect(result.won).toEqual(tally(1, 800));
    expect(result.after.count).toBe(3);
    // A deal deleted is out of "now" whatever the stamp of its deletion.
    const deleted = monthEndPipelineChange([{ ...deals[0]!, deletedAt: now + DAY_MS }], now, KOLKATA);
    expect(deleted.removed).toEqual(tally(1, 100));
    expect(deleted.after.count).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/** The reference reading of the rules: sort the (possibly implied) log stably, replay it. */
function referenceStageAt(d: Deal, instant: number): Stage | undefined {
  if (d.createdAt >= instant) return undefined;
  if (d.deletedAt !== undefined && d.deletedAt <= instant) return undefined;
  const implied: StageChange = {
    stage: d.stage,
    at: isOpenStage(d.stage) ? d.createdAt : (d.closedAt ?? d.createdAt),
    by: '',
  };
  const log = [...(d.stageLog?.length ? d.stageLog : [implied])].sort(compareChanges);
  const applied = log.filter((entry) => entry.at <= instant);
  const last = applied.at(-1);
  if (last) return last.stage;
  const first = log[0]!;
  return isOpenStage(first.stage) ? first.stage : 'prospecting';
}

/** Few distinct instants and authors, so that ties and exact hits are common. */
const instantArb = fc.integer({ min: 0, max: 24 }).map((hour) => F + hour * HOUR_MS);
const byArb = fc.constantFrom('a', 'b', 'Z', 'p1-r1');
const stageArb = fc.constantFrom<Stage>(...STAGES);
const changeArb = fc.record({ stage: stageArb, at: instantArb, by: byArb });
/** `arb` one time in four, otherwise undefined (fc.option gives undefined only one time in five). */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Any deal: unsorted logs, logs that disagree with the stage, no log, deletions, overrides. */
const anyDealArb = fc
  .record({
    createdAt: instantArb,
    log: fc.option(fc.array(changeArb, { maxLength: 6 }), { nil: undefined }),
    stage: stageArb,
    closedAt: instantArb,
    deletedAt: sometimes(instantArb),
    amount: fc.integer({ min: 0, max: 1_000_000_000 }),
    probability: fc.integer({ min: 0, max: 100 }),
  })
  .map(({ createdAt, log, stage, closedAt, deletedAt, amount, probability }): Deal => ({
    ...deal({ stage, createdAt, closedAt: isOpenStage(stage) ? undefined : closedAt, amount, probability }),
    ...(log === undefined ? {} : { stageLog: log }),
    ...(deletedAt === undefined ? {} : { deletedAt }),
  }));

const spanArb = fc
  .tuple(instantArb, instantArb)
  .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));

describe('properties', () => {
  it('stageAt agrees with sorting the log and replaying it', () => {
    fc.assert(
      fc.property(anyDealArb, instantArb, (d, instant) => {
        expect(stageAt(d, instant)).toBe(referenceStageAt(d, instant));
      }),
      { numRuns: 2000 },
    );
  });

  it('pipelineAt(deals, now) is the current open pipeline when each log ends in its deal’s stage', () => {
    const now = F + 24 * HOUR_MS;
    // Deals as the app keeps them: the log (sorted or not) ends in the current stage, every change and
    // deletion is in the past; some deals have no log (a closed one then has a past closedAt).
    const currentDealArb = fc
      .record({
        createdAt: fc.integer({ min: 0, max: 26 }).map((hour) => F + hour * HOUR_MS),
        log: fc.option(fc.array(changeArb, { minLength: 1, maxLength: 6 }), { nil: undefined }),
        stage: stageArb,
        closedAt: instantArb,
        deleted: sometimes(instantArb),
        shuffle: fc.boolean(),
        amount: fc.integer({ min: 0, max: 1_000_000_000 }),
        probability: fc.integer({ min: 0, max: 100 }),
      })
      .map(({ createdAt, log, stage, closedAt, deleted, shuffle, amount, probability }): Deal => {
        const sorted = log === undefined ? undefined : [...log].sort(compareChanges);
        const current = sorted?.at(-1)?.stage ?? stage;
        const closeAt = sorted?.at(-1)?.at ?? closedAt;
        const base = deal({
          stage: current,
          createdAt,
          closedAt: isOpenStage(current) ? undefined : closeAt,
          amount,
          probability,
        });
        return {
          ...base,
          // An unsorted log: reversed, after dropping all but the last written of entries equal in (at, by)
          // (between those, position decides, and reversing would change which one is current).
          ...(sorted === undefined ? {} : { stageLog: shuffle ? dedupeTies(sorted).reverse() : sorted }),
          ...(deleted === undefined ? {} : { deletedAt: deleted }),
        };
      });
    const numRuns = 500;
    let counted = 0;
    fc.assert(
      fc.property(fc.array(currentDealArb, { maxLength: 25, size: 'medium' }), (deals) => {
        const expected = { count: 0, value: 0, weighted: 0, byStage: byStage({}) };
        let weightedTimes100 = 0;
        for (const d of deals) {
          if (d.deletedAt !== undefined || !isOpenStage(d.stage) || !(d.createdAt < now)) continue;
          expected.count += 1;
          expected.value += d.amount;
          expected.byStage[d.stage].count += 1;
          expected.byStage[d.stage].value += d.amount;
          weightedTimes100 += d.amount * d.probability;
        }
        expected.weighted = weightedTimes100 / 100;
        expect(pipelineAt(deals, now)).toEqual(expected);
        counted += expected.count;
      }),
      { numRuns },
    );
    // Guard: the generated pipelines were not all empty.
    expect(counted).toBeGreaterThan(2 * numRuns);
  });

  it('the movements partition the union of the deals open at `from` and at `to`', () => {
    const seen = new Set<PipelineMovement>();
    fc.assert(
      fc.property(fc.array(anyDealArb, { maxLength: 25, size: 'medium' }), spanArb, (deals, [from, to]) => {
        const result = pipelineChange(deals, from, to);
        const openAt = (d: Deal, instant: number) => {
          const stage = stageAt(d, instant);
          return stage !== undefined && isOpenStage(stage);
        };
        const union = deals.filter((d) => openAt(d, from) || openAt(d, to));
        const expected = Object.fromEntries(
          PIPELINE_MOVEMENTS.map((movement) => [movement, tally(0, 0)]),
        ) as Record<PipelineMovement, DealTally>;
        for (const d of deals) {
          const movement = pipelineMovement(d, from, to);
          // Exactly the deals of the union have a movement.
          expect(movement !== undefined).toBe(openAt(d, from) || openAt(d, to));
          if (movement === undefined) continue;
          seen.add(movement);
          expected[movement].count += 1;
          expected[movement].value += d.amount;
        }
        for (const movement of PIPELINE_MOVEMENTS) expect(result[movement]).toEqual(expected[movement]);
        const total = (movements: readonly PipelineMovement[]) =>
          movements.reduce(
            (sum, movement) => ({
              count: sum.count + result[movement].count,
              value: sum.value + result[movement].value,
            }),
            tally(0, 0),
          );
        expect(total(PIPELINE_MOVEMENTS)).toEqual(
          tally(
            union.length,
            union.reduce((sum, d) => sum + d.amount, 0),
          ),
        );
        // Open at `from`: everything but `added`; open at `to`: everything that is still or newly open.
        expect(total(['won', 'lost', 'advanced', 'slipped', 'unchanged', 'removed'])).toEqual(
          tally(result.before.count, result.before.value),
        );
        expect(total(['added', 'advanced', 'slipped', 'unchanged'])).toEqual(
          tally(result.after.count, result.after.value),
        );
        expect(result.before).toEqual(pipelineAt(deals, from));
        expect(result.after).toEqual(pipelineAt(deals, to));
        for (const snapshot of [result.before, result.after]) {
          expect(OPEN_STAGES.reduce((sum, stage) => sum + snapshot.byStage[stage].count, 0)).toBe(
            snapshot.count,
          );
        }
      }),
      { numRuns: 1000 },
    );
    // Guard: the generated deals reached every movement, so the property tested each of them.
    expect([...seen].sort()).toEqual([...PIPELINE_MOVEMENTS].sort());
  });
});

/** Keeps the last written of entries equal in (at, by), so that reversing a sorted log keeps its order of precedence. */
function dedupeTies(sorted: StageChange[]): StageChange[] {
  return sorted.filter((entry, index) => {
    const next = sorted[index + 1];
    return next === undefined || compareChanges(entry, next) !== 0;
  });
}
