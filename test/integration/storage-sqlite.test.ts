import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from '../../server/storage/checkpointer';
import {
  openSqliteStorage,
  SqliteRoomStorage,
  SQLITE_SCHEMA_VERSION,
  WAL_PAGES_CAP,
} from '../../server/storage/sqlite-storage';
import { describeRoomStorageContract } from './storage-contract';

const tempDirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'partner-kpi-rooms-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describeRoomStorageContract('SQLite storage', async () => {
  const file = join(freshDir(), 'rooms.sqlite');
  return { storage: openSqliteStorage(file), reopen: async () => openSqliteStorage(file) };
});

describe('SQLite storage commits', () => {
  const rowsSeenByAnotherConnection = (file: string) => {
    const reader = new Database(file, { readonly: true });
    try {
      return reader
        .prepare<[], { room: string }>('SELECT room FROM updates ORDER BY seq')
        .all()
        .map((row) => row.room);
    } finally {
      reader.close();
    }
  };

  it('commits the appends of one moment, of every room, together, and resolves none before', async () => {
    const file = join(freshDir(), 'rooms.sqlite');
    const storage = openSqliteStorage(file);
    const resolvedWith: string[][] = [];
    const first = storage.appendMany('program/p1/partner/a', [new Uint8Array([1]), new Uint8Array([2])]);
    const second = storage.appendMany('program/p1/partner/b', [new Uint8Array([3])]);
    // Neither is committed yet: another connection sees nothing.
    expect(rowsSeenByAnotherConnection(file)).toEqual([]);
    for (const append of [first, second])
      void append.then(() => resolvedWith.push(rowsSeenByAnotherConnection(file)));
    expect(await Promise.all([first, second])).toEqual([2, 3]);
    // When the first resolved, both rooms' rows were committed already.
    const all = ['program/p1/partner/a', 'program/p1/partner/a', 'program/p1/partner/b'];
    expect(resolvedWith).toEqual([all, all]);
    await storage.close();
  });

  it('commits open appends before any other call, which then sees them', async () => {
    const file = join(freshDir(), 'rooms.sqlite');
    const storage = openSqliteStorage(file);
    const appended = storage.appendMany('program/p1/partner/a', [new Uint8Array([7])]);
    await storage.revoke('u1', 1_000);
    expect(rowsSeenByAnotherConnection(file)).toEqual(['program/p1/partner/a']);
    expect(await appended).toBe(1);
    expect((await storage.load('program/p1/partner/a')).updates).toEqual([new Uint8Array([7])]);
    await storage.close();
  });
});

describe('SQLite storage file', () => {
  it('creates its folder, and opens in WAL mode at the current schema version', async () => {
    const file = join(freshDir(), 'data', 'sync', 'rooms.sqlite');
    const storage = openSqliteStorage(file);
    await storage.append('program/p1', new Uint8Array([1]));
    await storage.close();
    expect(existsSync(file)).toBe(true);

    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema version, and leaves it as it was', () => {
    const file = join(freshDir(), 'rooms.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();

    expect(() => openSqliteStorage(file)).toThrow(/newer than this server/);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION + 1);
    } finally {
      after.close();
    }
  });

  it('commits an append before its promise resolves, as another connection sees', async () => {
    const file = join(freshDir(), 'rooms.sqlite');
    const storage = openSqliteStorage(file);
    const reader = new Database(file, { readonly: true });
    try {
      const seq = await storage.append('program/p1/partner/x', new Uint8Array([4, 2]));
      const row = reader
        .prepare<[number], { room: string; data: Buffer }>('SELECT room, data FROM updates WHERE seq = ?')
        .get(seq);
      expect(row?.room).toBe('program/p1/partner/x');
      expect([...row!.data]).toEqual([4, 2]);
    } finally {
      reader.close();
      await storage.close();
    }
  });
});

describe('SQLite checkpoints on a thread of their own (server/storage/checkpointer.ts)', () => {
  it('copies the log into the file while the storage takes appends, loses nothing, and closes', async () => {
    const file = join(freshDir(), 'rooms.sqlite');
    // As the threaded engine opens it: no checkpoint of its own below WAL_PAGES_CAP.
    const storage = new SqliteRoomStorage(file, { autoCheckpointPages: WAL_PAGES_CAP });
    const update = new Uint8Array(1024).fill(7);
    for (let batch = 0; batch < 20; batch++) await storage.appendMany('r', Array(100).fill(update));
    // 2 MB appended, past SQLite's own threshold of 1,000 pages: all of it still in the log.
    expect(statSync(file).size).toBeLessThan(256 * 1024);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(2_000_000);

    const logged: string[] = [];
    const checkpointer = startCheckpointer(file, { intervalMs: 10, log: (line) => logged.push(line) });
    const deadline = Date.now() + 10_000;
    while (statSync(file).size < 2_000_000 && Date.now() < deadline)
      await new Promise((resolve) => setImmediate(resolve));
    expect(statSync(file).size).toBeGreaterThan(2_000_000);
    // The storage goes on appending while the other thread checkpoints.
    await storage.appendMany('r', [update]);
    await storage.close();
    await checkpointer.close();
    expect(logged).toEqual([]);

    const reopened = openSqliteStorage(file);
    expect((await reopened.load('r')).updates).toHaveLength(2001);
    await reopened.close();
  });
});
