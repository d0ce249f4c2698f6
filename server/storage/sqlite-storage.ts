/**
 * Room storage in one SQLite file (better-sqlite3), the embedded default of the sync server.
 *
 * better-sqlite3 is synchronous: every method runs to completion before another can start, so a
 * room's statements never interleave within this process and the in-memory byte total stays exact.
 * One server process owns the file; a second one would share the rows but not that total.
 *
 * Appends made together are committed together: the sync server stores every room's updates at
 * the end of a turn of its event loop, and at a thousand edits a second in fifty rooms one
 * transaction per room was most of the cost of storing (each commit writes its pages to the WAL).
 * The first append of a moment begins a transaction; the appends that follow before the current
 * microtasks have run join it; then it commits, and only then does any of them resolve. Every
 * other call commits what is open first, so it sees, and is ordered after, every append before it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Revocation, ServerStorage, StoredRoom } from './storage';

/** Raise it with a migration step in `migrate` whenever the schema changes. */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * The connection's own checkpoint threshold when another thread checkpoints the file
 * (checkpointer.ts): about 100 MB of log, reached only should that thread stop.
 */
export const WAL_PAGES_CAP = 25_000;

/** How long a statement waits for another connection's lock (a backup, the sqlite3 shell) before failing. */
const BUSY_TIMEOUT_MS = 5000;

// AUTOINCREMENT, not a plain rowid: a plain rowid reuses the highest seq once compaction has deleted
// it, and an update stored under a seq the snapshot already covers would be skipped by `load`.
const SCHEMA_V1 = `
  CREATE TABLE updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX updates_by_room ON updates (room, seq);
  CREATE TABLE snapshots (
    room TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    upto_seq INTEGER NOT NULL
  );
`;

// Version 2: token revocations, read by every server instance that shares the file, and how far
// each partner room's rollup was folded.
const SCHEMA_V2 = `
  CREATE TABLE revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    revoked_at INTEGER NOT NULL
  );
  CREATE TABLE folds (
    room TEXT PRIMARY KEY,
    folded_seq INTEGER NOT NULL
  );
`;

interface SnapshotRow {
  data: Buffer;
  upto_seq: number;
}

interface UpdateRow {
  seq: number;
  data: Buffer;
}

export function openSqliteStorage(file: string): ServerStorage {
  return new SqliteRoomStorage(file);
}

export class SqliteRoomStorage implements ServerStorage {
  private readonly db: Database.Database;
  private readonly statements: Statements;
  private closed = false;
  private bytes: number;
  /** The appends in the open transaction, waiting for its commit (see the top of this file). */
  private group: { bytes: number; resolve(): void; reject(error: Error): void }[] | undefined;

  constructor(
    readonly file: string,
    /** `autoCheckpointPages`: SQLite's wal_autocheckpoint (its default is 1,000 pages). */
    { autoCheckpointPages }: { autoCheckpointPages?: number } = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    try {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const journalMode = this.db.pragma('journal_mode = WAL', { simple: true });
      // With WAL, NORMAL syncs at checkpoints rather than at each commit: a commit survives a crash
      // of this process at once, and the file never corrupts, but a power cut or OS crash may lose
      // the last few commits. That is enough here: every client keeps its whole document and sends
      // the server what it lacks on each reconnect (Yjs sync step 1/2), so such a loss heals itself,
      // while FULL would add an fsync to every keystroke-sized update. Without WAL (a file system
      // that cannot do it) NORMAL could corrupt the file on power loss, so fall back to FULL there.
      this.db.pragma(`synchronous = ${journalMode === 'wal' ? 'NORMAL' : 'FULL'}`);
      if (autoCheckpointPages !== undefined) this.db.pragma(`wal_autocheckpoint = ${autoCheckpointPages}`);
      migrate(this.db, file);
      this.statements = prepareStatements(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.bytes = this.statements.totalBytes.get()!;
  }

  async load(room: string): Promise<StoredRoom> {
    this.ensureOpen();
    this.commitGroup();
    return this.statements.loadRoom(room);
  }

  append(room: string, update: Uint8Array): Promise<number> {
    return this.appendMany(room, [update]);
  }

  async appendMany(room: string, updates: readonly Uint8Array[]): Promise<number> {
    this.ensureOpen();
    if (updates.length === 0) throw new RangeError(`Nothing to append to room "${room}"`);
    if (!this.group) {
      this.db.exec('BEGIN');
      this.group = [];
      // After the microtasks queued now: the other rooms' appends of this moment.
      process.nextTick(() => this.commitGroup());
    }
    let lastSeq: number;
    try {
      // A failed insert rolls back its own savepoint only: the others in the group stay…
      lastSeq = this.statements.insertUpdates(room, updates);
    } catch (error) {
      // …unless SQLite rolled the whole transaction back (disk full, I/O): the group is lost too.
      if (!this.db.inTransaction) this.failGroup(error as Error);
      throw error;
    }
    let bytes = 0;
    for (const update of updates) bytes += update.byteLength;
    this.bytes += bytes;
    await new Promise<void>((resolve, reject) => this.group!.push({ bytes, resolve, reject }));
    return lastSeq;
  }

  /** Commits the open transaction, if any, and settles the appends in it. */
  private commitGroup(): void {
    const group = this.group;
    if (!group) return;
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      return this.failGroup(error as Error);
    }
    this.group = undefined;
    for (const append of group) append.resolve();
  }

  /** Rolls the open transaction back, if SQLite has not, and rejects every append in it. */
  private failGroup(error: Error): void {
    const group = this.group ?? [];
    this.group = undefined;
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } finally {
      for (const append of group) {
        this.bytes -= append.bytes;
        append.reject(error);
      }
    }
  }

