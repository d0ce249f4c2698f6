/**
 * The sync endpoint's edges: Origin and per-address limits at the upgrade, the app's subprotocol
 * (token and "saved" acknowledgements), rooms loaded and unloaded, compaction, /metrics and the
 * demo sign-in API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { COMPACT_AFTER_UPDATES } from '../../server/sync/room';
import { verifyToken } from '../../server/auth/tokens';
import { BEARER_PREFIX, MESSAGE_SAVED, MESSAGE_SYNC, SYNC_SUBPROTOCOL } from '../../src/lib/sync/protocol';
import type { TokenClaims } from '../../server/auth/claims';
import { createHarness, type Harness } from './sync-harness';

const ROOM = 'program/prog1/partner/p1';
const rep: TokenClaims = { userId: 'r1', role: 'rep', programId: 'prog1', partnerId: 'p1' };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((resolve) => setImmediate(resolve));
}

/** A rep's client in ROOM that has made one edit, once the server has stored it. */
async function storedEdit(harness: Harness) {
  const client = harness.connect(ROOM, await harness.token(rep));
  await client.synced;
  client.doc.getMap('deals').set('D1', 'x');
  await until(async () => (await harness.server.storage.load(ROOM)).updates.length === 1);
  return client;
}

/** Opens a socket; resolves with how the upgrade ended (open, or the HTTP status of a refusal). */
function open(url: string, options: { origin?: string; protocols?: string[] } = {}) {
  const ws = new WebSocket(url, options.protocols ?? [], options.origin ? { origin: options.origin } : {});
  const messages: Uint8Array[] = [];
  ws.on('message', (data: Buffer) => messages.push(new Uint8Array(data)));
  ws.on('error', () => {});
  const outcome = new Promise<{ open: true; protocol: string } | { open: false; status: number }>(
    (resolve) => {
      ws.once('open', () => resolve({ open: true, protocol: ws.protocol }));
      ws.once('unexpected-response', (_req, res) => resolve({ open: false, status: res.statusCode ?? 0 }));
    },
  );
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, messages, outcome, closed };
}

const socketUrl = (h: Harness, room: string, query = '') =>
  `${h.server.origin.replace('http', 'ws')}/sync/${room}${query}`;

function savedVectors(messages: Uint8Array[]): Map<number, number>[] {
  return messages.flatMap((message) => {
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MESSAGE_SAVED) return [];
    return [Y.decodeStateVector(decoding.readVarUint8Array(decoder))];
  });
}

