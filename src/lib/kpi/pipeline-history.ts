/**
 * The opportunity pipeline (KPI 3) as it was at any past instant, and what changed between two
 * instants — "what changed since last month".
 *
 * kpi-spec.md asks for a snapshot of the pipeline at each month's end. Storing snapshots would need
 * the app to be running at every month's end on some device; instead they are reconstructed from each
 * deal's append-only stage history (`stageLog`), which syncs with the deal, so every device computes
 * the same past pipeline at any time, for any instant, also for months before this code existed.
 *
 * Rules (one per function below, tested in test/unit/kpi/pipeline-history.test.ts):
 * - A deal exists at `instant` when `createdAt < instant` and not `deletedAt ≤ instant`.
 * - Its stage then is the stage of its latest log entry with `at ≤ instant` — latest by `at`, then by
 *   `by` in UTF-16 code-unit order (the log order of the sync layer, S5), then by position in the log
 *   for entries equal in both. An entry stamped exactly at `instant` counts.
 * - Before its first log entry (by the same order), a deal is taken to have been in that entry's stage
 *   when the stage is open, and in `prospecting` when it is won or lost (a deal created closed, e.g. an
 *   imported past deal, was open before it closed, but in an unknown stage).
 * - A deal without a log (or with an empty one) is read as if its log were one entry for its current
 *   stage at `closedAt` (closed deals) or `createdAt` (open ones): an open deal has been in its current
 *   stage since it was created; a closed deal was in `prospecting` until `closedAt`.
 *
 * Two things are not kept in any history and are taken from the deal as it is now: the amount (every
 * past pipeline is valued at today's amounts) and a rep's probability override (used for the deal's
 * current stage wherever the deal was in that stage; other stages use the program's stage default).
 *
 * Pure: no clock, no globals; `now` and the time zone are parameters.
 */
import {
  DEFAULT_STAGE_PROBABILITY,
  OPEN_STAGES,
  isOpenStage,
  isTimeZone,
  type Deal,
  type OpenStage,
  type Stage,
  type StageChange,
} from '../domain/schema';
import { localDayOf, monthStart, startOfLocalDay } from './calendar';

/** How many deals, and their amounts summed (integer minor units). */
export interface DealTally {
  count: number;
  value: number;
}

/** The open pipeline at one instant: the same figures as KPI 3 without `overdue` and `lostToCompetitor`. */
export interface PipelineSnapshot {
  count: number;
  /** Σ amount, minor units. */
  value: number;
  /** Σ amount × probability ÷ 100, minor units (may be fractional, like KPI 3's `weighted`). */
  weighted: number;
  byStage: Record<OpenStage, DealTally>;
}

/**
 * What happened between `from` and `to` to a deal open at either instant; each deal of the union of
 * the two open sets is in exactly one.
 * - `added`: open at `to`, not at `from` (created in between, or reopened after being won or lost).
 * - `won`, `lost`: open at `from`, won or lost at `to`.
 * - `advanced`, `slipped`: open at both, in a later (earlier) open stage at `to` (order of OPEN_STAGES).
 * - `unchanged`: open at both, in the same stage at both (it may have moved and come back in between).
 * - `removed`: open at `from`, deleted by `to` (`deletedAt ≤ to`), whatever its stage before deletion.
 * A deal created and closed in between, or closed at both, is in none (it was never in either pipeline).
 */
export const PIPELINE_MOVEMENTS = [
  'added',
  'won',
  'lost',
  'advanced',
  'slipped',
  'unchanged',
  'removed',
] as const;
export type PipelineMovement = (typeof PIPELINE_MOVEMENTS)[number];

export interface PipelineChange extends Record<PipelineMovement, DealTally> {
  /** The two instants compared, epoch ms. */
  from: number;
  to: number;
  /** The pipeline at `from` and at `to`. */
  before: PipelineSnapshot;
  after: PipelineSnapshot;
}

export interface PipelineHistoryOptions {
  /**
   * The win probability of each stage, for a deal that was in a stage other than its current one
   * (the program's `stageProbabilities`). Default: DEFAULT_STAGE_PROBABILITY.
   */
  stageProbabilities?: Readonly<Record<Stage, number>>;
}

