/**
 * The device's sync connection, rule by rule (src/lib/sync/SPEC.md, "The connection and unsent
 * changes"): a fake WebSocket and a fake server that the test drives by hand — no network, no
 * sleeps, no fake timers. C3 also runs over the real store with fake-indexeddb.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectRoom,
  type ConnectOptions,
  type RoomConnection,
  type SyncState,
} from '../../../src/lib/sync/connection';
import {
  countUnsent,
  memoryLedger,
  readServerState,
  storeServerState,
  type SyncLedger,
} from '../../../src/lib/sync/pending-changes';
import { PartnerKpiDb } from '../../../src/lib/store/db';
import { PartnerStore } from '../../../src/lib/store/partner-store';
import { serverStateKey } from '../../../src/lib/store/db';
import { lead } from '../../factories/records';
import { FakeNetwork, FakeSyncServer } from '../../factories/fake-sync-socket';

const ROOM = 'program/demo/partner/p1';
const URL = 'ws://partner-kpi.test/sync';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyMSJ9.c2lnbmF0dXJl';

let time = 1_000;
const now = () => time;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  time = 1_000;
});

interface Setup {
  doc: Y.Doc;
  net: FakeNetwork;
  server: FakeSyncServer;
  connection: RoomConnection;
  /** Every state the connection reported, in order. */
  states: SyncState[];
}

function connect(
  options: Partial<ConnectOptions> & { server?: FakeSyncServer; net?: FakeNetwork } = {},
): Setup {
  const doc = options.doc ?? new Y.Doc();
  const net = options.net ?? new FakeNetwork();
  const server = options.server ?? new FakeSyncServer({ readOnly: options.readOnly ?? false });
  const connection = connectRoom({
    url: URL,
    room: ROOM,
    token: TOKEN,
    now,
    WebSocket: net.WebSocket,
    ...options,
    doc,
  });
  const states: SyncState[] = [];
  connection.subscribe((state) => states.push(state));
  cleanups.push(() => connection.destroy());
  return { doc, net, server, connection, states };
}

/** One local change: one transaction that inserts. */
function edit(doc: Y.Doc, key: string, value: string | number = key): void {
  doc.getMap('records').set(key, value);
}

const statuses = (states: SyncState[]) =>
  states.map((state) => state.status).filter((status, index, all) => status !== all[index - 1]);

describe('C8: the token', () => {
  it('offers partner-kpi and bearer.<token> as subprotocols; the URL is <url>/<room> with no query string', () => {
    const { net } = connect();
    expect(net.sockets).toHaveLength(1);
    expect(net.last.protocols).toEqual(['partner-kpi', `bearer.${TOKEN}`]);
    expect(net.last.url).toBe(`${URL}/${ROOM}`);
    expect(net.last.url).not.toContain('?');
    expect(net.last.url).not.toContain(TOKEN);
  });
});

