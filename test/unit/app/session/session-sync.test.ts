/**
 * The app's session with sync: signing in from a token, the partner's document connected to its
 * room, another device's change reaching the rows the screens read, unsent changes across a
 * reload, an expired token, read-only, signing out. Real store over fake-indexeddb; the fake socket
 * and server of the connection tests (no network, no sleeps).
 */
import 'fake-indexeddb/auto';
import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Session, type SignInRecord } from '../../../../src/lib/app/session';
import type { ProgramDirectory } from '../../../../src/lib/domain/schema';
import { claimsOf, tokenFromFragment } from '../../../../src/lib/app/sign-in';
import { PartnerKpiDb } from '../../../../src/lib/store/db';
import { createLead, openPartnerDoc } from '../../../../src/lib/sync/partner-doc';
import { DEFAULT_STAGE_PROBABILITY, type Role } from '../../../../src/lib/domain';
import { lead } from '../../../factories/records';
import { FakeNetwork, FakeSyncServer } from '../../../factories/fake-sync-socket';
import { sessionsForTests } from '../../../factories/sessions';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const HOUR = 3_600_000;
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

function token(claims: { sub: string; role: Role; partnerId?: string; exp: number }): string {
  const { sub, exp, ...rest } = claims;
  return new UnsecuredJWT({ programId: 'demo', ...rest })
    .setSubject(sub)
    .setExpirationTime(Math.floor(exp / 1000))
    .encode();
}

function signIn(
  claims: { sub?: string; role?: Role; partnerId?: string; exp?: number } = {},
  partnerId = 'p1',
): SignInRecord {
  const jwt = token({
    sub: claims.sub ?? 'r1',
    role: claims.role ?? 'rep',
    exp: claims.exp ?? NOW + HOUR,
    ...(claims.role === 'vendor_manager' ? {} : { partnerId: claims.partnerId ?? 'p1' }),
  });
  return { token: jwt, claims: claimsOf(jwt)!, partnerId };
}

const sessions = sessionsForTests('session-sync');

function newSession(net: FakeNetwork, db?: PartnerKpiDb): Session {
  return sessions.session({ WebSocket: net.WebSocket, now: () => NOW, ...(db ? { db } : {}) });
}

describe('signing in', () => {
  it('reads the claims of a sign-in link', () => {
    const jwt = token({ sub: 'r1', role: 'partner_manager', partnerId: 'p1', exp: NOW + HOUR });
    expect(tokenFromFragment(`#token=${jwt}`)).toBe(jwt);
    expect(tokenFromFragment('')).toBeUndefined();
    expect(claimsOf(jwt)).toEqual({
      userId: 'r1',
      role: 'partner_manager',
      programId: 'demo',
      partnerId: 'p1',
      expiresAt: Math.floor((NOW + HOUR) / 1000) * 1000,
    });
    expect(claimsOf('not a token')).toBeUndefined();
    // A rep's token without a partner is not one of ours.
    expect(
      claimsOf(
        new UnsecuredJWT({ role: 'rep', programId: 'demo' }).setSubject('r1').setExpirationTime(NOW).encode(),
      ),
    ).toBeUndefined();
  });

  it('takes who the person is from the token and connects the partner document to its room, offering the token', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.start();
    expect(session.status).toBe('signin');
    const record = signIn({ role: 'partner_manager' });
    await session.signInWith(record, directory);

    expect(session.status).toBe('ready');
    expect(session.identity).toEqual({ programId: 'demo', partnerId: 'p1', repId: 'r1' });
    expect(session.isManager).toBe(true);
    expect(session.readOnly).toBe(false);
    expect(net.last.url).toBe('ws://partner-kpi.test/sync/program/demo/partner/p1');
    expect(net.last.protocols).toEqual(['partner-kpi', `bearer.${record.token}`]);

    new FakeSyncServer().handshake(net.last);
    expect(session.sync?.status).toBe('synced');
  });
});

describe('remote changes', () => {
  it('a lead another device logged reaches the rows the screens read, and the KPI buckets', async () => {
    const net = new FakeNetwork();
    const server = new FakeSyncServer();
    const session = newSession(net);
    await session.signInWith(signIn(), directory);
    server.handshake(net.last);
    /** The leads the KPI buckets count. */
    const leadsCounted = () =>
      [...session.rollup!.series.values()]
        .flatMap((series) => [...series.days.values()])
        .reduce((sum, bucket) => sum + bucket.leads, 0);
    expect(leadsCounted()).toBe(0);

    server.change(net.last, (doc) =>
      createLead(
        openPartnerDoc(doc),
        lead({ id: 'L-remote', partnerId: 'p1', repId: 'r2', company: 'Ganga Textiles' }),
      ),
    );
    await session.store!.settled();

    expect(session.leads.map((row) => row.company)).toEqual(['Ganga Textiles']);
    expect(leadsCounted()).toBe(1);
    expect(session.pendingChanges).toBe(0);
  });
});

