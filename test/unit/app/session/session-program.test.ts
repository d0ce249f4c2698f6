/**
 * The session with the program-level document: the program document for a vendor manager, the
 * partner's channel (read-only) for a partner's people, the directory taken from it once it syncs
 * and kept offline, a vendor manager's targets
 * counted until the server stores them, a vendor manager switching partners without signing out,
 * and the partner opened again when the program's zone differs from the sign-in's. Real stores
 * over fake-indexeddb; the fake socket and server of the connection tests.
 */
import 'fake-indexeddb/auto';
import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Session, type SignInRecord } from '../../../../src/lib/app/session';
import type { ProgramDirectory } from '../../../../src/lib/domain/schema';
import { claimsOf } from '../../../../src/lib/app/sign-in';
import { PartnerKpiDb } from '../../../../src/lib/store/db';
import * as Y from 'yjs';
import { initProgram, openProgramDoc, projectPartnerView } from '../../../../src/lib/sync/program-doc';
import { DEFAULT_STAGE_PROBABILITY, type Role } from '../../../../src/lib/domain';
import { FakeNetwork, FakeSyncServer, type FakeSocket } from '../../../factories/fake-sync-socket';
import { sessionsForTests } from '../../../factories/sessions';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const HOUR = 3_600_000;
const program = {
  id: 'demo',
  name: 'Acme Cloud Partner Program',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
/** What the sign-in gives before the program document is synced: the partner's id as its name. */
const signInDirectory: ProgramDirectory = {
  program: { ...program, name: 'demo' },
  partners: [{ id: 'p1', programId: 'demo', name: 'p1', createdAt: 0 }],
  reps: [{ id: 'r1', partnerId: 'p1', name: 'r1', role: 'rep', createdAt: 0 }],
};

/** The server's program room, with the program's real directory. */
function programServer(options: { readOnly?: boolean; timeZone?: string } = {}): FakeSyncServer {
  const server = new FakeSyncServer({ readOnly: options.readOnly ?? false });
  initProgram(openProgramDoc(server.doc), {
    program: { ...program, timeZone: options.timeZone ?? program.timeZone },
    partners: [
      { id: 'p1', programId: 'demo', name: 'Sunrise Systems', createdAt: 0 },
      { id: 'p2', programId: 'demo', name: 'BluePeak IT', createdAt: 0 },
    ],
    reps: [{ id: 'r1', partnerId: 'p1', name: 'Asha Rao', role: 'rep', createdAt: 0 }],
    staff: [{ id: 'v-anita', name: 'Anita Rao', role: 'vendor_manager' }],
  });
  return server;
}

/** The server's channel room of partner p1: what it may read of the program (sync SPEC P7). */
function channelServer(options: { timeZone?: string } = {}): FakeSyncServer {
  const channel = new FakeSyncServer({ readOnly: true });
  projectPartnerView(openProgramDoc(programServer(options).doc), openProgramDoc(channel.doc), 'p1');
  return channel;
}

function signIn(role: Role = 'rep', partnerId = 'p1'): SignInRecord {
  const sub = role === 'vendor_manager' ? 'v-anita' : 'r1';
  const jwt = new UnsecuredJWT({
    programId: 'demo',
    role,
    ...(role === 'vendor_manager' ? {} : { partnerId }),
  })
    .setSubject(sub)
    .setExpirationTime(Math.floor((NOW + HOUR) / 1000))
    .encode();
  return { token: jwt, claims: claimsOf(jwt)!, partnerId };
}

const sessions = sessionsForTests('session-program');

function newSession(net: FakeNetwork, db?: PartnerKpiDb): Session {
  return sessions.session({ WebSocket: net.WebSocket, now: () => NOW, ...(db ? { db } : {}) });
}

const programSockets = (net: FakeNetwork): FakeSocket[] =>
  net.sockets.filter((socket) => socket.url.endsWith('/sync/program/demo'));
const channelSockets = (net: FakeNetwork): FakeSocket[] =>
  net.sockets.filter((socket) => socket.url.endsWith('/sync/program/demo/partner/p1/channel'));
const partnerSockets = (net: FakeNetwork, partnerId: string): FakeSocket[] =>
  net.sockets.filter((socket) => socket.url.endsWith(`/partner/${partnerId}`));

describe('the program-level document on the device', () => {
  it('is the partner’s channel for a rep, read-only, and its directory replaces the sign-in’s once synced', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn(), signInDirectory);
    expect(channelSockets(net)).toHaveLength(1);
    expect(programSockets(net)).toHaveLength(0);
    expect(session.partner?.name).toBe('p1');

    const server = channelServer();
    server.handshake(channelSockets(net)[0]!);
    await session.programDocs.store!.settled();
    expect(session.partner?.name).toBe('Sunrise Systems');
    expect(session.personName).toBe('Asha Rao');
    expect(session.program?.name).toBe('Acme Cloud Partner Program');
    expect(session.programSync).toMatchObject({ status: 'synced', pendingChanges: 0 });
    // The header's state waits for the partner's room too.
    expect(session.syncSummary?.status).not.toBe('synced');
    new FakeSyncServer().handshake(partnerSockets(net, 'p1')[0]!);
    expect(session.syncSummary?.status).toBe('synced');
  });

  it('keeps the synced directory for the next start, offline', async () => {
    const net = new FakeNetwork();
    const db = sessions.database();
    const session = newSession(net, db);
    await session.signInWith(signIn(), signInDirectory);
    channelServer().handshake(channelSockets(net)[0]!);
    await session.programDocs.store!.settled();
    await session.store!.settled();

    // A reload with no network.
    await sessions.reload(session);
    const offline = new FakeNetwork();
    const reloaded = newSession(offline, db);
    reloaded.setOnline(false);
    await reloaded.start();
    expect(reloaded.status).toBe('ready');
    expect(offline.sockets).toHaveLength(0);
    expect(reloaded.partner?.name).toBe('Sunrise Systems');
    // Its own partner alone: the channel names no other partner.
    expect(reloaded.directory?.partners.map((partner) => partner.name)).toEqual(['Sunrise Systems']);
  });

  it('drops, on a partner’s device, the program document an older version kept; its own data stays', async () => {
    const net = new FakeNetwork();
    const db = sessions.database();
    // What an older version stored: the whole program document, every partner named in it.
    const old = programServer();
    await db.updates.bulkAdd([{ room: 'program/demo', update: Y.encodeStateAsUpdate(old.doc) }]);
    await db.settings.put({ key: 'sync:program/demo', value: 'kept' });
    const session = newSession(net, db);
    await session.signInWith(signIn(), signInDirectory);
    await session.opened();
    expect(await db.updates.where('room').equals('program/demo').count()).toBe(0);
    expect(await db.settings.get('sync:program/demo')).toBeUndefined();
    expect(session.status).toBe('ready');
  });

  it('opens the partner again in the program’s zone when it differs from the sign-in’s', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn(), signInDirectory);
    expect(session.store?.tz).toBe('Asia/Kolkata');
    channelServer({ timeZone: 'Europe/Berlin' }).handshake(channelSockets(net)[0]!);
    await session.programDocs.store!.settled();
    await session.opened();
    expect(session.store?.tz).toBe('Europe/Berlin');
    expect(session.rowsReady).toBe(true);
    expect(session.program?.timeZone).toBe('Europe/Berlin');
  });
});

