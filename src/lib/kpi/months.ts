/**
 * Rollups by month: each series' days gathered into one bucket per calendar month, on the month's
 * first day. The vendor keeps every partner's figures this way — a twentieth of the buckets of
 * days — and every KPI of a period of whole months comes out exactly as from the days:
 * - counters of records created or closed in a month add up on the month's first day, so a
 *   whole-month range counts exactly the same records;
 * - a conversion's lag is restated from month start to month start (the month of the win), so
 *   "converted before the period's end" holds exactly when it held for the day;
 * - an overdue deal counts from the first day of the month it falls due in: before a month's first
 *   day exactly when its day is.
 * A range that does not start and end on a month's first day cannot be answered from months
 * (`isWholeMonths`); `coveringMonths` gives the nearest one that can. Pure.
 */
import {
  addBucket,
  addConversion,
  emptyBucket,
  emptyRollup,
  isEmptyBucket,
  type Bucket,
  type Rollup,
  type Series,
} from './buckets';
import { monthStart } from './calendar';

export function byMonth(rollup: Rollup): Rollup {
  const months = emptyRollup(rollup.tz);
  for (const [key, series] of rollup.series) {
    const target: Series = {
      partnerId: series.partnerId,
      repId: series.repId,
      channel: series.channel,
      days: new Map(),
    };
    for (const bucket of series.days.values()) {
      const month = monthStart(bucket.day);
      let into = target.days.get(month);
      if (!into) target.days.set(month, (into = emptyBucket(month)));
      addBucket(into, { ...bucket, converted: [] } satisfies Bucket);
      for (let i = 0; i < bucket.converted.length; i += 2) {
        addConversion(into, monthStart(bucket.day + bucket.converted[i]!) - month, bucket.converted[i + 1]!);
      }
    }
    // Days that hold nothing make a month that holds nothing: left out, as adding rollups leaves
    // them out, so that months made again from changed days are the same bytes as months made whole.
    for (const [month, bucket] of target.days) if (isEmptyBucket(bucket)) target.days.delete(month);
    if (target.days.size > 0) months.series.set(key, target);
  }
  return months;
}