describe('C5: status', () => {
  it('is connecting while the socket opens, syncing until the server state arrives, then synced, with the server data in the doc', () => {
    const server = new FakeSyncServer();
    server.doc.getMap('records').set('from-server', 1);
    const { doc, net, connection, states } = connect({ server });
    expect(connection.state.status).toBe('connecting');

    net.last.open();
    expect(connection.state.status).toBe('syncing');
    server.greet(net.last);
    expect(connection.state.status).toBe('syncing');
    server.serve(net.last);

    expect(connection.state.status).toBe('synced');
    expect(doc.getMap('records').get('from-server')).toBe(1);
    expect(statuses(states)).toEqual(['connecting', 'syncing', 'synced']);
  });

  it('is syncing after a change made while synced, until the server acknowledges it', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    expect(connection.state.status).toBe('synced');

    edit(doc, 'L1');
    expect(connection.state).toMatchObject({ status: 'syncing', pendingChanges: 1 });
    server.serve(net.last);
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
    expect(server.doc.getMap('records').get('L1')).toBe('L1');
  });

  it('is offline without a network: it opens no socket, counts the changes made offline and sends them when the network returns', () => {
    const { doc, net, server, connection } = connect({ online: false });
    expect(connection.state.status).toBe('offline');
    expect(net.sockets).toHaveLength(0);
    edit(doc, 'L1');
    edit(doc, 'L2');
    expect(connection.state).toMatchObject({ status: 'offline', pendingChanges: 2 });

    connection.setOnline(true);
    expect(connection.state.status).toBe('connecting');
    server.handshake(net.last);
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
    expect(server.doc.getMap('records').toJSON()).toEqual({ L1: 'L1', L2: 'L2' });
  });

  it('goes offline when the network goes, closing the socket', () => {
    const { net, server, connection } = connect();
    server.handshake(net.last);
    connection.setOnline(false);
    expect(connection.state.status).toBe('offline');
    expect(net.last.closedByDevice).toBe(true);
  });

  it('is offline while the server cannot be reached, whatever the browser says, and keeps trying until a socket opens', () => {
    const { net, server, connection } = connect();
    expect(connection.state.status).toBe('connecting');
    net.last.closeFromServer(1006);
    expect(connection.state).toMatchObject({ status: 'offline', closeReason: undefined });

    connection.reconnect();
    expect(net.sockets).toHaveLength(2);
    expect(connection.state.status).toBe('connecting');
    net.last.closeFromServer(1006);
    expect(connection.state.status).toBe('offline');

    connection.reconnect();
    server.handshake(net.last);
    expect(connection.state.status).toBe('synced');
  });

  it('is connecting, not offline, while it waits to try again after a dropped connection', () => {
    const { net, server, connection } = connect();
    server.handshake(net.last);
    net.last.closeFromServer(1006);
    expect(connection.state).toMatchObject({ status: 'connecting', closeReason: undefined });
  });
});

describe('C2: unsent changes', () => {
  it('counts each local change until the server acknowledges having stored it, one acknowledgement at a time', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    edit(doc, 'L1');
    const afterFirst = Y.encodeStateVector(doc);
    edit(doc, 'L2');
    edit(doc, 'L3');
    expect(connection.state.pendingChanges).toBe(3);

    // Received and stored, not yet acknowledged: still unsent as far as the device knows.
    server.serve(net.last, { acknowledge: false });
    expect(server.doc.getMap('records').size).toBe(3);
    expect(connection.state).toMatchObject({ status: 'syncing', pendingChanges: 3 });

    server.acknowledge(net.last, afterFirst);
    expect(connection.state.pendingChanges).toBe(2);
    server.acknowledge(net.last);
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });

  it('counts every local change as unsent before any acknowledgement', () => {
    const doc = new Y.Doc();
    edit(doc, 'before-the-connection');
    const { net, connection } = connect({ doc });
    edit(doc, 'L1');
    net.last.open();
    expect(connection.state.pendingChanges).toBe(1);
  });

  it('takes the latest acknowledgement, even when it says the server has less', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    const empty = Y.encodeStateVector(new Y.Doc());
    edit(doc, 'L1');
    server.serve(net.last);
    expect(connection.state.pendingChanges).toBe(0);
    edit(doc, 'L2');
    server.acknowledge(net.last, empty);
    expect(connection.state.pendingChanges).toBe(1);
  });
});

describe('C1: a local change', () => {
  it('never counts a change that came from the server', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    server.change(net.last, (serverDoc) => serverDoc.getMap('records').set('D9', 'from another device'));
    expect(doc.getMap('records').get('D9')).toBe('from another device');
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });

  it('is one transaction: several writes in one transaction are one change', () => {
    const { doc, connection } = connect({ online: false });
    doc.transact(() => {
      edit(doc, 'L1');
      edit(doc, 'D1');
    });
    expect(connection.state.pendingChanges).toBe(1);
  });

  it('does not count a transaction that only deletes', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    edit(doc, 'L1');
    server.serve(net.last);
    doc.getMap('records').delete('L1');
    expect(connection.state.pendingChanges).toBe(0);
  });
});