describe('at the upgrade', () => {
  it('refuses a page of a foreign origin, and takes this host and ALLOWED_ORIGINS', async () => {
    harness = await createHarness({ allowedOrigins: 'https://partners.example.org' });
    const query = `?token=${await harness.token(rep)}`;
    expect(await open(socketUrl(harness, ROOM, query), { origin: 'https://evil.example' }).outcome).toEqual({
      open: false,
      status: 403,
    });
    expect(
      (await open(socketUrl(harness, ROOM, query), { origin: harness.server.origin }).outcome).open,
    ).toBe(true);
    expect(
      (await open(socketUrl(harness, ROOM, query), { origin: 'https://partners.example.org' }).outcome).open,
    ).toBe(true);
  });

  it('closes the sockets of one address past its limit with 1013, and takes others', async () => {
    harness = await createHarness({ limits: { connectionsPerAddress: 2 } });
    const query = `?token=${await harness.token(rep)}`;
    const first = open(socketUrl(harness, ROOM, query));
    const second = open(socketUrl(harness, ROOM, query));
    await Promise.all([first.outcome, second.outcome]);
    const third = open(socketUrl(harness, ROOM, query));
    expect(await third.closed).toBe(1013);
    first.ws.close();
    await first.closed;
    await until(() => harness!.server.sync.counters.connections === 1);
    const fourth = open(socketUrl(harness, ROOM, query));
    expect((await fourth.outcome).open).toBe(true);
    expect(fourth.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('answers 404 to an upgrade outside /sync/', async () => {
    harness = await createHarness();
    expect(await open(`${harness.server.origin.replace('http', 'ws')}/elsewhere`).outcome).toEqual({
      open: false,
      status: 404,
    });
  });
});

describe("the app's subprotocol", () => {
  it('carries the token, is answered without echoing it, and brings "saved" state vectors', async () => {
    harness = await createHarness();
    const token = await harness.token(rep);
    const socket = open(socketUrl(harness, ROOM), { protocols: [SYNC_SUBPROTOCOL, BEARER_PREFIX + token] });
    expect(await socket.outcome).toEqual({ open: true, protocol: SYNC_SUBPROTOCOL });
    const doc = new Y.Doc();
    doc.getMap('deals').set('D1', 'x');
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(doc));
    socket.ws.send(encoding.toUint8Array(encoder));
    await until(() => savedVectors(socket.messages).some((vector) => vector.get(doc.clientID) === 1));
    expect(savedVectors(socket.messages).at(-1)!.get(doc.clientID)).toBe(1);
    expect((await harness.server.storage.load(ROOM)).updates.length).toBe(1);
  });

  it('sends no "saved" messages to a stock client', async () => {
    harness = await createHarness();
    const client = await storedEdit(harness);
    // The stock client would log "Unable to compute message" for an unknown type; it got none.
    expect(client.provider.wsconnected).toBe(true);
    expect(harness.server.sync.counters.closedByCode.size).toBe(0);
  });
});

describe('rooms', () => {
  it('are unloaded once their last client leaves and their updates are stored', async () => {
    harness = await createHarness({ keepIdleRoomMs: 0 });
    const client = await storedEdit(harness);
    expect(harness.server.sync.rooms.has(ROOM)).toBe(true);
    client.destroy();
    await until(() => !harness!.server.sync.rooms.has(ROOM));
    expect(harness.server.sync.counters.roomsLoaded).toBe(0);
    const again = harness.connect(ROOM, await harness.token(rep));
    await again.synced;
    expect(again.doc.getMap('deals').get('D1')).toBe('x');
  });

  it('stay loaded for a while after their last client leaves, so a reconnect finds them as they were', async () => {
    harness = await createHarness({ keepIdleRoomMs: 400 });
    const client = await storedEdit(harness);
    const loaded = harness.server.sync.rooms.get(ROOM);
    client.destroy();
    // The phone comes back within the wait: the same room, not read again from storage.
    const again = harness.connect(ROOM, await harness.token(rep));
    await again.synced;
    expect(again.doc.getMap('deals').get('D1')).toBe('x');
    // What must not happen has no event to wait for: past the wait set when the first client
    // left, the room someone uses again is still the one loaded.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.server.sync.rooms.get(ROOM)).toBe(loaded);
    // Gone for longer than the wait: unloaded.
    again.destroy();
    const left = Date.now();
    await until(() => !harness!.server.sync.rooms.has(ROOM));
    expect(Date.now() - left).toBeGreaterThanOrEqual(350);
    expect(harness.server.sync.counters.roomsLoaded).toBe(0);
  });

  it(`compact their log into one snapshot after ${COMPACT_AFTER_UPDATES} updates, once the room is quiet`, async () => {
    harness = await createHarness();
    const client = harness.connect(ROOM, await harness.token(rep));
    await client.synced;
    const deals = client.doc.getMap('deals');
    for (let i = 0; i < COMPACT_AFTER_UPDATES + 3; i++) deals.set(`D${i}`, i);
    const storedDeals = async () => {
      const reader = new Y.Doc();
      for (const update of (await harness!.server.storage.load(ROOM)).updates) Y.applyUpdate(reader, update);
      return reader.getMap('deals').size;
    };
    // Stored as they come, then merged once nothing more has come for a moment.
    await until(async () => (await storedDeals()) === COMPACT_AFTER_UPDATES + 3);
    await until(async () => (await harness!.server.storage.load(ROOM)).updates.length < 10);
    expect(await storedDeals()).toBe(COMPACT_AFTER_UPDATES + 3);
  });
});

describe('HTTP', () => {
  it('/metrics reports connections, rooms, updates and bytes stored', async () => {
    // Rooms unloaded at once: the program room the rollup worker loaded is not counted.
    harness = await createHarness({ keepIdleRoomMs: 0 });
    await storedEdit(harness);
    const text = await (await fetch(`${harness.server.origin}/metrics`)).text();
    expect(text).toMatch(/^partner_kpi_sync_connections 1$/m);
    expect(text).toMatch(/^partner_kpi_sync_rooms_loaded 1$/m);
    expect(text).toMatch(/^partner_kpi_sync_updates_stored_total 1$/m);
    expect(text).toMatch(/^partner_kpi_sync_updates_per_second 0\.0\d+$/m);
    expect(Number(/^partner_kpi_storage_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^partner_kpi_process_resident_memory_bytes \d+/m);
  });

  it('signs a demo user in with a token the sync endpoint accepts; refuses unknown users', async () => {
    harness = await createHarness({ demo: true });
    const { users } = (await (await fetch(`${harness.server.origin}/api/demo-users`)).json()) as {
      users: { userId: string; role: string; partnerId?: string; programId: string }[];
    };
    const rep = users.find((user) => user.role === 'rep')!;
    expect(users.some((user) => user.role === 'vendor_manager')).toBe(true);
    const response = await fetch(`${harness.server.origin}/api/demo-sign-in`, {
      method: 'POST',
      body: JSON.stringify({ userId: rep.userId }),
    });
    const signed = (await response.json()) as { token: string; expiresAt: number };
    const verified = await verifyToken(signed.token, harness.server.secret);
    expect(verified).toMatchObject({
      ok: true,
      claims: { userId: rep.userId, role: 'rep', partnerId: rep.partnerId },
    });
    const client = harness.connect(`program/${rep.programId}/partner/${rep.partnerId}`, signed.token);
    await client.synced;
    expect(client.doc.getMap('deals').size).toBeGreaterThan(0);
    expect(
      (
        await fetch(`${harness.server.origin}/api/demo-sign-in`, {
          method: 'POST',
          body: '{"userId":"nobody"}',
        })
      ).status,
    ).toBe(404);
    expect(
      (await fetch(`${harness.server.origin}/api/demo-sign-in`, { method: 'POST', body: 'not json' })).status,
    ).toBe(400);
  });

  it('has no demo API when the demo is off', async () => {
    harness = await createHarness({ demo: false });
    expect((await fetch(`${harness.server.origin}/api/demo-users`)).status).toBe(404);
  });

  it('lists the program’s partners to its vendor staff signing in with a link, and to nobody else', async () => {
    harness = await createHarness({ demo: true });
    const partners = (token?: string) =>
      fetch(`${harness!.server.origin}/api/partners`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
    const vendor = await harness.token({ userId: 'v-anita', role: 'vendor_manager', programId: 'demo' });
    const response = await partners(vendor);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { partners: { id: string; name: string }[] };
    expect(body.partners.length).toBeGreaterThan(1);
    expect(body.partners.every((partner) => Object.keys(partner).sort().join() === 'id,name')).toBe(true);
    // A partner's people see no other partner; no token, a forged one or a revoked one: nothing.
    expect(
      (
        await partners(
          await harness.token({
            userId: 'r1',
            role: 'rep',
            programId: 'demo',
            partnerId: body.partners[0]!.id,
          }),
        )
      ).status,
    ).toBe(403);
    expect((await partners()).status).toBe(401);
    expect((await partners(`${vendor.slice(0, -4)}AAAA`)).status).toBe(401);
    await harness.server.storage.revoke('v-anita', Date.now() + 1000);
    // A server reads the revocations when it starts (and then polls them).
    await harness.server.close();
    await harness.restart();
    expect((await partners(vendor)).status).toBe(401);
    // Another program's vendor manager gets that program's partners: none here.
    const other = await partners(
      await harness.token({ userId: 'v-x', role: 'vendor_manager', programId: 'other' }),
    );
    expect(await other.json()).toEqual({ partners: [] });
  });
});