  async compact(room: string, snapshot: Uint8Array, uptoSeq: number): Promise<void> {
    this.ensureOpen();
    this.commitGroup();
    if (!Number.isSafeInteger(uptoSeq) || uptoSeq < 1)
      throw new RangeError(`uptoSeq must be a positive integer, not ${uptoSeq}`);
    // IMMEDIATE takes the write lock before the first read, so the checks still hold at the delete.
    this.bytes += this.statements.compactRoom.immediate(room, snapshot, uptoSeq);
  }

  async revoke(subject: string, revokedAt: number): Promise<number> {
    this.ensureOpen();
    this.commitGroup();
    return Number(this.statements.insertRevocation.run(subject, revokedAt).lastInsertRowid);
  }

  async revocationsAfter(afterSeq: number): Promise<Revocation[]> {
    this.ensureOpen();
    this.commitGroup();
    return this.statements.revocationsAfter
      .all(afterSeq)
      .map((row) => ({ seq: row.seq, subject: row.subject, revokedAt: row.revoked_at }));
  }

  async markFolded(room: string, seq: number): Promise<void> {
    this.ensureOpen();
    this.commitGroup();
    this.statements.markFolded.run(room, seq);
  }

  async unfolded(): Promise<string[]> {
    this.ensureOpen();
    this.commitGroup();
    return this.statements.unfolded.all();
  }

  async rooms(): Promise<string[]> {
    this.ensureOpen();
    this.commitGroup();
    return this.statements.rooms.all();
  }

  async bytesStored(): Promise<number> {
    this.ensureOpen();
    this.commitGroup();
    return this.bytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commitGroup();
    this.closed = true;
    this.db.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`Room storage ${this.file} is closed`);
  }
}

