/**
 * The write-ahead journal (src/lib/store/journal.ts) in memory, for tests where there is no OPFS:
 * the same file format (JournalFile over a buffer) and the same rules as the worker's — a file per
 * open journal, held while it is open, claimable by another once its journal is gone.
 */
import {
  JournalFile,
  readRecords,
  type JournalRecord,
  type SyncHandle,
} from '../../src/lib/store/journal-file';
import type { Claim, Journal, OpenJournal } from '../../src/lib/store/journal';

/** A file's bytes behind the calls of a sync access handle. */
export class MemoryHandle implements SyncHandle {
  bytes = new Uint8Array(0);
  flushes = 0;

  getSize(): number {
    return this.bytes.byteLength;
  }
  read(buffer: Uint8Array, { at }: { at: number }): number {
    const part = this.bytes.subarray(at, at + buffer.byteLength);
    buffer.set(part);
    return part.byteLength;
  }
  write(buffer: Uint8Array, { at }: { at: number }): number {
    if (at + buffer.byteLength > this.bytes.byteLength) {
      const grown = new Uint8Array(at + buffer.byteLength);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(buffer, at);
    return buffer.byteLength;
  }
  flush(): void {
    this.flushes++;
  }
  truncate(size: number): void {
    this.bytes = this.bytes.slice(0, size);
  }
  close(): void {}
}

export interface MemoryJournals {
  open: OpenJournal;
  /** Every file, by room and name. */
  files(room: string): Map<string, MemoryHandle>;
  /** The records of each file of a room. */
  records(room: string): JournalRecord[][];
  /** The journals that are open, as their tab would hold them. */
  readonly opened: MemoryJournal[];
}

export interface MemoryJournal extends Journal {
  /** The tab stops without closing anything: its file stays, no longer held. */
  crash(): void;
  /** Appends fail from now on (as on a full disk). */
  failAppends: boolean;
  /** Appends are never answered from now on (a worker that hangs). */
  hangAppends: boolean;
  readonly dropped: number[];
}

export function memoryJournals(): MemoryJournals {
  const rooms = new Map<string, Map<string, MemoryHandle>>();
  const held = new Set<MemoryHandle>();
  const opened: MemoryJournal[] = [];
  let names = 0;
  const files = (room: string) => {
    let map = rooms.get(room);
    if (!map) rooms.set(room, (map = new Map()));
    return map;
  };

  const open: OpenJournal = async (room) => {
    const handle = new MemoryHandle();
    const name = `tab-${++names}.journal`;
    files(room).set(name, handle);
    held.add(handle);
    const file = new JournalFile(handle);
    let seq = 0;
    let lastSeq = 0;
    const journal: MemoryJournal = {
      failAppends: false,
      hangAppends: false,
      dropped: [],
      append(record) {
        const mine = ++seq;
        if (journal.failAppends) return { seq: mine, durable: Promise.reject(new Error('disk full')) };
        if (journal.hangAppends) return { seq: mine, durable: new Promise<number>(() => {}) };
        file.append(record);
        lastSeq = mine;
        return { seq: mine, durable: Promise.resolve(performance.now()) };
      },
      drop(through) {
        journal.dropped.push(through);
        if (through === lastSeq) file.drop();
      },
      async claimOrphans() {
        const claim: Claim = { orphans: [], held: 0 };
        for (const [other, otherHandle] of files(room)) {
          if (otherHandle === handle) continue;
          if (held.has(otherHandle)) {
            claim.held++;
            continue;
          }
          const records = readRecords(otherHandle);
          if (records.length) claim.orphans.push({ name: other, records });
          else files(room).delete(other);
        }
        return claim;
      },
      async release(names) {
        for (const other of names) files(room).delete(other);
      },
      async close(empty) {
        held.delete(handle);
        if (empty) files(room).delete(name);
      },
      crash() {
        held.delete(handle);
      },
    };
    opened.push(journal);
    return journal;
  };

  return {
    open,
    files,
    records: (room) => [...files(room).values()].map((handle) => readRecords(handle)),
    opened,
  };
}
