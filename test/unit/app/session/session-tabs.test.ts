/**
 * Two tabs of the app on one device (sync SPEC T1–T6): two sessions over one IndexedDB database
 * (fake-indexeddb), each with its own connection to it, meeting on Node's BroadcastChannel. Offline
 * (no server at all): a save in one tab reaches the other tab's screens without a reload, is stored
 * once, and is counted as unsent in both; signing out or clearing the data in one tab closes the
 * other's first, so that nothing of the old data is written afterwards. Both with the browser's Web
 * Locks (here a fake with the same queueing) and without (only the channel).
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Session, type SignInRecord } from '../../../../src/lib/app/session';
import type { ProgramDirectory } from '../../../../src/lib/domain/schema';
import { claimsOf } from '../../../../src/lib/app/sign-in';
import { PartnerKpiDb } from '../../../../src/lib/store/db';
import type { Locks } from '../../../../src/lib/store/local-data';
import { DEFAULT_STAGE_PROBABILITY } from '../../../../src/lib/domain';
import { lead } from '../../../factories/records';
import { FakeNetwork } from '../../../factories/fake-sync-socket';
import { fakeLocks } from '../../../factories/fake-locks';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const directory: ProgramDirectory = {
  program: {
    id: 'demo',
    name: 'Demo',
    currency: 'INR',
    timeZone: 'Asia/Kolkata',
    stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
  },
  partners: [{ id: 'p1', programId: 'demo', name: 'Sunrise', createdAt: 0 }],
  reps: [{ id: 'r1', partnerId: 'p1', name: 'Asha Rao', role: 'rep', createdAt: 0 }],
};

function signIn(): SignInRecord {
  const jwt = new UnsecuredJWT({ programId: 'demo', role: 'rep', partnerId: 'p1' })
    .setSubject('r1')
    .setExpirationTime(Math.floor((NOW + 3_600_000) / 1000))
    .encode();
  return { token: jwt, claims: claimsOf(jwt)!, partnerId: 'p1' };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Two tabs of one device: one database name, a Dexie connection each, both offline. */
async function twoTabs(locks?: Locks): Promise<{ a: Session; b: Session; db: PartnerKpiDb }> {
  const name = `session-tabs-${Date.now()}-${Math.random()}`;
  const net = new FakeNetwork();
  const tab = () => {
    const db = new PartnerKpiDb(name);
    const session = new Session({
      db,
      now: () => NOW,
      syncUrl: 'ws://partner-kpi.test/sync',
      WebSocket: net.WebSocket,
      locks,
    });
    session.setOnline(false);
    cleanups.push(async () => {
      await session.close();
      db.close();
    });
    return { session, db };
  };
  cleanups.push(async () => {
    await Dexie.delete(name);
  });
  const first = tab();
  await first.session.signInWith(signIn(), directory);
  const second = tab();
  // The second tab opens the data the first one signed in to, as a new tab does.
  await second.session.start();
  await second.session.opened();
  expect(second.session.status).toBe('ready');
  return { a: first.session, b: second.session, db: first.db };
}

const ids = (session: Session) => session.leads.map((row) => row.id).sort();

describe('T1, T2 — a save in one tab shows in the other at once, stored once', () => {
  it('offline: the lead saved in tab A is listed in tab B, B’s edit of it in A, and the log holds each change once', async () => {
    const { a, b, db } = await twoTabs();
    const rowsBefore = await db.updates.count();
    expect(
      (await a.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1', company: 'Ganga Looms' })))
        .ok,
    ).toBe(true);
    await vi.waitFor(() => expect(ids(b)).toEqual(['L1']));
    expect(b.rollup?.series.size).toBe(a.rollup?.series.size);

    expect((await b.store!.updateLead('L1', { company: 'Ganga Looms & Co' })).ok).toBe(true);
    await vi.waitFor(() => expect(a.leads.find((row) => row.id === 'L1')?.company).toBe('Ganga Looms & Co'));
    await Promise.all([a.store!.settled(), b.store!.settled()]);
    // One row per change, by the tab that made it: the other tab did not store it again.
    expect(await db.updates.count()).toBe(rowsBefore + 2);
    // The projected row, written by both tabs, is the merged record.
    expect((await db.leads.get('L1'))?.company).toBe('Ganga Looms & Co');
  });
});

describe('T3 — one count of unsent changes', () => {
  it('both tabs say the same number of changes are not sent yet', async () => {
    const { a, b } = await twoTabs();
    await a.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    await b.store!.createLead(lead({ id: 'L2', partnerId: 'p1', repId: 'r1' }));
    await vi.waitFor(() => expect([a.pendingChanges, b.pendingChanges]).toEqual([2, 2]));
  });
});

describe.each([
  ['with Web Locks', () => fakeLocks()],
  ['without Web Locks', () => undefined],
])('T6 — removing the data in one tab (%s)', (_name, locks) => {
  it('signing out in tab A signs tab B out too, and B writes nothing afterwards', async () => {
    const { a, b, db } = await twoTabs(locks());
    await b.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    await a.signOut();
    await vi.waitFor(() => expect(b.status).toBe('signin'));
    expect(b.store).toBeUndefined();
    expect(ids(b)).toEqual([]);
    expect([await db.updates.count(), await db.leads.count(), await db.settings.count()]).toEqual([0, 0, 0]);
  });

  it('clearing the data in tab A opens B again on the emptied data', async () => {
    const { a, b, db } = await twoTabs(locks());
    await b.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    const before = b.store;
    await a.clearLocalData();
    await vi.waitFor(() => expect(b.store !== undefined && b.store !== before && b.rowsReady).toBe(true));
    expect(b.status).toBe('ready');
    expect(ids(b)).toEqual([]);
    expect(await db.leads.count()).toBe(0);
    // Both tabs go on together.
    await a.store!.createLead(lead({ id: 'L2', partnerId: 'p1', repId: 'r1' }));
    await vi.waitFor(() => expect(ids(b)).toEqual(['L2']));
  });
});
