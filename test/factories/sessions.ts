/**
 * Sessions of the app over fake IndexedDB and a fake network, for unit tests: each test's databases
 * and sessions are signed out, closed and deleted after it. Call `sessionsForTests` at the top level
 * of a test file (it registers an afterEach).
 */
import { Dexie } from 'dexie';
import { afterEach } from 'vitest';
import { Session } from '../../src/lib/app/session';
import { PartnerKpiDb } from '../../src/lib/store/db';

export interface TestSessions {
  /** A new database of a unique name, deleted after the test. */
  database(): PartnerKpiDb;
  /** A session over `db` (a new database by default), signed out after the test. */
  session(options: { WebSocket: typeof WebSocket; now: () => number; db?: PartnerKpiDb }): Session;
  /** Closes a session as a reload would (its data stays); it is no longer signed out after the test. */
  reload(session: Session): Promise<void>;
}

export function sessionsForTests(name: string): TestSessions {
  const dbs: PartnerKpiDb[] = [];
  const sessions: Session[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.signOut();
    for (const db of dbs.splice(0)) {
      db.close();
      await Dexie.delete(db.name);
    }
  });
  const database = () => {
    const db = new PartnerKpiDb(`${name}-${Date.now()}-${Math.random()}`);
    dbs.push(db);
    return db;
  };
  return {
    database,
    session({ WebSocket, now, db = database() }) {
      if (!dbs.includes(db)) dbs.push(db);
      const session = new Session({ db, now, syncUrl: 'ws://partner-kpi.test/sync', WebSocket });
      sessions.push(session);
      return session;
    },
    async reload(session) {
      sessions.splice(sessions.indexOf(session), 1);
      await session.close();
    },
  };
}