describe('targets', () => {
  it('a vendor manager sets one: counted as unsent until the program room stores it', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn('vendor_manager', 'p1'), signInDirectory);
    const server = programServer();
    server.handshake(programSockets(net)[0]!);
    await session.programDocs.store!.settled();
    expect(session.staffMember?.name).toBe('Anita Rao');
    expect(session.personName).toBe('Anita Rao');

    const written = await session.setTarget('p2', '2026-Q4', { revenue: 25_00_000_00, deals: 12 });
    expect(written).toMatchObject({
      ok: true,
      value: { partnerId: 'p2', quarter: '2026-Q4', setAt: NOW, setBy: 'v-anita' },
    });
    expect(session.targets.map((target) => [target.partnerId, target.deals])).toEqual([['p2', 12]]);
    expect(session.pendingChanges).toBe(1);
    server.serve(programSockets(net)[0]!);
    expect(session.pendingChanges).toBe(0);
    expect(server.doc.getMap('targets').get('p2/2026-Q4')).toContain('"deals":12');
  });

  it('nobody else may: a rep’s attempt writes nothing', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn(), signInDirectory);
    channelServer().handshake(channelSockets(net)[0]!);
    await session.programDocs.store!.settled();
    expect(session.canSetTargets).toBe(false);
    const refused = await session.setTarget('p1', '2026-Q4', { revenue: 1, deals: 1 });
    expect(refused.ok).toBe(false);
    expect(session.targets).toEqual([]);
    expect(session.pendingChanges).toBe(0);
  });
});

describe('a vendor manager switching partners', () => {
  it('opens another partner read-only without signing out; the program document stays connected', async () => {
    const net = new FakeNetwork();
    const db = sessions.database();
    const session = newSession(net, db);
    await session.signInWith(signIn('vendor_manager', 'p1'), signInDirectory);
    programServer().handshake(programSockets(net)[0]!);
    await session.programDocs.store!.settled();
    expect(session.identity?.partnerId).toBe('p1');

    await session.openPartnerAs('p2');
    expect(session.status).toBe('ready');
    expect(session.rowsReady).toBe(true);
    expect(session.identity?.partnerId).toBe('p2');
    expect(session.partner?.name).toBe('BluePeak IT');
    expect(session.store?.room).toBe('program/demo/partner/p2');
    expect(partnerSockets(net, 'p2')).toHaveLength(1);
    expect(partnerSockets(net, 'p1')[0]!.closedByDevice).toBe(true);
    expect(programSockets(net)).toHaveLength(1);
    // The choice is kept: the next start opens p2.
    expect(((await db.settings.get('signIn'))?.value as SignInRecord).partnerId).toBe('p2');

    // A sign-in of the same vendor manager for another partner is a switch too, keeping the data.
    expect(session.replacesData(signIn('vendor_manager', 'p1'))).toBe(false);
  });

  it('a partner’s people cannot switch', async () => {
    const net = new FakeNetwork();
    const session = newSession(net);
    await session.signInWith(signIn(), signInDirectory);
    await session.openPartnerAs('p2');
    expect(session.identity?.partnerId).toBe('p1');
  });
});
