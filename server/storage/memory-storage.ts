/**
 * Room storage in memory, with the same behaviour as the SQLite one (the same contract tests pass),
 * for unit tests of the sync server. Nothing survives `close`.
 */
import type { Revocation, ServerStorage, StoredRoom } from './storage';

interface MemoryRoom {
  snapshot: { data: Uint8Array; uptoSeq: number } | undefined;
  updates: { seq: number; data: Uint8Array }[];
}

export function createMemoryStorage(): ServerStorage {
  const rooms = new Map<string, MemoryRoom>();
  const revocations: Revocation[] = [];
  const folded = new Map<string, number>();
  // One counter for all rooms, like SQLite's AUTOINCREMENT: seqs are never reused, even after compaction.
  let lastSeq = 0;
  let bytes = 0;
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new Error('Room storage (memory) is closed');
  }

  function appendMany(room: string, updates: readonly Uint8Array[]): number {
    ensureOpen();
    if (updates.length === 0) throw new RangeError(`Nothing to append to room "${room}"`);
    // All or nothing, as in a transaction: check every update before storing the first.
    if (!updates.every((update) => update instanceof Uint8Array))
      throw new TypeError(`An update for room "${room}" is not bytes`);
    let stored = rooms.get(room);
    if (!stored) rooms.set(room, (stored = { snapshot: undefined, updates: [] }));
    for (const update of updates) {
      stored.updates.push({ seq: ++lastSeq, data: update.slice() });
      bytes += update.byteLength;
    }
    return lastSeq;
  }

  const lastSeqOf = (stored: MemoryRoom) => stored.updates.at(-1)?.seq ?? stored.snapshot?.uptoSeq ?? 0;

  return {
    async markFolded(room: string, seq: number): Promise<void> {
      ensureOpen();
      folded.set(room, Math.max(seq, folded.get(room) ?? 0));
    },
    async unfolded(): Promise<string[]> {
      ensureOpen();
      return [...rooms]
        .filter(([room, stored]) => lastSeqOf(stored) > (folded.get(room) ?? 0))
        .map(([room]) => room)
        .sort();
    },
    async revoke(subject: string, revokedAt: number): Promise<number> {
      ensureOpen();
      const seq = revocations.length + 1;
      revocations.push({ seq, subject, revokedAt });
      return seq;
    },
    async revocationsAfter(afterSeq: number): Promise<Revocation[]> {
      ensureOpen();
      return revocations
        .filter((revocation) => revocation.seq > afterSeq)
        .map((revocation) => ({ ...revocation }));
    },
    async load(room: string): Promise<StoredRoom> {
      ensureOpen();
      const stored = rooms.get(room);
      if (!stored) return { updates: [], lastSeq: 0 };
      // Copies, so that a caller changing what it got cannot change what is stored.
      const updates = stored.updates.map((update) => update.data.slice());
      if (stored.snapshot) updates.unshift(stored.snapshot.data.slice());
      return { updates, lastSeq: stored.updates.at(-1)?.seq ?? stored.snapshot?.uptoSeq ?? 0 };
    },

    async append(room: string, update: Uint8Array): Promise<number> {
      return appendMany(room, [update]);
    },

    async appendMany(room: string, updates: readonly Uint8Array[]): Promise<number> {
      return appendMany(room, updates);
    },

    async compact(room: string, snapshot: Uint8Array, uptoSeq: number): Promise<void> {
      ensureOpen();
      if (!Number.isSafeInteger(uptoSeq) || uptoSeq < 1)
        throw new RangeError(`uptoSeq must be a positive integer, not ${uptoSeq}`);
      const stored = rooms.get(room);
      // A newer compaction already covers everything this one would; keep its snapshot.
      if (stored?.snapshot && uptoSeq <= stored.snapshot.uptoSeq) return;
      // A snapshot beyond the room's last seq would hide the updates appended next under it.
      const roomLastSeq = stored?.updates.at(-1)?.seq ?? 0;
      if (!stored || uptoSeq > roomLastSeq) {
        throw new RangeError(
          `Cannot compact room "${room}" up to seq ${uptoSeq}: its last seq is ${roomLastSeq}`,
        );
      }
      const kept = stored.updates.filter((update) => update.seq > uptoSeq);
      for (const update of stored.updates) if (update.seq <= uptoSeq) bytes -= update.data.byteLength;
      bytes += snapshot.byteLength - (stored.snapshot?.data.byteLength ?? 0);
      stored.updates = kept;
      stored.snapshot = { data: snapshot.slice(), uptoSeq };
    },

    async rooms(): Promise<string[]> {
      ensureOpen();
      return [...rooms.keys()].sort();
    },

    async bytesStored(): Promise<number> {
      ensureOpen();
      return bytes;
    },

    async close(): Promise<void> {
      closed = true;
      rooms.clear();
    },
  };
}
