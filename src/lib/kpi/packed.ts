/**
 * Rollup series in a compact, storable form: the counters of all a series' days in one
 * Float64Array. A device stores its rollup this way next to the records, so that opening the app
 * shows the KPIs after reading a few arrays, without reading every record again. Structured clone
 * (IndexedDB) copies typed arrays in one block, unlike thousands of small objects.
 */
import { CHANNELS, OPEN_STAGES, type Channel } from '../domain/schema';
import { emptyBucket, seriesKey, type Bucket, type Rollup, type Series } from './buckets';

/** Counters per day, in this order, then the three per-stage arrays. */
const SCALARS = [
  'leads',
  'deals',
  'prospects',
  'won',
  'wonAmount',
  'wonCycleMs',
  'lost',
  'lostToCompetitor',
  'overdue',
] as const;
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

/** Packs a series' buckets (or only those of `buckets`) under `key` (the series key by default). */
export function packSeries(
  series: Series,
  buckets: Bucket[] = [...series.days.values()],
  key = seriesKey(series.partnerId, series.repId, series.channel),
): PackedSeries {
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
    for (let i = 0; i < bucket.converted.length; i += 2)
      conversions.push(bucket.day, bucket.converted[i]!, bucket.converted[i + 1]!);
  });
  return {
    key,
    partnerId: series.partnerId,
    repId: series.repId,
    channel: series.channel,
    days,
    counters,
    conversions,
  };
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
  for (let i = 0; i < packed.conversions.length; i += 3)
    days.get(packed.conversions[i]!)?.converted.push(packed.conversions[i + 1]!, packed.conversions[i + 2]!);
  return { partnerId: packed.partnerId, repId: packed.repId, channel: packed.channel, days };
}

export function packRollup(rollup: Rollup): PackedSeries[] {
  return [...rollup.series.values()].map((series) => packSeries(series));
}

/**
 * Unpacks stored series into a rollup. Several entries of one series (its chunks, packRollupChunks)
 * are merged into one series.
 */
export function unpackRollup(tz: string, packed: PackedSeries[]): Rollup {
  const rollup: Rollup = { tz, series: new Map() };
  for (const entry of packed) {
    const key = seriesKey(entry.partnerId, entry.repId, entry.channel);
    const unpacked = unpackSeries(entry);
    const series = rollup.series.get(key);
    if (!series) rollup.series.set(key, unpacked);
    else for (const [day, bucket] of unpacked.days) series.days.set(day, bucket);
  }
  return rollup;
}

// ---------------------------------------------------------------------------------------------
// Chunks: how a device stores its rollup
//
// A series holds every day of a rep's channel, often a thousand days and 60–90 KB packed. Stored
// whole, every saved deal would write its series' whole history again. Stored in chunks of
// CHUNK_DAYS days (one IndexedDB row each, keyed `<series key>@<chunk>`), a save writes only the
// chunks of the days it changed: a few KB.

/** Days per stored chunk of a series. */
export const CHUNK_DAYS = 32;

export const chunkOf = (day: number): number => Math.floor(day / CHUNK_DAYS);

/** The series' buckets in chunks, every chunk or only those of `days`, one packed entry each. */
export function packSeriesChunks(series: Series, days?: Iterable<number>): PackedSeries[] {
  const wanted = days === undefined ? undefined : new Set([...days].map(chunkOf));
  const chunks = new Map<number, Bucket[]>();
  for (const bucket of series.days.values()) {
    const chunk = chunkOf(bucket.day);
    if (wanted && !wanted.has(chunk)) continue;
    let buckets = chunks.get(chunk);
    if (!buckets) chunks.set(chunk, (buckets = []));
    buckets.push(bucket);
  }
  const key = seriesKey(series.partnerId, series.repId, series.channel);
  return [...chunks].map(([chunk, buckets]) => packSeries(series, buckets, `${key}@${chunk}`));
}

/** Every series of a rollup in chunks (what a device stores after building its rollup). */
export function packRollupChunks(rollup: Rollup): PackedSeries[] {
  return [...rollup.series.values()].flatMap((series) => packSeriesChunks(series));
}

