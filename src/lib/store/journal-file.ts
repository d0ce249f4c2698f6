/**
 * The write-ahead journal's file format, and the file itself over a synchronous handle (in the
 * browser an Origin Private File System `FileSystemSyncAccessHandle`, in a worker: journal-worker.ts;
 * in tests a buffer). Pure: no browser API is named here.
 *
 * A journal file is a sequence of records, each
 *
 *     u32 payload length | u32 CRC-32 of the payload | payload
 *     payload = u32 mark count | per mark: f64 client, f64 clock | the Yjs update
 *
 * (little-endian). A record is written and flushed before its save is reported safe; a record cut
 * short or garbled by a crash in the middle of a write fails its length or checksum, and reading
 * stops there: what follows it was never reported safe.
 */
import type { LocalChange } from '../sync/pending-changes';

/** The folder of the Origin Private File System that holds the journals, a folder per room. */
export const JOURNAL_FOLDER = 'journal';

/** One save's Yjs update and the marks of the local changes in it (sync SPEC.md C3). */
export interface JournalRecord {
  update: Uint8Array;
  localChanges: LocalChange[];
}

/** What the journal needs of a file: the calls of `FileSystemSyncAccessHandle` it makes. */
export interface SyncHandle {
  getSize(): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  truncate(size: number): void;
  close(): void;
}

const HEADER_BYTES = 8;
const MARK_BYTES = 16;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib computes it). */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The bytes of one record, header included. */
export function encodeRecord(record: JournalRecord): Uint8Array {
  const payloadBytes = 4 + record.localChanges.length * MARK_BYTES + record.update.byteLength;
  const bytes = new Uint8Array(HEADER_BYTES + payloadBytes);
  const view = new DataView(bytes.buffer);
  let at = HEADER_BYTES;
  view.setUint32(at, record.localChanges.length, true);
  at += 4;
  for (const change of record.localChanges) {
    view.setFloat64(at, change.client, true);
    view.setFloat64(at + 8, change.clock, true);
    at += MARK_BYTES;
  }
  bytes.set(record.update, at);
  view.setUint32(0, payloadBytes, true);
  view.setUint32(4, crc32(bytes.subarray(HEADER_BYTES)), true);
  return bytes;
}

/**
 * The whole records at the start of `bytes`, in order, and how many bytes they take: reading stops
 * at the first record that is cut short or fails its checksum.
 */
export function decodeRecords(bytes: Uint8Array): { records: JournalRecord[]; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= bytes.byteLength) {
    const payloadBytes = view.getUint32(at, true);
    const end = at + HEADER_BYTES + payloadBytes;
    if (payloadBytes < 4 || end > bytes.byteLength) break;
    const payload = bytes.subarray(at + HEADER_BYTES, end);
    if (crc32(payload) !== view.getUint32(at + 4, true)) break;
    const marks = view.getUint32(at + HEADER_BYTES, true);
    const updateAt = 4 + marks * MARK_BYTES;
    if (updateAt > payloadBytes) break;
    const localChanges: LocalChange[] = [];
    for (let mark = 0; mark < marks; mark++) {
      const markAt = at + HEADER_BYTES + 4 + mark * MARK_BYTES;
      localChanges.push({ client: view.getFloat64(markAt, true), clock: view.getFloat64(markAt + 8, true) });
    }
    records.push({ update: payload.slice(updateAt), localChanges });
    at = end;
  }
  return { records, length: at };
}

/** Reads every whole record of a file. */
export function readRecords(handle: SyncHandle): JournalRecord[] {
  const bytes = new Uint8Array(handle.getSize());
  handle.read(bytes, { at: 0 });
  return decodeRecords(bytes).records;
}

/**
 * A journal file this tab writes: records appended and flushed one by one, the whole emptied once
 * they are all stored elsewhere (`drop`).
 */
export class JournalFile {
  private size: number;

  /** Past this many bytes, `drop` empties the file; below it, emptying it costs more than it saves. */
  static readonly DROP_AFTER_BYTES = 64 * 1024;

  constructor(private readonly handle: SyncHandle) {
    // A file this tab has just made is empty; one it reuses keeps its whole records, and a torn
    // tail is cut off so that new records follow the last whole one.
    const bytes = new Uint8Array(handle.getSize());
    handle.read(bytes, { at: 0 });
    this.size = decodeRecords(bytes).length;
    if (this.size !== bytes.byteLength) handle.truncate(this.size);
  }

  /**
   * Appends a record: when this returns, the operating system has it, and it survives the tab, the
   * app or the browser stopping (as an IndexedDB commit with relaxed durability: db.ts). `flush`
   * then makes it survive a power cut too.
   */
  append(record: JournalRecord): void {
    const bytes = encodeRecord(record);
    let written = 0;
    while (written < bytes.byteLength)
      written += this.handle.write(bytes.subarray(written), { at: this.size + written });
    this.size += bytes.byteLength;
  }

  /** Has the disk write what was appended (fdatasync; a millisecond or more). */
  flush(): void {
    this.handle.flush();
  }

  /** Every record appended so far is stored elsewhere: empties the file once it is large enough to matter. Says whether it did. */
  drop(): boolean {
    if (this.size < JournalFile.DROP_AFTER_BYTES) return false;
    this.handle.truncate(0);
    this.handle.flush();
    this.size = 0;
    return true;
  }

  get bytes(): number {
    return this.size;
  }

  close(): void {
    this.handle.close();
  }
}