describe('unsent changes', () => {
  it('are counted until the server stores them, and still counted after a reload with no network', async () => {
    const net = new FakeNetwork();
    const server = new FakeSyncServer();
    const db = sessions.database();
    const session = newSession(net, db);
    session.setOnline(false);
    await session.signInWith(signIn(), directory);
    expect(net.sockets).toHaveLength(0);
    await session.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    await session.store!.createLead(lead({ id: 'L2', partnerId: 'p1', repId: 'r1' }));
    expect(session.sync).toMatchObject({ status: 'offline', pendingChanges: 2 });

    // A reload: a new session over the same database, still offline.
    await sessions.reload(session);
    const reloaded = newSession(net, db);
    reloaded.setOnline(false);
    await reloaded.start();
    expect(reloaded.status).toBe('ready');
    expect(reloaded.sync).toMatchObject({ status: 'offline', pendingChanges: 2 });

    reloaded.setOnline(true);
    server.handshake(net.last);
    expect(reloaded.sync).toMatchObject({ status: 'synced', pendingChanges: 0, lastSyncedAt: NOW });
    expect(Object.keys(server.doc.getMap('leads').toJSON()).sort()).toEqual(['L1', 'L2']);
  });
});

describe('an expired sign-in', () => {
  it('opens the data and keeps every change, but does not connect: it says the sign-in expired', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn({ exp: NOW - 1 }), directory);
    expect(session.status).toBe('ready');
    expect(net.sockets).toHaveLength(0);
    expect(session.closeReason).toBe('expired-token');
    const written = await session.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    expect(written.ok).toBe(true);
    expect(session.pendingChanges).toBe(1);

    // Signing in again for the same partner keeps the data and the unsent change, and sends it.
    const server = new FakeSyncServer();
    await session.signInWith(signIn({ exp: NOW + HOUR }), directory);
    expect(session.closeReason).toBeUndefined();
    expect(session.leads.map((row) => row.id)).toEqual(['L1']);
    server.handshake(net.last);
    expect(session.sync).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });

  it('a 4401 from the server says the same', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn(), directory);
    net.last.open();
    net.last.closeFromServer(4401);
    expect(session.closeReason).toBe('expired-token');
    expect(session.sync?.status).toBe('offline');
  });
});

describe('read-only', () => {
  it('a vendor manager opens the chosen partner read-only', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn({ sub: 'v-anita', role: 'vendor_manager' }, 'p1'), directory);
    expect(session.readOnly).toBe(true);
    expect(session.isManager).toBe(true);
    expect(session.identity?.partnerId).toBe('p1');
    const server = new FakeSyncServer({ readOnly: true });
    server.handshake(net.last);
    expect(session.sync).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });
});

describe('clearing the data on this device', () => {
  it('removes the records and the log, keeps the sign-in, and loads the data again from the server', async () => {
    const net = new FakeNetwork();
    const server = new FakeSyncServer();
    const session = newSession(net);
    await session.signInWith(signIn(), directory);
    server.handshake(net.last);
    await session.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    server.serve(net.last);
    expect(session.pendingChanges).toBe(0);

    await session.clearLocalData();
    expect(session.status).toBe('ready');
    expect(session.identity?.repId).toBe('r1');
    expect(session.leads).toEqual([]);
    // The partner's room again (the partner's channel reconnects too, in its own room).
    expect(net.sockets.filter((socket) => socket.url.endsWith('/partner/p1'))).toHaveLength(2);
    server.handshake(net.last);
    await session.store!.settled();
    expect(session.leads.map((row) => row.id)).toEqual(['L1']);
    expect(session.sync).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });
});

describe('signing out', () => {
  it('removes the records, the update log and the sign-in from this device', async () => {
    const net = new FakeNetwork();
    const db = sessions.database();
    const session = newSession(net, db);
    await session.signInWith(signIn(), directory);
    await session.store!.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    await session.signOut();
    expect(session.status).toBe('signin');
    expect(session.signIn).toBeUndefined();
    expect(net.last.closedByDevice).toBe(true);
    expect([await db.updates.count(), await db.leads.count(), await db.settings.count()]).toEqual([0, 0, 0]);
  });
});
