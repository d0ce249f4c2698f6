/**
 * Where the sync server keeps rooms: per room an append-only log of Yjs updates, now and then
 * compacted into one snapshot. SQLite is the embedded default; a Postgres adapter will implement the
 * same interface and pass the same contract tests (test/integration/storage-contract.ts).
 */
export interface StoredRoom {
  /** The room's updates in the order they were appended (a snapshot, if any, first). */
  updates: Uint8Array[];
  /** The sequence number of the last update returned (0 for an empty room); compaction goes up to it. */
  lastSeq: number;
}

/**
 * Every method rejects once the storage is closed. Seqs are positive integers that increase within
 * a room and are never reused, not even after compaction has deleted the updates that had them.
 */
export interface RoomStorage {
  /** Everything stored for a room; an unknown room is empty. */
  load(room: string): Promise<StoredRoom>;
  /** Appends one update; resolves once it is durable (so it may then be broadcast). Returns its seq. */
  append(room: string, update: Uint8Array): Promise<number>;
  /**
   * Appends several updates in this order in one transaction: all are stored or none. Resolves once
   * they are durable and returns the seq of the last (seqs increase in the order given). An empty
   * list is refused (a RangeError): there would be no seq to return.
   */
  appendMany(room: string, updates: readonly Uint8Array[]): Promise<number>;
  /**
   * Replaces the room's updates up to and including `uptoSeq` by `snapshot` (the merged state),
   * in one transaction; updates appended after `uptoSeq` are kept, after it. A compaction that is
   * not newer than the stored snapshot changes nothing (two compactions may race); an `uptoSeq`
   * beyond the room's `lastSeq` is refused (a RangeError), as it would hide later appends.
   */
  compact(room: string, snapshot: Uint8Array, uptoSeq: number): Promise<void>;
  /** Names of the rooms that have anything stored. */
  rooms(): Promise<string[]>;
  /** Bytes of update and snapshot data stored, over all rooms (for /metrics). */
  bytesStored(): Promise<number>;
  /** Closes the storage; closing it again does nothing. */
  close(): Promise<void>;
}

/** One revocation: tokens of `subject` (a user id, or one token's id) issued at or before `revokedAt` are void. */
export interface Revocation {
  seq: number;
  subject: string;
  revokedAt: number;
}

/**
 * Where revocations are kept, beside the rooms, so that every server instance sharing the storage
 * sees them (each polls `revocationsAfter` with the last seq it has).
 */
export interface RevocationStore {
  /** Records a revocation; resolves once it is durable. Returns its seq. */
  revoke(subject: string, revokedAt: number): Promise<number>;
  /** The revocations recorded after `afterSeq`, oldest first. */
  revocationsAfter(afterSeq: number): Promise<Revocation[]>;
}

/**
 * Up to which stored update each partner room's rollup was last folded, so that a fold the process
 * did not live to write is done on the next start (the due folds themselves live in memory).
 */
export interface FoldStore {
  /** Records that `room`'s rollup holds everything stored in it up to `seq`. */
  markFolded(room: string, seq: number): Promise<void>;
  /** The rooms with updates stored after their last fold, or never folded, by name. */
  unfolded(): Promise<string[]>;
}

/** Everything the server keeps. */
export type ServerStorage = RoomStorage & RevocationStore & FoldStore;