/** Position of each open stage, for "advanced" and "slipped". */
const OPEN_STAGE_RANK: Readonly<Record<OpenStage, number>> = {
  prospecting: 0,
  qualified: 1,
  proposal: 2,
  negotiation: 3,
};

/** The log order (S5): `at`, then `by` in UTF-16 code-unit order (not localeCompare, which varies by device). */
function compareChanges(a: StageChange, b: StageChange): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

/** The entry a deal without a log stands for (see the rules at the top). */
function impliedEntry(deal: Deal): StageChange {
  const at = isOpenStage(deal.stage) ? deal.createdAt : (deal.closedAt ?? deal.createdAt);
  return { stage: deal.stage, at, by: '' };
}

/** The deal's stage at `instant`, or undefined when it did not exist then (see the rules at the top). */
export function stageAt(deal: Deal, instant: number): Stage | undefined {
  if (!(deal.createdAt < instant)) return undefined;
  if (deal.deletedAt !== undefined && deal.deletedAt <= instant) return undefined;
  const log = deal.stageLog !== undefined && deal.stageLog.length > 0 ? deal.stageLog : [impliedEntry(deal)];
  // One pass, no sort: the log is usually sorted already, but nothing here relies on it.
  let first: StageChange | undefined;
  let latest: StageChange | undefined;
  for (const change of log) {
    // Strict for the first entry, `>=` for the latest: among entries equal in (at, by), the first
    // written is the earliest and the last written is the latest, as a stable sort would put them.
    if (first === undefined || compareChanges(change, first) < 0) first = change;
    if (change.at <= instant && (latest === undefined || compareChanges(change, latest) >= 0))
      latest = change;
  }
  if (latest !== undefined) return latest.stage;
  // `log` is never empty, so `first` is set here.
  return first === undefined || !isOpenStage(first.stage) ? 'prospecting' : first.stage;
}

function emptySnapshot(): PipelineSnapshot {
  const byStage = {} as Record<OpenStage, DealTally>;
  for (const stage of OPEN_STAGES) byStage[stage] = { count: 0, value: 0 };
  return { count: 0, value: 0, weighted: 0, byStage };
}

/**
 * Adds up open deals; `weighted` is kept ×100 until the end so that the sum is exact integer
 * arithmetic, as in KPI 3 (kpis.ts), and divided once.
 */
class SnapshotBuilder {
  readonly snapshot = emptySnapshot();
  private weightedTimes100 = 0;

  constructor(private readonly stageProbabilities: Readonly<Record<Stage, number>>) {}

  add(deal: Deal, stage: OpenStage): void {
    // The amount is today's: amount history is not kept.
    const probability = stage === deal.stage ? deal.probability : this.stageProbabilities[stage];
    const figures = this.snapshot.byStage[stage];
    figures.count += 1;
    figures.value += deal.amount;
    this.snapshot.count += 1;
    this.snapshot.value += deal.amount;
    this.weightedTimes100 += deal.amount * probability;
  }

  build(): PipelineSnapshot {
    this.snapshot.weighted = this.weightedTimes100 / 100;
    return this.snapshot;
  }
}

/**
 * The open pipeline at `instant`: the deals that existed then and were in an open stage, valued at
 * their current amounts. Scope and currency filtering are the caller's: pass the deals of the scope.
 */
export function pipelineAt(
  deals: Iterable<Deal>,
  instant: number,
  options: PipelineHistoryOptions = {},
): PipelineSnapshot {
  const builder = new SnapshotBuilder(options.stageProbabilities ?? DEFAULT_STAGE_PROBABILITY);
  for (const deal of deals) {
    const stage = stageAt(deal, instant);
    if (stage !== undefined && isOpenStage(stage)) builder.add(deal, stage);
  }
  return builder.build();
}

