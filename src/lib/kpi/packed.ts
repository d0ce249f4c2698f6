/**
 * Rollup series in a compact, storable form: the counters of all a series' days in one
 * Float64Array. A device stores its rollup this way next to the records, so that opening the app
 * shows the KPIs after reading a few arrays, without reading every record again. Structured clone
 * (IndexedDB) copies typed arrays in one block, unlike thousands of small objects.
 */
import { OPEN_STAGES, type Channel } from '../domain/schema';
import { emptyBucket, seriesKey, type Bucket, type Rollup, type Series } from './buckets';

/** Counters per day, in this order, then the three per-stage arrays. */
const SCALARS = ['leads', 'deals', 'prospects', 'won', 'wonAmount', 'wonCycleMs', 'lost', 'lostToCompetitor', 'overdue'] as const;
const STAGES = OPEN_STAGES.length;
const WIDTH = SCALARS.length + 3 * STAGES;

export interface PackedSeries {
  key: string;
  partnerId: string;
  repId: string;
  channel: Channel;
  days: Int32Array;
  /** WIDTH counters per day, day after day. */
  counters: Float64Array;
  /** Conversions as [day, lag, count] triples. */
  conversions: number[];
}

export function packSeries(series: Series): PackedSeries {
  const buckets = [...series.days.values()];
  const days = new Int32Array(buckets.length);
  const counters = new Float64Array(buckets.length * WIDTH);
  const conversions: number[] = [];
  buckets.forEach((bucket, row) => {
    days[row] = bucket.day;
    const base = row * WIDTH;
    SCALARS.forEach((name, column) => (counters[base + column] = bucket[name]));
    for (let stage = 0; stage < STAGES; stage++) {
      counters[base + SCALARS.length + stage] = bucket.openCount[stage]!;
      counters[base + SCALARS.length + STAGES + stage] = bucket.openAmount[stage]!;
      counters[base + SCALARS.length + 2 * STAGES + stage] = bucket.openWeighted[stage]!;
    }
    for (let i = 0; i < bucket.converted.length; i += 2) conversions.push(bucket.day, bucket.converted[i]!, bucket.converted[i + 1]!);
  });
  return { key: seriesKey(series.partnerId, series.repId, series.channel), partnerId: series.partnerId, repId: series.repId, channel: series.channel, days, counters, conversions };
}

export function unpackSeries(packed: PackedSeries): Series {
  const days = new Map<number, Bucket>();
  for (let row = 0; row < packed.days.length; row++) {
    const bucket = emptyBucket(packed.days[row]!);
    const base = row * WIDTH;
    SCALARS.forEach((name, column) => (bucket[name] = packed.counters[base + column]!));
    for (let stage = 0; stage < STAGES; stage++) {
      bucket.openCount[stage] = packed.counters[base + SCALARS.length + stage]!;
      bucket.openAmount[stage] = packed.counters[base + SCALARS.length + STAGES + stage]!;
      bucket.openWeighted[stage] = packed.counters[base + SCALARS.length + 2 * STAGES + stage]!;
    }
    days.set(bucket.day, bucket);
  }
  for (let i = 0; i < packed.conversions.length; i += 3) days.get(packed.conversions[i]!)?.converted.push(packed.conversions[i + 1]!, packed.conversions[i + 2]!);
  return { partnerId: packed.partnerId, repId: packed.repId, channel: packed.channel, days };
}

export function packRollup(rollup: Rollup): PackedSeries[] {
  return [...rollup.series.values()].map(packSeries);
}

export function unpackRollup(tz: string, packed: PackedSeries[]): Rollup {
  return { tz, series: new Map(packed.map((series) => [series.key, unpackSeries(series)])) };
}
