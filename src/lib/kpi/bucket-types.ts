/**
 * The shapes of the rollup buckets, apart from the code that fills them (buckets.ts, which says what
 * each counter counts) and the code that indexes them (series-index.ts): both import these types
 * and neither imports the other's, so the two modules do not depend on each other in a circle.
 * Types only: nothing here runs.
 */
import type { Channel } from '../domain/schema';

/** The counters of one local day of one series. */
export interface Bucket {
  day: number;
  leads: number;
  deals: number;
  prospects: number;
  /**
   * Conversions of this bucket's prospects as flat pairs [lag, count, lag, count, …], lag being the
   * days from creation to conversion. Pairs in an array rather than an object keyed by lag: reading
   * them is the inner loop of every KPI query, and numeric object keys are read back as strings.
   */
  converted: number[];
  won: number;
  wonAmount: number;
  wonCycleMs: number;
  lost: number;
  lostToCompetitor: number;
  /** Per open stage, in the order of OPEN_STAGES: deals created this day and open now. */
  openCount: number[];
  openAmount: number[];
  /** Σ amount × probability (percent): divide by 100 for the weighted pipeline. Kept integer. */
  openWeighted: number[];
  overdue: number;
}

/**
 * The buckets of one partner × rep × channel, by local day. Grouping by series first lets a KPI
 * query filter by scope and channel once per series instead of once per bucket.
 */
export interface Series {
  partnerId: string;
  repId: string;
  channel: Channel;
  days: Map<number, Bucket>;
  /** Running totals for queries, derived from `days`; dropped whenever a bucket changes. */
  index?: SeriesIndex | undefined;
  /** The days whose buckets changed since `takeChangedSeries` last collected them (to store them again). */
  changedDays?: Set<number> | undefined;
}

/** Rollup buckets of one time zone, by series key. */
export interface Rollup {
  tz: string;
  series: Map<string, Series>;
}

/**
 * A query index over one series of buckets: running totals per day (series-index.ts builds it).
 */
export interface SeriesIndex {
  /** Day number of the first bucket. */
  firstDay: number;
  /**
   * Rows of running totals per column. Dense (no `days`): days covered + 1, running total k holds
   * the sum of the days before firstDay + k. Sparse: buckets + 1, running total j holds the sum of
   * the first j buckets, in the order of `days`.
   */
  size: number;
  /** For a sparse series (a bucket every few weeks, as by month): the buckets' days, ascending. */
  days?: Int32Array;
  /** Running totals, column by column: totals[column * size + k]. */
  totals: Float64Array;
  /** Conversions as triples [creation day, lag, count, …]. */
  conversions: number[];
  /** Whether any lead or deal of the series exists (on any day). */
  hasRecords: boolean;
}
