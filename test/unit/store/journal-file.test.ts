import { describe, expect, it } from 'vitest';
import {
  JournalFile,
  crc32,
  decodeRecords,
  encodeRecord,
  readRecords,
  type JournalRecord,
} from '../../../src/lib/store/journal-file';
import { MemoryHandle } from '../../factories/memory-journal';

const record = (
  byte: number,
  size = 40,
  localChanges: JournalRecord['localChanges'] = [],
): JournalRecord => ({
  update: new Uint8Array(size).fill(byte),
  localChanges,
});

describe('journal file format', () => {
  it('computes CRC-32 as zlib does', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('reads back the records it wrote, marks and all', () => {
    const records = [
      record(1, 10, [
        { client: 3_000_000_123, clock: 42 },
        { client: 7, clock: 2 ** 40 },
      ]),
      record(2, 0),
      record(3, 500),
    ];
    const bytes = new Uint8Array(records.reduce((sum, r) => sum + encodeRecord(r).byteLength, 0));
    let at = 0;
    for (const r of records) {
      const encoded = encodeRecord(r);
      bytes.set(encoded, at);
      at += encoded.byteLength;
    }
    expect(decodeRecords(bytes)).toEqual({ records, length: bytes.byteLength });
  });

  it('stops at a record cut short by a crash, and at one whose bytes were garbled', () => {
    const first = encodeRecord(record(1));
    const second = encodeRecord(record(2));
    const both = new Uint8Array([...first, ...second]);
    for (let cut = first.byteLength; cut < both.byteLength; cut++) {
      expect(decodeRecords(both.subarray(0, cut))).toEqual({
        records: [record(1)],
        length: first.byteLength,
      });
    }
    const garbled = both.slice();
    garbled[first.byteLength + 20]! ^= 0xff;
    expect(decodeRecords(garbled).records).toEqual([record(1)]);
    // A length past the end of the file (zeros written ahead of the data, say) is not a record.
    const lengthOnly = new Uint8Array(16);
    new DataView(lengthOnly.buffer).setUint32(0, 1_000, true);
    expect(decodeRecords(lengthOnly).records).toEqual([]);
  });
});

describe('journal file', () => {
  it('appends records one after the other, and flushes only when asked', () => {
    const handle = new MemoryHandle();
    const file = new JournalFile(handle);
    file.append(record(1));
    file.append(record(2));
    expect(handle.flushes).toBe(0);
    file.flush();
    expect(handle.flushes).toBe(1);
    expect(readRecords(handle)).toEqual([record(1), record(2)]);
  });

  it('reopened after a torn write, cuts the torn tail and appends after the whole records', () => {
    const handle = new MemoryHandle();
    new JournalFile(handle).append(record(1));
    handle.write(encodeRecord(record(2)).subarray(0, 30), { at: handle.getSize() });
    const reopened = new JournalFile(handle);
    reopened.append(record(3));
    expect(readRecords(handle)).toEqual([record(1), record(3)]);
  });

  it('empties itself on drop once it is large enough to be worth it', () => {
    const handle = new MemoryHandle();
    const file = new JournalFile(handle);
    file.append(record(1, 1_000));
    expect(file.drop()).toBe(false);
    expect(readRecords(handle)).toHaveLength(1);
    while (file.bytes < JournalFile.DROP_AFTER_BYTES) file.append(record(2, 1_000));
    expect(file.drop()).toBe(true);
    expect(handle.getSize()).toBe(0);
    file.append(record(3));
    expect(readRecords(handle)).toEqual([record(3)]);
  });
});
