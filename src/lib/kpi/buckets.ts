/**
 * Additive rollup buckets: the form in which leads and deals are summed so that any of the eight
 * KPIs, for any period, scope and channel, can be computed without looking at the records again.
 *
 * A bucket holds counters for one local day (in the program's time zone) of one series, a series
 * being one partner × rep × channel.
 * Every counter is a plain sum, so buckets form a commutative monoid (a group, even: counters can be
 * subtracted): rep → partner → program aggregation is addition, and `kpis(rollup(A ∪ B))` equals
 * `kpis(merge(rollup(A), rollup(B)))` whenever A and B hold different records.
 *
 * What each record adds, and to which day's bucket:
 * - a lead, on the day it was created: `leads`, `prospects`, and `converted[lag]` when one of its
 *   deals is won, lag being the days from creation to the earliest win (0 when the win came first);
 * - a deal, on the day it was created: `deals`; when it has no lead it is a prospect itself
 *   (`prospects`, `converted[lag]` when won); when it is open now, its stage's `open*` counters;
 * - a won or lost deal, on the day it closed: `won`, `wonAmount`, `wonCycleMs` or `lost`,
 *   `lostToCompetitor`;
 * - an open deal with an expected close date, on the later of its creation day and its expected
 *   close day: `overdue` — for a period ending at `to`, it is overdue exactly when that day < to.
 *
 * The `converted` lags make "won before the period's end" answerable per period: a prospect created
 * on day d with lag l is converted in a period ending at `to` exactly when d + l < to.
 */
import { OPEN_STAGES, type Channel, type Deal, type Lead } from '../domain/schema';
import { localDayOf } from './calendar';
import { buildSeriesIndex } from './series-index';
import type { Bucket, Rollup, Series, SeriesIndex } from './bucket-types';

export type { Bucket, Rollup, Series } from './bucket-types';

/**
 * Whether an open deal is overdue on the local day that begins at `todayStart`: it was due, and
 * created, before that day — the rule of the `overdue` counter (counted on the later of the two
 * days), for the screens that list overdue deals beside the KPI that counts them.
 */
export function isOverdue(deal: Pick<Deal, 'createdAt' | 'expectedCloseAt'>, todayStart: number): boolean {
  return (
    deal.expectedCloseAt !== undefined && deal.expectedCloseAt < todayStart && deal.createdAt < todayStart
  );
}

const STAGE_INDEX: Record<string, number> = Object.fromEntries(
  OPEN_STAGES.map((stage, index) => [stage, index]),
);

export function seriesKey(partnerId: string, repId: string, channel: Channel): string {
  return `${partnerId}|${repId}|${channel}`;
}

export function emptyBucket(day: number): Bucket {
  return {
    day,
    leads: 0,
    deals: 0,
    prospects: 0,
    converted: [],
    won: 0,
    wonAmount: 0,
    wonCycleMs: 0,
    lost: 0,
    lostToCompetitor: 0,
    openCount: [0, 0, 0, 0],
    openAmount: [0, 0, 0, 0],
    openWeighted: [0, 0, 0, 0],
    overdue: 0,
  };
}

export function emptyRollup(tz: string): Rollup {
  return { tz, series: new Map() };
}

/** target += source × sign, counter by counter. */
export function addBucket(target: Bucket, source: Bucket, sign = 1): void {
  target.leads += sign * source.leads;
  target.deals += sign * source.deals;
  target.prospects += sign * source.prospects;
  const conversions = source.converted;
  for (let i = 0; i < conversions.length; i += 2)
    addConversion(target, conversions[i]!, sign * conversions[i + 1]!);
  target.won += sign * source.won;
  target.wonAmount += sign * source.wonAmount;
  target.wonCycleMs += sign * source.wonCycleMs;
  target.lost += sign * source.lost;
  target.lostToCompetitor += sign * source.lostToCompetitor;
  for (let stage = 0; stage < OPEN_STAGES.length; stage++) {
    target.openCount[stage]! += sign * source.openCount[stage]!;
    target.openAmount[stage]! += sign * source.openAmount[stage]!;
    target.openWeighted[stage]! += sign * source.openWeighted[stage]!;
  }
  target.overdue += sign * source.overdue;
}

