import { describe, expect, it } from 'vitest';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import { RollupIndex, computeKpis, parsePeriod, takeChangedSeries } from '../../../src/lib/kpi';
import {
  PACKED_ROLLUP_COMPACT,
  PACKED_ROLLUP_VERSION,
  PackedRollupError,
  decodePackedRollup,
  encodePackedRollup,
  CHUNK_DAYS,
  chunkOf,
  storeChunk,
  unpackStoredChunks,
  packRollup,
  packRollupChunks,
  packSeriesChunks,
  unpackRollup,
  type PackedSeries,
} from '../../../src/lib/kpi/packed';

describe('packed rollup series', () => {
  const demo = generateDemoProgram({ seed: 9, stageLog: false });
  const tz = demo.program.timeZone;

  it('unpacks to the same buckets and the same KPIs', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    const back = unpackRollup(tz, structuredClone(packRollup(index.rollup)));
    const strip = (rollup: typeof back) =>
      [...rollup.series].map(([key, s]) => [key, s.partnerId, s.repId, s.channel, [...s.days.values()]]);
    expect(strip(back)).toEqual(strip(index.rollup));
    const period = parsePeriod({ from: '2025-12-01', to: '2026-12-01', tz });
    if (!period.ok) throw new Error('bad period');
    for (const scope of [{ kind: 'all' } as const, { kind: 'partner', id: 'p-lotus' } as const]) {
      expect(computeKpis(back, { range: period.range, scope })).toEqual(
        computeKpis(index.rollup, { range: period.range, scope }),
      );
    }
  });

  it('knows which series and days a change touched, so only those are stored again', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    takeChangedSeries(index.rollup);
    const deal = demo.deals.find((d) => d.closedAt === undefined)!;
    index.upsertDeal({ ...deal, amount: deal.amount + 100 });
    const changed = takeChangedSeries(index.rollup);
    expect(changed.map(({ key }) => key)).toEqual([`${deal.partnerId}|${deal.repId}|${deal.channel}`]);
    const { series, days } = changed[0]!;
    expect(days.size).toBeGreaterThan(0);
    expect(days.size).toBeLessThan(series.days.size);
    expect(takeChangedSeries(index.rollup)).toEqual([]);
  });

  it('stores a series in chunks of days that unpack to the same rollup, and a change rewrites only its chunks', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    const chunks = structuredClone(packRollupChunks(index.rollup));
    expect(chunks.length).toBeGreaterThan(index.rollup.series.size);
    for (const chunk of chunks) {
      expect(new Set(Array.from(chunk.days, chunkOf)).size).toBe(1);
      expect(chunk.key).toBe(`${chunk.partnerId}|${chunk.repId}|${chunk.channel}@${chunkOf(chunk.days[0]!)}`);
    }
    const strip = (rollup: ReturnType<typeof unpackRollup>) =>
      [...rollup.series]
        .map(([key, s]) => [
          key,
          s.partnerId,
          s.repId,
          s.channel,
          [...s.days.values()].sort((a, b) => a.day - b.day),
        ])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(strip(unpackRollup(tz, chunks))).toEqual(strip(index.rollup));

    takeChangedSeries(index.rollup);
    const deal = demo.deals.find((d) => d.closedAt === undefined)!;
    index.upsertDeal({ ...deal, amount: deal.amount + 100 });
    const [change] = takeChangedSeries(index.rollup);
    const { series, days } = change!;
    const rewritten = packSeriesChunks(series, days);
    expect(rewritten.map((chunk) => chunk.key).sort()).toEqual(
      [...new Set([...days].map(chunkOf))]
        .map((chunk) => `${deal.partnerId}|${deal.repId}|${deal.channel}@${chunk}`)
        .sort(),
    );
    // Replacing the stored chunks by the rewritten ones gives the changed rollup.
    const stored = new Map(chunks.map((chunk) => [chunk.key, chunk]));
    for (const chunk of rewritten) stored.set(chunk.key, chunk);
    expect(strip(unpackRollup(tz, [...stored.values()]))).toEqual(strip(index.rollup));
  });

  it('stores chunks as bytes, a fraction of the packed arrays, that read back to the same rollup', () => {
    const index = RollupIndex.build(tz, demo.leads, demo.deals);
    const chunks = packRollupChunks(index.rollup);
    const stored = structuredClone(chunks.map(storeChunk));
    expect(stored.map((row) => row.key)).toEqual(chunks.map((chunk) => chunk.key));
    const bytes = (rows: { bytes: Uint8Array }[]) => rows.reduce((sum, row) => sum + row.bytes.byteLength, 0);
    expect(bytes(stored)).toBeLessThan(
      chunks.reduce((sum, chunk) => sum + chunk.counters.byteLength + chunk.days.byteLength, 0) / 3,
    );
    const strip = (rollup: ReturnType<typeof unpackRollup>) =>
      [...rollup.series]
        .map(([key, s]) => [key, [...s.days.values()].sort((a, b) => a.day - b.day)])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(strip(unpackStoredChunks(tz, stored))).toEqual(strip(index.rollup));
    expect(() => unpackStoredChunks(tz, [{ key: 'k', bytes: stored[0]!.bytes.slice(0, 9) }])).toThrow(
      PackedRollupError,
    );
  });

  it('puts negative days (before 1970) in their own chunks', () => {
    expect(chunkOf(-1)).toBe(-1);
    expect(chunkOf(0)).toBe(0);
    expect(chunkOf(CHUNK_DAYS - 1)).toBe(0);
    expect(chunkOf(CHUNK_DAYS)).toBe(1);
  });
});