/**
 * A chunk as a device stores it: in the binary form below, a fifth of the bytes of a PackedSeries
 * (most counters are zero). Opening reads every chunk, and IndexedDB takes its time by the byte:
 * the 2,500 chunks of 20,000 deals and 40,000 leads read in ~80 ms as 1.5 MB, ~350 ms as 7.7 MB.
 */
export interface StoredChunk {
  key: string;
  bytes: Uint8Array;
}

export function storeChunk(chunk: PackedSeries): StoredChunk {
  return { key: chunk.key, bytes: encodePackedRollup([chunk]) };
}

/** The rollup of stored chunks; throws a PackedRollupError for a chunk that cannot be read. */
export function unpackStoredChunks(tz: string, rows: readonly StoredChunk[]): Rollup {
  return unpackRollup(
    tz,
    rows.flatMap((row) => decodePackedRollup(row.bytes)),
  );
}

// ---------------------------------------------------------------------------------------------
// Binary form of a whole partner rollup (the server writes it into the program document)
//
// Most counters of a day are zero (about 90 % in the demo program: a day usually holds a lead or
// two and nothing else), so the dense `counters` rows, at 21 × 8 bytes a day, would make the
// demo program's rollups 1.9 MB. Each day instead keeps a bit mask of its non-zero counters and
// only those values, which cuts that to about a seventh while every part is still a typed array
// copied as one block: the masks, the values, the days and the conversions.
//
// Layout, version 1, every number little-endian:
//
//   u8   version (PACKED_ROLLUP_VERSION)
//   u32  number of series
//   per series, a header:
//     u8   channel, as its index in CHANNELS
//     u16  byte length, then the UTF-8 bytes of partnerId
//     u16  byte length, then the UTF-8 bytes of repId
//     u32  days (rows)
//     u32  non-zero counter values
//     u32  conversion triples
//   per series, in the same order, its blocks:
//     f64 × values          the non-zero counters, row after row, in WIDTH order
//     i32 × days            the day numbers
//     u32 × days            per row, bit c set when counter c is stored in the values
//     i32 × 3 × triples     conversions [day, lag, count]
//
// "Zero" means +0 exactly: -0 and NaN are stored as values, so a round trip gives back every bit.

/** The first byte of every encoded rollup; a decoder refuses any other. */
export const PACKED_ROLLUP_VERSION = 1;

const HEADER_BYTES = 1 + 4;
const SERIES_FIXED_BYTES = 1 + 2 + 2 + 4 + 4 + 4;
/** Longest id in bytes a series header can hold (ids are at most 64 characters by the schema). */
const MAX_ID_BYTES = 0xffff;

if (WIDTH > 32) throw new Error('A day has more counters than a 32-bit mask can mark');