function seriesIn(rollup: Rollup, partnerId: string, repId: string, channel: Channel): Series {
  const key = seriesKey(partnerId, repId, channel);
  let series = rollup.series.get(key);
  if (!series) rollup.series.set(key, (series = { partnerId, repId, channel, days: new Map() }));
  return series;
}

/** The bucket of a day, about to be changed: every change goes through here, so the index is dropped here. */
function bucketOf(series: Series, day: number): Bucket {
  series.index = undefined;
  (series.changedDays ??= new Set()).add(day);
  let bucket = series.days.get(day);
  if (!bucket) series.days.set(day, (bucket = emptyBucket(day)));
  return bucket;
}

function bucketIn(rollup: Rollup, day: number, partnerId: string, repId: string, channel: Channel): Bucket {
  return bucketOf(seriesIn(rollup, partnerId, repId, channel), day);
}

/** A series changed since the last `takeChangedSeries`, and the days of it that changed. */
export interface SeriesChange {
  key: string;
  series: Series;
  days: Set<number>;
}

/** The series changed since the last call, with their changed days (and marks them unchanged). */
export function takeChangedSeries(rollup: Rollup): SeriesChange[] {
  const changed: SeriesChange[] = [];
  for (const [key, series] of rollup.series) {
    if (!series.changedDays) continue;
    changed.push({ key, series, days: series.changedDays });
    series.changedDays = undefined;
  }
  return changed;
}

/** Marks days of a series as changed again (their storing failed: store them with the next change). */
export function markChanged(series: Series, days: Iterable<number>): void {
  const changed = (series.changedDays ??= new Set());
  for (const day of days) changed.add(day);
}

/** The query index of a series, built when first needed after a change. */
export function seriesIndex(series: Series): SeriesIndex {
  return (series.index ??= buildSeriesIndex(series));
}

/** The sum of several rollups of the same time zone, as a new rollup (the inputs are unchanged). */
export function mergeRollups(...rollups: Rollup[]): Rollup {
  const first = rollups[0];
  if (!first) throw new Error('mergeRollups needs at least one rollup');
  const merged = emptyRollup(first.tz);
  for (const rollup of rollups) {
    if (rollup.tz !== first.tz) throw new Error(`Cannot merge rollups of ${first.tz} and ${rollup.tz}`);
    for (const series of rollup.series.values()) {
      const target = seriesIn(merged, series.partnerId, series.repId, series.channel);
      for (const bucket of series.days.values()) addBucket(bucketOf(target, bucket.day), bucket);
    }
  }
  return merged;
}

/** Whether a bucket counts nothing at all (what is left of one whose records were subtracted again). */
export function isEmptyBucket(bucket: Bucket): boolean {
  if (bucket.converted.length > 0) return false;
  if (
    bucket.leads ||
    bucket.deals ||
    bucket.prospects ||
    bucket.won ||
    bucket.wonAmount ||
    bucket.wonCycleMs ||
    bucket.lost ||
    bucket.lostToCompetitor ||
    bucket.overdue
  )
    return false;
  return (
    bucket.openCount.every((n) => n === 0) &&
    bucket.openAmount.every((n) => n === 0) &&
    bucket.openWeighted.every((n) => n === 0)
  );
}

/**
 * target += source × sign, bucket by bucket, every series of `source` counted under `as` (one
 * partner and rep id for all: the program's total) or its own ids. Buckets and series that come to
 * nothing are dropped, so adding and then subtracting the same rollup leaves `target` as it was.
 */