describe('packed rollup bytes (encodePackedRollup / decodePackedRollup)', () => {
  const demo = generateDemoProgram({ seed: 9, stageLog: false });
  const tz = demo.program.timeZone;
  const packed = packRollup(RollupIndex.build(tz, demo.leads, demo.deals).rollup);

  /** A hand-made series with the awkward values: -0, NaN, fractions, negatives, huge sums. */
  function oddSeries(): PackedSeries {
    const counters = new Float64Array(2 * 21);
    counters[0] = 1;
    counters[3] = -0;
    counters[5] = 2 ** 53 + 2;
    counters[8] = Number.NaN;
    counters[20] = 0.5;
    counters[21] = -7;
    counters[41] = Number.MAX_VALUE;
    return {
      key: 'pé-1|r:1|referral',
      partnerId: 'pé-1',
      repId: 'r:1',
      channel: 'referral',
      days: Int32Array.from([-3, 20_000]),
      counters,
      conversions: [20_000, 0, 2, -3, 5, -1],
    };
  }

  it('round-trips every series exactly: keys, days, counters bit for bit, conversions', () => {
    const series = [...packed, oddSeries()];
    const back = decodePackedRollup(encodePackedRollup(series));
    expect(back).toEqual(series);
    const odd = back[back.length - 1]!;
    expect(Object.is(odd.counters[3], -0)).toBe(true);
    expect(Number.isNaN(odd.counters[8])).toBe(true);
    expect(decodePackedRollup(encodePackedRollup([]))).toEqual([]);
  });

  it('gives the same KPIs after a round trip', () => {
    const period = parsePeriod({ from: '2025-06-01', to: '2026-12-01', tz });
    if (!period.ok) throw new Error('bad period');
    const before = unpackRollup(tz, packed);
    const after = unpackRollup(tz, decodePackedRollup(encodePackedRollup(packed)));
    expect(computeKpis(after, { range: period.range, scope: { kind: 'all' } })).toEqual(
      computeKpis(before, { range: period.range, scope: { kind: 'all' } }),
    );
  });

  it('starts with the version byte and refuses any other version', () => {
    const bytes = encodePackedRollup(packed);
    expect(bytes[0]).toBe(PACKED_ROLLUP_VERSION);
    const future = bytes.slice();
    future[0] = PACKED_ROLLUP_COMPACT + 1;
    expect(() => decodePackedRollup(future)).toThrow(new RegExp(`version ${PACKED_ROLLUP_COMPACT + 1}`));
  });

  it('writes little-endian whatever the machine', () => {
    const bytes = encodePackedRollup([
      {
        key: 'p|r|paid',
        partnerId: 'p',
        repId: 'r',
        channel: 'paid',
        days: Int32Array.from([0x01020304]),
        counters: new Float64Array(21).fill(0).map((_, i) => (i === 0 ? 1 : 0)),
        conversions: [],
      },
    ]);
    // version, u32 series count = 1
    expect([...bytes.subarray(0, 5)]).toEqual([PACKED_ROLLUP_VERSION, 1, 0, 0, 0]);
    // after the header (channel, 2 ids with u16 lengths, three u32 counts): one f64 value 1.0, then the day
    const blocks = 5 + 1 + 2 + 1 + 2 + 1 + 12;
    expect([...bytes.subarray(blocks, blocks + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect([...bytes.subarray(blocks + 8, blocks + 12)]).toEqual([4, 3, 2, 1]);
    expect(bytes.length).toBe(blocks + 8 + 4 + 4);
  });

  it('refuses truncated input with a clear error, at every length', () => {
    const bytes = encodePackedRollup([oddSeries(), packed[0]!]);
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodePackedRollup(bytes.subarray(0, length))).toThrow(
        /Packed rollup is truncated: .* needs \d+ bytes at offset \d+/,
      );
    }
    expect(() => decodePackedRollup(bytes.subarray(0, 3))).toThrow(PackedRollupError);
  });

  it('refuses bytes after the end, an unknown channel and masks that do not match the values', () => {
    const bytes = encodePackedRollup([oddSeries()]);
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(() => decodePackedRollup(longer)).toThrow(/2 bytes after its end/);
    const badChannel = bytes.slice();
    badChannel[5] = 9;
    expect(() => decodePackedRollup(badChannel)).toThrow(/unknown channel number 9/);
    const badMask = bytes.slice();
    const masksAt = bytes.length - 6 * 4 - 2 * 4;
    badMask[masksAt] = badMask[masksAt]! ^ 0b10;
    expect(() => decodePackedRollup(badMask)).toThrow(/masks/);
  });

  it('shares no memory with the bytes it decoded', () => {
    const bytes = encodePackedRollup([oddSeries()]);
    const decoded = decodePackedRollup(bytes);
    bytes.fill(0xff, 5);
    expect(decoded).toEqual([oddSeries()]);
  });

  it('refuses to encode a series it could not give back', () => {
    const wrongWidth = { ...oddSeries(), counters: new Float64Array(20) };
    expect(() => encodePackedRollup([wrongWidth])).toThrow(/20 counters for 2 days/);
    expect(() => encodePackedRollup([{ ...oddSeries(), conversions: [1, 0, 1.5] }])).toThrow(
      /not a 32-bit integer/,
    );
    expect(() => encodePackedRollup([{ ...oddSeries(), conversions: [1, 0] }])).toThrow(/triples/);
  });

  it('is compact: a fraction of the dense counters (most counters of a day are zero)', () => {
    const dense = packed.reduce(
      (sum, series) => sum + series.counters.byteLength + series.days.byteLength,
      0,
    );
    expect(encodePackedRollup(packed).length).toBeLessThan(dense / 4);
  });
});

describe('packed rollup bytes, compact form (varints)', () => {
  const demo = generateDemoProgram({ seed: 9, stageLog: false });
  const packed = packRollup(RollupIndex.build(demo.program.timeZone, demo.leads, demo.deals).rollup);
  const integers: PackedSeries = {
    key: 'p|r|paid',
    partnerId: 'p',
    repId: 'r',
    channel: 'paid',
    days: Int32Array.from([-40_000, -3, 20_000, 2 ** 31 - 1]),
    counters: new Float64Array(4 * 21).map((_, i) =>
      i % 7 === 0 ? (i % 2 ? -1 : 1) * (2 ** 52 - 1 - i) : i % 5 === 0 ? i : 0,
    ),
    conversions: [20_000, 0, 2, -3, 5, -1, 2 ** 31 - 1, -(2 ** 31), 1],
  };

  it('round-trips every series exactly, at about a third of the bytes of the fixed-width form', () => {
    const bytes = encodePackedRollup(packed, { compact: true });
    expect(bytes[0]).toBe(PACKED_ROLLUP_COMPACT);
    expect(decodePackedRollup(bytes)).toEqual(packed);
    expect(bytes.length).toBeLessThan(encodePackedRollup(packed).length / 2);
    expect(decodePackedRollup(encodePackedRollup([integers], { compact: true }))).toEqual([integers]);
    expect(decodePackedRollup(encodePackedRollup([], { compact: true }))).toEqual([]);
  });

  it('falls back to the fixed-width form for values that are not safe integers (-0, NaN, fractions)', () => {
    const counters = new Float64Array(21);
    for (const odd of [-0, Number.NaN, 0.5, 2 ** 52, 2 ** 53 + 2]) {
      counters[4] = odd;
      const series = { ...integers, days: Int32Array.from([1]), counters, conversions: [] };
      const bytes = encodePackedRollup([series], { compact: true });
      expect(bytes[0]).toBe(PACKED_ROLLUP_VERSION);
      expect(Object.is(decodePackedRollup(bytes)[0]!.counters[4], odd)).toBe(true);
    }
  });

  it('refuses truncated input, bytes after the end, an unknown channel and an overlong mask, with a clear error', () => {
    const bytes = encodePackedRollup([integers, packed[0]!], { compact: true });
    for (let length = 1; length < bytes.length; length++) {
      expect(() => decodePackedRollup(bytes.subarray(0, length))).toThrow(PackedRollupError);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodePackedRollup(longer)).toThrow(/1 bytes after its end/);
    // version, series count, then the channel of the first series
    const badChannel = bytes.slice();
    badChannel[2] = 9;
    expect(() => decodePackedRollup(badChannel)).toThrow(/unknown channel number 9/);
    const one = encodePackedRollup(
      [{ ...integers, days: Int32Array.from([1]), counters: new Float64Array(21), conversions: [] }],
      { compact: true },
    );
    // … ids 'p' and 'r', 1 day, day 1 (zigzag 2), mask 0: set the mask's bit 25 (four varint bytes)
    const maskAt = one.length - 2;
    expect([...one.subarray(maskAt - 1)]).toEqual([2, 0, 0]);
    const overlong = Uint8Array.from([...one.subarray(0, maskAt), 0x80, 0x80, 0x80, 0x10, 0]);
    expect(() => decodePackedRollup(overlong)).toThrow(/beyond the 21 of a day/);
  });
});