describe('C4: last synced', () => {
  it('is the time of the last acknowledgement after which nothing was unsent', () => {
    const { doc, net, server, connection } = connect();
    expect(connection.state.lastSyncedAt).toBeUndefined();
    time = 5_000;
    server.handshake(net.last);
    expect(connection.state.lastSyncedAt).toBe(5_000);

    // An edit at 6 s: in sync until then, and no later while it is unsent.
    time = 6_000;
    edit(doc, 'L1');
    edit(doc, 'L2');
    const afterFirst = Y.encodeStateVector(doc);
    expect(connection.state.lastSyncedAt).toBe(6_000);
    time = 6_500;
    server.serve(net.last, { acknowledge: false });
    server.acknowledge(net.last, Y.encodeStateVector(new Y.Doc()));
    expect(connection.state.lastSyncedAt).toBe(6_000);

    time = 7_000;
    server.acknowledge(net.last, afterFirst);
    expect(connection.state).toMatchObject({ pendingChanges: 0, lastSyncedAt: 7_000 });
  });

  it('is the time the device left sync: synced for an hour, then offline, says an hour later (#13 item 14)', () => {
    const { net, server, connection } = connect();
    time = 5_000;
    server.handshake(net.last);
    expect(connection.state).toMatchObject({ status: 'synced', lastSyncedAt: 5_000 });
    time = 3_600_000;
    connection.setOnline(false);
    expect(connection.state).toMatchObject({ status: 'offline', lastSyncedAt: 3_600_000 });
  });
});

describe('C6: refusals', () => {
  it('4401: closeReason expired-token, offline for good, every unsent change kept and still counted', () => {
    const { doc, net, connection } = connect();
    edit(doc, 'L1');
    net.last.open();
    net.last.closeFromServer(4401, 'token expired');
    expect(connection.state).toMatchObject({
      status: 'offline',
      closeReason: 'expired-token',
      pendingChanges: 1,
    });

    // Working on offline: more changes are counted; nothing tries to connect again.
    edit(doc, 'L2');
    connection.setOnline(false);
    connection.setOnline(true);
    connection.reconnect();
    expect(net.sockets).toHaveLength(1);
    expect(connection.state).toMatchObject({
      status: 'offline',
      closeReason: 'expired-token',
      pendingChanges: 2,
    });
    expect(doc.getMap('records').toJSON()).toEqual({ L1: 'L1', L2: 'L2' });
  });

  it('4401 before the socket opened: the same', () => {
    const { net, connection } = connect();
    net.last.closeFromServer(4401);
    expect(connection.state).toMatchObject({ status: 'offline', closeReason: 'expired-token' });
  });

  it('4403: closeReason forbidden, offline for good', () => {
    const { net, connection } = connect();
    net.last.open();
    net.last.closeFromServer(4403, 'room not allowed');
    connection.reconnect();
    expect(net.sockets).toHaveLength(1);
    expect(connection.state).toMatchObject({ status: 'offline', closeReason: 'forbidden' });
  });

  it('the next connection, with a new token, sends what the refused one could not', () => {
    const server = new FakeSyncServer();
    const first = connect({ server });
    edit(first.doc, 'L1');
    first.net.last.open();
    first.net.last.closeFromServer(4401);
    first.connection.destroy();

    const second = connect({ server, doc: first.doc, token: 'a-new-token' });
    expect(second.net.last.protocols).toEqual(['partner-kpi', 'bearer.a-new-token']);
    server.handshake(second.net.last);
    expect(second.connection.state).toMatchObject({
      status: 'synced',
      pendingChanges: 0,
      closeReason: undefined,
    });
    expect(server.doc.getMap('records').get('L1')).toBe('L1');
  });

  it('1008 (too many messages) is transient: connecting, no reason, and reconnect() opens a new socket that sends what is pending', () => {
    const { doc, net, server, connection } = connect();
    server.handshake(net.last);
    edit(doc, 'L1');
    net.last.closeFromServer(1008, 'too many messages');
    expect(connection.state).toMatchObject({
      status: 'connecting',
      closeReason: undefined,
      pendingChanges: 1,
    });

    connection.reconnect();
    expect(net.sockets).toHaveLength(2);
    server.handshake(net.last);
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
    expect(server.doc.getMap('records').get('L1')).toBe('L1');
  });
});