export function addRollup(
  target: Rollup,
  source: Rollup,
  sign: 1 | -1,
  as?: { partnerId: string; repId: string },
): void {
  if (target.tz !== source.tz) throw new Error(`Cannot add rollups of ${source.tz} to ${target.tz}`);
  for (const series of source.series.values()) {
    const into = seriesIn(
      target,
      as?.partnerId ?? series.partnerId,
      as?.repId ?? series.repId,
      series.channel,
    );
    for (const bucket of series.days.values()) {
      const sum = bucketOf(into, bucket.day);
      addBucket(sum, bucket, sign);
      if (isEmptyBucket(sum)) into.days.delete(bucket.day);
    }
    into.index = undefined;
    if (into.days.size === 0) target.series.delete(seriesKey(into.partnerId, into.repId, into.channel));
  }
}

/**
 * The rollup with its reps summed away: one series per partner × channel (rep id ''), as the
 * vendor keeps it (only the days `keep` says, when given). Partner and program figures are the same
 * as the input's (buckets only add up); rep figures are not there any more.
 */
export function withoutReps(rollup: Rollup, keep?: (day: number) => boolean): Rollup {
  const merged = emptyRollup(rollup.tz);
  for (const series of rollup.series.values()) {
    let target: Series | undefined;
    for (const bucket of series.days.values()) {
      if (keep && !keep(bucket.day)) continue;
      target ??= seriesIn(merged, series.partnerId, '', series.channel);
      addBucket(bucketOf(target, bucket.day), bucket);
    }
  }
  return merged;
}

/**
 * Keeps a rollup up to date as leads and deals are added, changed or deleted, one record at a time:
 * a change subtracts the record's old contribution and adds its new one, so the cost of an update
 * does not grow with the number of records.
 */
export class RollupIndex {
  readonly rollup: Rollup;
  private readonly dayOf: (instant: number) => number;
  private readonly leads = new Map<string, Lead>();
  private readonly deals = new Map<string, Deal>();
  /** Lead id → ids of the deals made from it (deleted ones included: they may come back). */
  private readonly dealsByLead = new Map<string, Set<string>>();

  constructor(tz: string) {
    this.rollup = emptyRollup(tz);
    this.dayOf = localDayOf(tz);
  }

  /** Adds many records at once; faster than one by one because conversions are settled once per lead. */
  static build(tz: string, leads: Iterable<Lead>, deals: Iterable<Deal>): RollupIndex {
    const index = new RollupIndex(tz);
    for (const deal of deals) {
      index.deals.set(deal.id, deal);
      index.linkDeal(deal);
      index.applyDeal(deal, 1);
    }
    for (const lead of leads) {
      index.leads.set(lead.id, lead);
      index.applyLead(lead, 1);
    }
    // Queries need each series' running totals: build them now, as part of building the rollup.
    for (const series of index.rollup.series.values()) seriesIndex(series);
    return index;
  }

  upsertLead(lead: Lead): void {
    const previous = this.leads.get(lead.id);
    if (previous) this.applyLead(previous, -1);
    this.leads.set(lead.id, lead);
    this.applyLead(lead, 1);
  }

  upsertDeal(deal: Deal): void {
    const previous = this.deals.get(deal.id);
    // A deal's win converts its lead: take the affected leads' contributions out while the deal changes.
    const affectedLeads = [...new Set([previous?.leadId, deal.leadId])]
      .map((leadId) => (leadId === undefined ? undefined : this.leads.get(leadId)))
      .filter((lead): lead is Lead => lead !== undefined);
    for (const lead of affectedLeads) this.applyLead(lead, -1);
    if (previous) {
      this.applyDeal(previous, -1);
      if (previous.leadId !== undefined) this.dealsByLead.get(previous.leadId)?.delete(previous.id);
    }
    this.deals.set(deal.id, deal);
    this.linkDeal(deal);
    this.applyDeal(deal, 1);
    for (const lead of affectedLeads) this.applyLead(lead, 1);
  }

