/**
 * A query index over one series of buckets: running totals per day, so that the sum of any counter
 * over any range of days is two array reads. A KPI query then costs O(series) instead of
 * O(buckets), whatever the number of records and whatever the length of the period.
 *
 * It is derived data: built on first use from the series' buckets and dropped whenever one of them
 * changes (see `bucketOf` in buckets.ts), so the buckets stay the single source.
 */
import type { Bucket, Series, SeriesIndex } from './bucket-types';

/** The counters that are summed over a range of days (columns of the running totals). */
export const Column = {
  Prospects: 0,
  Won: 1,
  WonAmount: 2,
  WonCycleMs: 3,
  Lost: 4,
  LostToCompetitor: 5,
  Overdue: 6,
  /** Then four columns each, one per open stage in the order of OPEN_STAGES. */
  OpenCount: 7,
  OpenAmount: 11,
  OpenWeighted: 15,
  Count: 19,
} as const;
type ColumnNumber = number;

/** Writes a bucket's counters as the day-k entries of each column (before the running sum). */
function writeBucket(bucket: Bucket, totals: Float64Array, size: number, k: number): void {
  totals[Column.Prospects * size + k] = bucket.prospects;
  totals[Column.Won * size + k] = bucket.won;
  totals[Column.WonAmount * size + k] = bucket.wonAmount;
  totals[Column.WonCycleMs * size + k] = bucket.wonCycleMs;
  totals[Column.Lost * size + k] = bucket.lost;
  totals[Column.LostToCompetitor * size + k] = bucket.lostToCompetitor;
  totals[Column.Overdue * size + k] = bucket.overdue;
  for (let stage = 0; stage < 4; stage++) {
    totals[(Column.OpenCount + stage) * size + k] = bucket.openCount[stage]!;
    totals[(Column.OpenAmount + stage) * size + k] = bucket.openAmount[stage]!;
    totals[(Column.OpenWeighted + stage) * size + k] = bucket.openWeighted[stage]!;
  }
}

export function buildSeriesIndex(series: Series): SeriesIndex {
  const buckets = [...series.days.values()];
  let firstDay = Infinity;
  let lastDay = -Infinity;
  let hasRecords = false;
  for (const bucket of buckets) {
    if (bucket.day < firstDay) firstDay = bucket.day;
    if (bucket.day > lastDay) lastDay = bucket.day;
    if (bucket.leads + bucket.deals > 0) hasRecords = true;
  }
  if (buckets.length === 0)
    return { firstDay: 0, size: 1, totals: new Float64Array(Column.Count), conversions: [], hasRecords };
  // A row per day costs memory by the span, a row per bucket a binary search per read: rows per
  // bucket when buckets are fewer than one a week (a series by month: 24 rows instead of 730).
  const sparse = buckets.length * SPARSE_DAYS_PER_BUCKET < lastDay - firstDay + 1;
  if (sparse) buckets.sort((a, b) => a.day - b.day);
  const size = sparse ? buckets.length + 1 : lastDay - firstDay + 2;
  const totals = new Float64Array(Column.Count * size);
  const conversions: number[] = [];
  buckets.forEach((bucket, row) => {
    writeBucket(bucket, totals, size, sparse ? row + 1 : bucket.day - firstDay + 1);
    const pairs = bucket.converted;
    for (let i = 0; i < pairs.length; i += 2) conversions.push(bucket.day, pairs[i]!, pairs[i + 1]!);
  });
  for (let column = 0; column < Column.Count; column++) {
    const base = column * size;
    let sum = 0;
    for (let k = 1; k < size; k++) totals[base + k] = sum += totals[base + k]!;
  }
  return {
    firstDay,
    size,
    totals,
    conversions,
    hasRecords,
    ...(sparse ? { days: Int32Array.from(buckets, (bucket) => bucket.day) } : {}),
  };
}

/** Above this many days of span per bucket, a series' index keeps a row per bucket, not per day. */
const SPARSE_DAYS_PER_BUCKET = 7;

/** How many of the ascending `days` are before `day`. */
function countBefore(days: Int32Array, day: number): number {
  let low = 0;
  let high = days.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (days[middle]! < day) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Running total of `column` over the days before `day`. */
export function totalBefore(index: SeriesIndex, column: ColumnNumber, day: number): number {
  const k = index.days
    ? countBefore(index.days, day)
    : Math.min(Math.max(day - index.firstDay, 0), index.size - 1);
  return index.totals[column * index.size + k]!;
}

/** Sum of `column` over the days [fromDay, toDay). */
export function sumBetween(index: SeriesIndex, column: ColumnNumber, fromDay: number, toDay: number): number {
  return totalBefore(index, column, toDay) - totalBefore(index, column, fromDay);
}