describe('C7: read-only', () => {
  it('is synced once the server state has arrived; the server drops its change and nothing is pending', () => {
    const server = new FakeSyncServer({ readOnly: true });
    server.doc.getMap('records').set('D1', 'partner deal');
    const doc = new Y.Doc();
    edit(doc, 'should-not-exist');
    time = 9_000;
    const { net, connection } = connect({ server, doc, readOnly: true });
    server.handshake(net.last);

    expect(doc.getMap('records').get('D1')).toBe('partner deal');
    expect(server.dropped).toBeGreaterThan(0);
    expect(server.doc.getMap('records').has('should-not-exist')).toBe(false);
    expect(connection.state).toMatchObject({ status: 'synced', pendingChanges: 0, lastSyncedAt: 9_000 });
  });

  it('is not synced before the server state arrives', () => {
    const { net, connection } = connect({ readOnly: true });
    net.last.open();
    expect(connection.state.status).toBe('syncing');
  });
});

describe('C9: destroy', () => {
  it('closes the socket for good and reports offline; the doc keeps its changes', () => {
    const { doc, net, server, connection, states } = connect();
    server.handshake(net.last);
    edit(doc, 'L1');
    connection.destroy();
    expect(net.last.closedByDevice).toBe(true);
    expect(states.at(-1)?.status).toBe('offline');
    connection.setOnline(true);
    connection.reconnect();
    expect(net.sockets).toHaveLength(1);
    expect(doc.getMap('records').get('L1')).toBe('L1');
  });
});