  private linkDeal(deal: Deal): void {
    if (deal.leadId === undefined) return;
    let ids = this.dealsByLead.get(deal.leadId);
    if (!ids) this.dealsByLead.set(deal.leadId, (ids = new Set()));
    ids.add(deal.id);
  }

  /** The earliest close of a won, not deleted deal made from this lead, or undefined. */
  private wonAtOfLead(leadId: string): number | undefined {
    let earliest: number | undefined;
    for (const dealId of this.dealsByLead.get(leadId) ?? []) {
      const deal = this.deals.get(dealId);
      if (deal && deal.deletedAt === undefined && deal.stage === 'won' && deal.closedAt !== undefined) {
        if (earliest === undefined || deal.closedAt < earliest) earliest = deal.closedAt;
      }
    }
    return earliest;
  }

  private applyLead(lead: Lead, sign: number): void {
    if (lead.deletedAt !== undefined) return;
    const day = this.dayOf(lead.createdAt);
    const bucket = bucketIn(this.rollup, day, lead.partnerId, lead.repId, lead.channel);
    bucket.leads += sign;
    bucket.prospects += sign;
    const wonAt = this.wonAtOfLead(lead.id);
    if (wonAt !== undefined) addConversion(bucket, Math.max(0, this.dayOf(wonAt) - day), sign);
  }

  private applyDeal(deal: Deal, sign: number): void {
    if (deal.deletedAt !== undefined) return;
    const createdDay = this.dayOf(deal.createdAt);
    const created = bucketIn(this.rollup, createdDay, deal.partnerId, deal.repId, deal.channel);
    created.deals += sign;
    const closedAt = deal.closedAt;
    const closedDay = closedAt === undefined ? undefined : this.dayOf(closedAt);
    if (deal.leadId === undefined) {
      created.prospects += sign;
      if (deal.stage === 'won' && closedDay !== undefined)
        addConversion(created, Math.max(0, closedDay - createdDay), sign);
    }
    const stage = STAGE_INDEX[deal.stage];
    if (stage !== undefined) {
      created.openCount[stage]! += sign;
      created.openAmount[stage]! += sign * deal.amount;
      created.openWeighted[stage]! += sign * deal.amount * deal.probability;
      if (deal.expectedCloseAt !== undefined) {
        const overdueFrom = Math.max(createdDay, this.dayOf(deal.expectedCloseAt));
        bucketIn(this.rollup, overdueFrom, deal.partnerId, deal.repId, deal.channel).overdue += sign;
      }
    } else if (closedAt !== undefined && closedDay !== undefined) {
      const closed = bucketIn(this.rollup, closedDay, deal.partnerId, deal.repId, deal.channel);
      if (deal.stage === 'won') {
        closed.won += sign;
        closed.wonAmount += sign * deal.amount;
        closed.wonCycleMs += sign * (closedAt - deal.createdAt);
      } else {
        closed.lost += sign;
        if (deal.lostReason === 'competitor') closed.lostToCompetitor += sign;
      }
    }
  }
}

/** Adds `count` conversions of lag `lag` to a bucket (a pair that sums to zero goes). */
export function addConversion(bucket: Bucket, lag: number, count: number): void {
  const pairs = bucket.converted;
  for (let i = 0; i < pairs.length; i += 2) {
    if (pairs[i] !== lag) continue;
    const sum = pairs[i + 1]! + count;
    if (sum === 0) pairs.splice(i, 2);
    else pairs[i + 1] = sum;
    return;
  }
  if (count !== 0) pairs.push(lag, count);
}

/** Rollup buckets of a set of leads and deals, in time zone `tz`. */
export function buildRollup(tz: string, leads: Iterable<Lead>, deals: Iterable<Deal>): Rollup {
  return RollupIndex.build(tz, leads, deals).rollup;
}