function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new Error(
        `${file} has room storage schema version ${version}, newer than this server's ${SQLITE_SCHEMA_VERSION}: upgrade the server`,
      );
    }
    if (version === SQLITE_SCHEMA_VERSION) return;
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Database.Database) {
  const snapshot = db.prepare<[string], SnapshotRow>('SELECT data, upto_seq FROM snapshots WHERE room = ?');
  const updatesAfter = db.prepare<[string, number], UpdateRow>(
    'SELECT seq, data FROM updates WHERE room = ? AND seq > ? ORDER BY seq',
  );
  const lastUpdateSeq = db
    .prepare<[string], number | null>('SELECT MAX(seq) FROM updates WHERE room = ?')
    .pluck();
  const updateBytesUpTo = db
    .prepare<[string, number], number>(
      'SELECT COALESCE(SUM(LENGTH(data)), 0) FROM updates WHERE room = ? AND seq <= ?',
    )
    .pluck();
  const deleteUpdatesUpTo = db.prepare<[string, number]>('DELETE FROM updates WHERE room = ? AND seq <= ?');
  const upsertSnapshot = db.prepare<[string, Uint8Array, number]>(
    `INSERT INTO snapshots (room, data, upto_seq) VALUES (?, ?, ?)
     ON CONFLICT (room) DO UPDATE SET data = excluded.data, upto_seq = excluded.upto_seq`,
  );

  const insertUpdate = db.prepare<[string, Uint8Array]>('INSERT INTO updates (room, data) VALUES (?, ?)');

  return {
    // A fold records the seq it read up to; an older one finishing late never moves it back.
    markFolded: db.prepare<[string, number]>(
      `INSERT INTO folds (room, folded_seq) VALUES (?, ?)
       ON CONFLICT (room) DO UPDATE SET folded_seq = MAX(folded_seq, excluded.folded_seq)`,
    ),
    unfolded: db
      .prepare<[], string>(
        `SELECT stored.room FROM (
           SELECT room, MAX(seq) AS last FROM updates GROUP BY room
           UNION ALL SELECT room, upto_seq FROM snapshots
         ) AS stored
         LEFT JOIN folds ON folds.room = stored.room
         GROUP BY stored.room
         HAVING MAX(stored.last) > COALESCE(MAX(folds.folded_seq), 0)
         ORDER BY stored.room`,
      )
      .pluck(),
    insertRevocation: db.prepare<[string, number]>(
      'INSERT INTO revocations (subject, revoked_at) VALUES (?, ?)',
    ),
    revocationsAfter: db.prepare<[number], { seq: number; subject: string; revoked_at: number }>(
      'SELECT seq, subject, revoked_at FROM revocations WHERE seq > ? ORDER BY seq',
    ),
    insertUpdate,
    insertUpdates: db.transaction((room: string, updates: readonly Uint8Array[]): number => {
      let lastSeq = 0;
      for (const update of updates) lastSeq = Number(insertUpdate.run(room, update).lastInsertRowid);
      return lastSeq;
    }),
    rooms: db
      .prepare<[], string>('SELECT room FROM snapshots UNION SELECT room FROM updates ORDER BY room')
      .pluck(),
    totalBytes: db
      .prepare<[], number>(
        `SELECT (SELECT COALESCE(SUM(LENGTH(data)), 0) FROM updates)
              + (SELECT COALESCE(SUM(LENGTH(data)), 0) FROM snapshots)`,
      )
      .pluck(),

    // One read transaction, so that the snapshot and the updates after it are from the same moment
    // even if another connection (a backup, the sqlite3 shell) writes in between.
    loadRoom: db.transaction((room: string): StoredRoom => {
      const stored = snapshot.get(room);
      const uptoSeq = stored?.upto_seq ?? 0;
      const rows = updatesAfter.all(room, uptoSeq);
      const updates = rows.map((row) => toBytes(row.data));
      if (stored) updates.unshift(toBytes(stored.data));
      return { updates, lastSeq: rows.at(-1)?.seq ?? uptoSeq };
    }),

    // Returns the change in stored bytes, for the caller to apply once the transaction has committed.
    compactRoom: db.transaction((room: string, merged: Uint8Array, uptoSeq: number): number => {
      const stored = snapshot.get(room);
      // A newer compaction already covers everything this one would; keep its snapshot.
      if (stored && uptoSeq <= stored.upto_seq) return 0;
      // A snapshot beyond the room's last seq would hide the updates appended next under it.
      const lastSeq = lastUpdateSeq.get(room) ?? 0;
      if (uptoSeq > lastSeq)
        throw new RangeError(
          `Cannot compact room "${room}" up to seq ${uptoSeq}: its last seq is ${lastSeq}`,
        );
      const removed = updateBytesUpTo.get(room, uptoSeq)!;
      deleteUpdatesUpTo.run(room, uptoSeq);
      upsertSnapshot.run(room, merged, uptoSeq);
      return merged.byteLength - removed - (stored?.data.byteLength ?? 0);
    }),
  };
}

/**
 * A plain Uint8Array over the same memory: a Buffer would compare unequal to an equal Uint8Array in
 * deep-equality checks. better-sqlite3 gives every blob its own ArrayBuffer, so the view shows
 * nothing else.
 */
function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