describe('C3: across a reload', () => {
  it('a ledger restored from the kept marks and server state counts the same after a reload', () => {
    const server = new FakeSyncServer();
    const doc = new Y.Doc();
    const ledger = memoryLedger(doc);
    cleanups.push(() => ledger.destroy());
    const first = connect({ server, doc, ledger });
    server.handshake(first.net.last);
    edit(doc, 'L1');
    const afterFirst = Y.encodeStateVector(doc);
    edit(doc, 'L2');
    edit(doc, 'L3');
    server.serve(first.net.last, { acknowledge: false });
    server.acknowledge(first.net.last, afterFirst);
    expect(first.connection.state.pendingChanges).toBe(2);

    // What storage keeps, as plain data (through JSON, as strict as IndexedDB's structured clone).
    const kept = JSON.parse(
      JSON.stringify({ marks: ledger.localChanges(), serverState: storeServerState(ledger.serverState()!) }),
    ) as {
      marks: { client: number; clock: number }[];
      serverState: unknown;
    };
    first.connection.destroy();

    const reloaded = new Y.Doc();
    Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(doc));
    const restored = memoryLedger(reloaded, {
      localChanges: kept.marks,
      serverState: readServerState(kept.serverState)!,
    });
    cleanups.push(() => restored.destroy());
    const second = connect({ doc: reloaded, ledger: restored, online: false, server });
    expect(second.connection.state).toMatchObject({
      status: 'offline',
      pendingChanges: 2,
      lastSyncedAt: 1_000,
    });
    second.connection.setOnline(true);
    server.handshake(second.net.last);
    expect(second.connection.state).toMatchObject({ status: 'synced', pendingChanges: 0 });
  });

  it('the store keeps the marks with the updates and the server state in its settings, so the count is right before any network', async () => {
    const db = new PartnerKpiDb(`connection-test-${Date.now()}-${Math.random()}`);
    cleanups.push(async () => {
      db.close();
      await Dexie.delete(db.name);
    });
    const server = new FakeSyncServer();

    const store = await PartnerStore.open(db, ROOM, 'Asia/Kolkata');
    await store.ready;
    const first = connect({ server, doc: store.partnerDoc.doc, ledger: store.syncLedger });
    server.handshake(first.net.last);
    time = 2_000;
    await store.createLead(lead({ id: 'L1', partnerId: 'p1', repId: 'r1' }));
    const afterFirst = Y.encodeStateVector(store.partnerDoc.doc);
    await store.createLead(lead({ id: 'L2', partnerId: 'p1', repId: 'r1' }));
    await store.createLead(lead({ id: 'L3', partnerId: 'p1', repId: 'r1' }));
    server.serve(first.net.last, { acknowledge: false });
    server.acknowledge(first.net.last, afterFirst);
    expect(first.connection.state.pendingChanges).toBe(2);
    first.connection.destroy();
    store.close();
    expect(readServerState((await db.settings.get(serverStateKey(ROOM)))?.value)?.stateVector).toEqual(
      Y.decodeStateVector(afterFirst),
    );

    // A reload: a new store over the same database, still offline.
    const reopened = await PartnerStore.open(db, ROOM, 'Asia/Kolkata');
    await reopened.ready;
    cleanups.push(() => reopened.close());
    const second = connect({
      server,
      doc: reopened.partnerDoc.doc,
      ledger: reopened.syncLedger,
      online: false,
    });
    // In sync until the first lead was made at 2 s (C4).
    expect(second.connection.state).toMatchObject({
      status: 'offline',
      pendingChanges: 2,
      lastSyncedAt: 2_000,
    });

    time = 3_000;
    second.connection.setOnline(true);
    server.handshake(second.net.last);
    expect(second.connection.state).toMatchObject({
      status: 'synced',
      pendingChanges: 0,
      lastSyncedAt: 3_000,
    });
    expect(Object.keys(server.doc.getMap('leads').toJSON()).sort()).toEqual(['L1', 'L2', 'L3']);
  });

  it('compacting the log keeps the marks of the unsent changes and drops the others', async () => {
    const db = new PartnerKpiDb(`connection-test-${Date.now()}-${Math.random()}`);
    cleanups.push(async () => {
      db.close();
      await Dexie.delete(db.name);
    });
    const store = await PartnerStore.open(db, ROOM, 'Asia/Kolkata');
    await store.ready;
    for (const id of ['L1', 'L2', 'L3']) await store.createLead(lead({ id, partnerId: 'p1', repId: 'r1' }));
    const ledger = store.syncLedger;
    const first = ledger.localChanges()[0]!;
    ledger.remember({ stateVector: new Map([[first.client, first.clock]]), syncedAt: undefined });
    await store.settled();
    store.close();
    // Enough remote updates to make the next open compact the log.
    const empty = Y.encodeStateAsUpdate(new Y.Doc());
    await db.updates.bulkAdd(Array.from({ length: 600 }, () => ({ room: ROOM, update: empty })));

    const compacted = await PartnerStore.open(db, ROOM, 'Asia/Kolkata');
    await compacted.ready;
    compacted.close();
    const rows = await db.updates.where('room').equals(ROOM).toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.localChanges).toHaveLength(2);

    const reopened = await PartnerStore.open(db, ROOM, 'Asia/Kolkata');
    await reopened.ready;
    cleanups.push(() => reopened.close());
    expect(pendingOf(reopened.syncLedger)).toBe(2);
  });
});

function pendingOf(ledger: SyncLedger): number {
  return countUnsent(ledger.localChanges(), ledger.serverState()?.stateVector);
}