/** What happened to the deal between its stages at `from` and at `to` (see PIPELINE_MOVEMENTS). */
function movementOf(before: Stage | undefined, after: Stage | undefined): PipelineMovement | undefined {
  const openBefore = before !== undefined && isOpenStage(before) ? before : undefined;
  const openAfter = after !== undefined && isOpenStage(after) ? after : undefined;
  if (openBefore === undefined) return openAfter === undefined ? undefined : 'added';
  if (openAfter !== undefined) {
    const step = OPEN_STAGE_RANK[openAfter] - OPEN_STAGE_RANK[openBefore];
    return step > 0 ? 'advanced' : step < 0 ? 'slipped' : 'unchanged';
  }
  if (after === 'won') return 'won';
  if (after === 'lost') return 'lost';
  return 'removed';
}

function checkInstants(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to))
    throw new RangeError(`Both instants must be finite (from ${from}, to ${to}).`);
  if (to < from) throw new RangeError(`The change must end after it starts (from ${from}, to ${to}).`);
}

/**
 * The movement of one deal between `from` and `to`, or undefined when it was open at neither — for
 * listing the deals behind each figure of a PipelineChange. Throws a RangeError when `to < from`.
 */
export function pipelineMovement(deal: Deal, from: number, to: number): PipelineMovement | undefined {
  checkInstants(from, to);
  return movementOf(stageAt(deal, from), stageAt(deal, to));
}

/**
 * The pipelines at `from` and at `to`, and how many deals (and how much value, at current amounts)
 * moved in each way between them. Throws a RangeError when `to < from`.
 */
export function pipelineChange(
  deals: Iterable<Deal>,
  from: number,
  to: number,
  options: PipelineHistoryOptions = {},
): PipelineChange {
  checkInstants(from, to);
  return changeTo(deals, from, to, (deal) => stageAt(deal, to), options);
}

/** A deal's stage as it is now: its `stage`, or undefined when deleted — what the KPIs count. */
function currentStage(deal: Deal): Stage | undefined {
  return deal.deletedAt === undefined ? deal.stage : undefined;
}

function changeTo(
  deals: Iterable<Deal>,
  from: number,
  to: number,
  stageAfterOf: (deal: Deal) => Stage | undefined,
  options: PipelineHistoryOptions,
): PipelineChange {
  const probabilities = options.stageProbabilities ?? DEFAULT_STAGE_PROBABILITY;
  const before = new SnapshotBuilder(probabilities);
  const after = new SnapshotBuilder(probabilities);
  const movements = {} as Record<PipelineMovement, DealTally>;
  for (const movement of PIPELINE_MOVEMENTS) movements[movement] = { count: 0, value: 0 };
  for (const deal of deals) {
    const stageBefore = stageAt(deal, from);
    const stageAfter = stageAfterOf(deal);
    if (stageBefore !== undefined && isOpenStage(stageBefore)) before.add(deal, stageBefore);
    if (stageAfter !== undefined && isOpenStage(stageAfter)) after.add(deal, stageAfter);
    const movement = movementOf(stageBefore, stageAfter);
    if (movement === undefined) continue;
    movements[movement].count += 1;
    movements[movement].value += deal.amount;
  }
  return { from, to, before: before.build(), after: after.build(), ...movements };
}

/**
 * "What changed since last month": the change from the start of the current calendar month in `tz`
 * (00:00 of its first day, i.e. the end of last month) to the deals as they are now. The snapshot at
 * that instant counts stage changes and deletions stamped exactly at 00:00 as already done, and deals
 * created exactly at 00:00 as not yet there (the rules of `stageAt`). The pipeline "now" is each
 * deal's current stage, not its log read at `now`: a change stamped later than this device's clock
 * (another device's clock runs ahead) is already in the deal, and this pipeline must equal the one
 * KPI 3 shows beside it. Throws a RangeError for an unknown zone.
 */
export function monthEndPipelineChange(
  deals: Iterable<Deal>,
  now: number,
  tz: string,
  options: PipelineHistoryOptions = {},
): PipelineChange {
  if (!isTimeZone(tz)) throw new RangeError(`"${tz}" is not an IANA time zone (e.g. Asia/Kolkata).`);
  const start = startOfLocalDay(monthStart(localDayOf(tz)(now)), tz);
  checkInstants(start, now);
  return changeTo(deals, start, now, currentStage, options);
}