/** Whether this machine stores typed arrays little-endian, so that blocks can be copied as they are. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type NumberArray = Float64Array | Int32Array | Uint32Array;
type NumberArrayKind = 'f64' | 'i32' | 'u32';

const BYTES_PER: Record<NumberArrayKind, number> = { f64: 8, i32: 4, u32: 4 };

/** Refused input to `decodePackedRollup` (or a series `encodePackedRollup` cannot represent). */
export class PackedRollupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackedRollupError';
  }
}

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  offset = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number) {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
  }

  u16(value: number) {
    this.view.setUint16(this.offset, value, true);
    this.offset += 2;
  }

  u32(value: number) {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  raw(bytes: Uint8Array) {
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  block(array: NumberArray, kind: NumberArrayKind) {
    if (LITTLE_ENDIAN_HOST) {
      this.raw(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      return;
    }
    for (let i = 0; i < array.length; i++) {
      const at = this.offset + i * BYTES_PER[kind];
      if (kind === 'f64') this.view.setFloat64(at, array[i]!, true);
      else if (kind === 'i32') this.view.setInt32(at, array[i]!, true);
      else this.view.setUint32(at, array[i]!, true);
    }
    this.offset += array.byteLength;
  }
}

class Reader {
  private readonly view: DataView;
  offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Refuses, with where and how much, a read past the end. */
  need(length: number, what: string) {
    if (this.offset + length > this.bytes.length) {
      throw new PackedRollupError(
        `Packed rollup is truncated: ${what} needs ${length} bytes at offset ${this.offset}, but only ${this.bytes.length - this.offset} remain`,
      );
    }
  }

  u8(what: string) {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  u16(what: string) {
    this.need(2, what);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what: string) {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  raw(length: number, what: string) {
    this.need(length, what);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  /** A copy of the next `count` numbers: the result never shares memory with the input. */
  block<T extends NumberArray>(
    make: new (length: number) => T,
    kind: NumberArrayKind,
    count: number,
    what: string,
  ): T {
    const length = count * BYTES_PER[kind];
    this.need(length, what);
    const array = new make(count);
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(array.buffer).set(this.bytes.subarray(this.offset, this.offset + length));
    } else {
      for (let i = 0; i < count; i++) {
        const at = this.offset + i * BYTES_PER[kind];
        array[i] =
          kind === 'f64'
            ? this.view.getFloat64(at, true)
            : kind === 'i32'
              ? this.view.getInt32(at, true)
              : this.view.getUint32(at, true);
      }
    }
    this.offset += length;
    return array;
  }
}

const isStoredZero = (value: number) => Object.is(value, 0);

interface EncodedSeries {
  series: PackedSeries;
  channel: number;
  partnerId: Uint8Array;
  repId: Uint8Array;
  values: Float64Array;
  masks: Uint32Array;
  conversions: Int32Array;
}

/** What of TextEncoder and TextDecoder is used here: the same in browsers and on the server (whose checks have no DOM types). */
type Utf8Encoder = { encode(text: string): Uint8Array };
type Utf8Decoder = { decode(bytes: Uint8Array): string };

function encodeSeries(series: PackedSeries, utf8: Utf8Encoder): EncodedSeries {
  const rows = series.days.length;
  const what = `series ${series.key}`;
  const channel = CHANNELS.indexOf(series.channel);
  if (channel < 0) throw new PackedRollupError(`${what}: unknown channel ${String(series.channel)}`);
  if (series.counters.length !== rows * WIDTH)
    throw new PackedRollupError(
      `${what}: ${series.counters.length} counters for ${rows} days (expected ${WIDTH} a day)`,
    );
  if (series.conversions.length % 3 !== 0)
    throw new PackedRollupError(`${what}: conversions are not [day, lag, count] triples`);
  const conversions = Int32Array.from(series.conversions);
  conversions.forEach((value, i) => {
    if (value !== series.conversions[i])
      throw new PackedRollupError(
        `${what}: conversion value ${series.conversions[i]} is not a 32-bit integer`,
      );
  });
  const masks = new Uint32Array(rows);
  let stored = 0;
  for (let i = 0; i < series.counters.length; i++) if (!isStoredZero(series.counters[i]!)) stored++;
  const values = new Float64Array(stored);
  let next = 0;
  for (let row = 0; row < rows; row++) {
    let mask = 0;
    for (let column = 0; column < WIDTH; column++) {
      const value = series.counters[row * WIDTH + column]!;
      if (isStoredZero(value)) continue;
      mask |= 1 << column;
      values[next++] = value;
    }
    masks[row] = mask >>> 0;
  }
  const partnerId = utf8.encode(series.partnerId);
  const repId = utf8.encode(series.repId);
  if (partnerId.length > MAX_ID_BYTES || repId.length > MAX_ID_BYTES)
    throw new PackedRollupError(`${what}: an id is longer than ${MAX_ID_BYTES} bytes`);
  return { series, channel, partnerId, repId, values, masks, conversions };
}

/**
 * The series of one rollup as bytes (layout above). Pure and the same in the browser and in Node:
 * no Buffer, and little-endian whatever the machine. Throws a PackedRollupError for a series that
 * is not well formed (counters not WIDTH a day, an unknown channel, a conversion that is not an
 * integer) rather than storing something that would decode differently.
 *
 * `compact` writes the varint form below instead, about a third of the bytes, when every value is
 * an integer below 2^52 (counters of records are); otherwise, the form above.
 */
export function encodePackedRollup(
  series: readonly PackedSeries[],
  { compact = false }: { compact?: boolean } = {},
): Uint8Array {
  const utf8 = new TextEncoder();
  const encoded = series.map((one) => encodeSeries(one, utf8));
  if (compact && encoded.every((one) => one.values.every(fitsVarint))) return encodeCompact(encoded);
  let length = HEADER_BYTES;
  for (const one of encoded) {
    const rows = one.series.days.length;
    length += SERIES_FIXED_BYTES + one.partnerId.length + one.repId.length;
    length += one.values.byteLength + rows * 4 + one.masks.byteLength + one.conversions.byteLength;
  }
  const out = new Writer(length);
  out.u8(PACKED_ROLLUP_VERSION);
  out.u32(encoded.length);
  for (const one of encoded) {
    out.u8(one.channel);
    out.u16(one.partnerId.length);
    out.raw(one.partnerId);
    out.u16(one.repId.length);
    out.raw(one.repId);
    out.u32(one.series.days.length);
    out.u32(one.values.length);
    out.u32(one.conversions.length / 3);
  }
  for (const one of encoded) {
    out.block(one.values, 'f64');
    out.block(one.series.days, 'i32');
    out.block(one.masks, 'u32');
    out.block(one.conversions, 'i32');
  }
  return out.bytes;
}

/**
 * The series of `encodePackedRollup`'s bytes, sharing no memory with them. Throws a
 * PackedRollupError, saying what and where, for an unknown version, a truncated input, bytes left
 * over, an unknown channel, or masks that do not match the number of values.
 */
export function decodePackedRollup(bytes: Uint8Array): PackedSeries[] {
  const input = new Reader(bytes);
  const version = input.u8('the version');
  if (version === PACKED_ROLLUP_COMPACT) return decodeCompact(bytes);
  if (version !== PACKED_ROLLUP_VERSION)
    throw new PackedRollupError(
      `Packed rollup has version ${version}; this app reads versions ${PACKED_ROLLUP_VERSION} and ${PACKED_ROLLUP_COMPACT}`,
    );
  const count = input.u32('the number of series');
  // Each series takes at least its fixed header: refuse an absurd count before allocating for it.
  input.need(count * SERIES_FIXED_BYTES, `${count} series headers`);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const text = (length: number, what: string) => {
    try {
      return utf8.decode(input.raw(length, what));
    } catch (error) {
      if (error instanceof PackedRollupError) throw error;
      throw new PackedRollupError(`Packed rollup: ${what} is not UTF-8`);
    }
  };
  const headers: {
    channel: Channel;
    partnerId: string;
    repId: string;
    rows: number;
    values: number;
    triples: number;
  }[] = [];
  for (let i = 0; i < count; i++) {
    const channelIndex = input.u8(`the channel of series ${i}`);
    const channel = CHANNELS[channelIndex];
    if (channel === undefined)
      throw new PackedRollupError(`Packed rollup: series ${i} has unknown channel number ${channelIndex}`);
    const partnerId = text(
      input.u16(`the partner id length of series ${i}`),
      `the partner id of series ${i}`,
    );
    const repId = text(input.u16(`the rep id length of series ${i}`), `the rep id of series ${i}`);
    const rows = input.u32(`the day count of series ${i}`);
    const values = input.u32(`the value count of series ${i}`);
    const triples = input.u32(`the conversion count of series ${i}`);
    if (values > rows * WIDTH)
      throw new PackedRollupError(`Packed rollup: series ${i} claims ${values} values for ${rows} days`);
    headers.push({ channel, partnerId, repId, rows, values, triples });
  }
  const series = headers.map((header, i): PackedSeries => {
    const what = `series ${i} (${header.partnerId}|${header.repId}|${header.channel})`;
    const values = input.block(Float64Array, 'f64', header.values, `the values of ${what}`);
    const days = input.block(Int32Array, 'i32', header.rows, `the days of ${what}`);
    const masks = input.block(Uint32Array, 'u32', header.rows, `the masks of ${what}`);
    const conversions = input.block(Int32Array, 'i32', header.triples * 3, `the conversions of ${what}`);
    const counters = new Float64Array(header.rows * WIDTH);
    let next = 0;
    for (let row = 0; row < header.rows; row++) {
      const mask = masks[row]!;
      if (WIDTH < 32 && mask >>> WIDTH !== 0)
        throw new PackedRollupError(`Packed rollup: ${what} marks a counter beyond the ${WIDTH} of a day`);
      for (let column = 0; column < WIDTH; column++) {
        if ((mask >>> column) & 1) {
          if (next >= values.length)
            throw new PackedRollupError(
              `Packed rollup: the masks of ${what} mark more values than the ${values.length} stored`,
            );
          counters[row * WIDTH + column] = values[next++]!;
        }
      }
    }
    if (next !== values.length)
      throw new PackedRollupError(
        `Packed rollup: ${what} stores ${values.length} values but its masks mark ${next}`,
      );
    return {
      key: seriesKey(header.partnerId, header.repId, header.channel),
      partnerId: header.partnerId,
      repId: header.repId,
      channel: header.channel,
      days,
      counters,
      conversions: Array.from(conversions),
    };
  });
  if (input.offset !== bytes.length)
    throw new PackedRollupError(
      `Packed rollup has ${bytes.length - input.offset} bytes after its end (offset ${input.offset})`,
    );
  return series;
}

// ---------------------------------------------------------------------------------------------
// The compact form (version 2): the same content in variable-length integers
//
// The server's rollup rooms hold a program's every partner: there, bytes are what counts. Every
// integer below is a LEB128 varint, "signed" ones zigzag-mapped first (n ≥ 0 → 2n, n < 0 →
// −2n − 1); all are safe integers.
//
//   u8      version (PACKED_ROLLUP_COMPACT)
//   uint    number of series
//   per series:
//     uint    channel, as its index in CHANNELS
//     uint    byte length, then the UTF-8 bytes of partnerId; the same for repId
//     uint    days (rows)
//     per row: signed day − the previous row's day (the first: the day itself), uint mask, then
//              one signed value per bit of the mask, in WIDTH order
//     uint    conversion triples, then per triple: signed day, signed lag, signed count

export const PACKED_ROLLUP_COMPACT = 2;

/** Whether a value round-trips through a zigzag varint: an integer below 2^52 (zigzag doubles it), not -0. */
const fitsVarint = (value: number) =>
  Number.isInteger(value) && Math.abs(value) < 2 ** 52 && !Object.is(value, -0);

class VarWriter {
  private bytes = new Uint8Array(256);
  length = 0;

  private room(extra: number) {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u8(value: number) {
    this.room(1);
    this.bytes[this.length++] = value;
  }

  uint(value: number) {
    this.room(8);
    while (value >= 0x80) {
      this.bytes[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.length++] = value;
  }

  int(value: number) {
    this.uint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  raw(bytes: Uint8Array) {
    this.uint(bytes.length);
    this.room(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class VarReader {
  offset = 1;

  constructor(private readonly bytes: Uint8Array) {}

  get left(): number {
    return this.bytes.length - this.offset;
  }

  uint(what: string): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.bytes.length)
        throw new PackedRollupError(
          `Packed rollup is truncated: ${what} runs past the end (offset ${this.offset})`,
        );
      const byte = this.bytes[this.offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56)
        throw new PackedRollupError(`Packed rollup: ${what} is not a safe integer (offset ${this.offset})`);
    }
    if (!Number.isSafeInteger(value))
      throw new PackedRollupError(`Packed rollup: ${what} is not a safe integer (offset ${this.offset})`);
    return value;
  }

  int(what: string): number {
    const value = this.uint(what);
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }

  text(what: string, utf8: Utf8Decoder): string {
    const length = this.uint(`the length of ${what}`);
    if (length > this.left)
      throw new PackedRollupError(
        `Packed rollup is truncated: ${what} needs ${length} bytes at offset ${this.offset}, but only ${this.left} remain`,
      );
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    try {
      return utf8.decode(slice);
    } catch {
      throw new PackedRollupError(`Packed rollup: ${what} is not UTF-8`);
    }
  }
}

function encodeCompact(encoded: readonly EncodedSeries[]): Uint8Array {
  const out = new VarWriter();
  out.u8(PACKED_ROLLUP_COMPACT);
  out.uint(encoded.length);
  for (const one of encoded) {
    out.uint(one.channel);
    out.raw(one.partnerId);
    out.raw(one.repId);
    const days = one.series.days;
    out.uint(days.length);
    let next = 0;
    for (let row = 0; row < days.length; row++) {
      out.int(days[row]! - (row === 0 ? 0 : days[row - 1]!));
      const mask = one.masks[row]!;
      out.uint(mask);
      for (let column = 0; column < WIDTH; column++) if ((mask >>> column) & 1) out.int(one.values[next++]!);
    }
    out.uint(one.conversions.length / 3);
    for (const value of one.conversions) out.int(value);
  }
  return out.done();
}

function decodeCompact(bytes: Uint8Array): PackedSeries[] {
  const input = new VarReader(bytes);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const count = input.uint('the number of series');
  // Each series takes at least five bytes: refuse an absurd count before allocating for it.
  if (count * 5 > input.left)
    throw new PackedRollupError(`Packed rollup is truncated: ${count} series in ${input.left} bytes`);
  const series: PackedSeries[] = [];
  for (let i = 0; i < count; i++) {
    const channelIndex = input.uint(`the channel of series ${i}`);
    const channel = CHANNELS[channelIndex];
    if (channel === undefined)
      throw new PackedRollupError(`Packed rollup: series ${i} has unknown channel number ${channelIndex}`);
    const partnerId = input.text(`the partner id of series ${i}`, utf8);
    const repId = input.text(`the rep id of series ${i}`, utf8);
    const what = `series ${i} (${partnerId}|${repId}|${channel})`;
    const rows = input.uint(`the day count of ${what}`);
    if (rows * 2 > input.left)
      throw new PackedRollupError(
        `Packed rollup is truncated: ${what} claims ${rows} days in ${input.left} bytes`,
      );
    const days = new Int32Array(rows);
    const counters = new Float64Array(rows * WIDTH);
    let day = 0;
    for (let row = 0; row < rows; row++) {
      day += input.int(`a day of ${what}`);
      if (day !== (day | 0))
        throw new PackedRollupError(`Packed rollup: ${what} has day ${day}, beyond 32 bits`);
      days[row] = day;
      const mask = input.uint(`a mask of ${what}`);
      if (mask >= 2 ** WIDTH)
        throw new PackedRollupError(`Packed rollup: ${what} marks a counter beyond the ${WIDTH} of a day`);
      for (let column = 0; column < WIDTH; column++)
        if (Math.floor(mask / 2 ** column) % 2 === 1)
          counters[row * WIDTH + column] = input.int(`a value of ${what}`);
    }
    const triples = input.uint(`the conversion count of ${what}`);
    if (triples * 3 > input.left)
      throw new PackedRollupError(
        `Packed rollup is truncated: ${what} claims ${triples} conversions in ${input.left} bytes`,
      );
    const conversions: number[] = [];
    for (let j = 0; j < triples * 3; j++) {
      const value = input.int(`a conversion of ${what}`);
      if (value !== (value | 0))
        throw new PackedRollupError(`Packed rollup: a conversion of ${what} is not a 32-bit integer`);
      conversions.push(value);
    }
    series.push({
      key: seriesKey(partnerId, repId, channel),
      partnerId,
      repId,
      channel,
      days,
      counters,
      conversions,
    });
  }
  if (input.left !== 0)
    throw new PackedRollupError(
      `Packed rollup has ${input.left} bytes after its end (offset ${input.offset})`,
    );
  return series;
}
