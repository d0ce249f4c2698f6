/**
 * The sync server's hold on who is connected, through real sockets (rules: server/sync/SPEC.md): a token stops working on open
 * sockets when it expires or is revoked (`npm run token -- --revoke` included); a socket that has
 * not shown a valid token costs the server a few KB whatever it sends; limits count per user as
 * well as per address; what the server answers as stored, is stored; a room whose document fails
 * is reloaded from its stored log and its clients resync; a peer that stops answering pings is cut off.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import type { TokenClaims } from '../../server/auth/claims';
import { createMemoryStorage } from '../../server/storage/memory-storage';
import type { ServerStorage } from '../../server/storage/storage';
import { MESSAGE_AWARENESS, MESSAGE_QUERY_AWARENESS } from '../../src/lib/sync/protocol';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';
import {
  createHarness,
  createThreadedHarness,
  rawSocket,
  syncMessage,
  untilDoc,
  type Harness,
} from './sync-harness';

const ROOM = 'program/prog1/partner/p1';
const rep1: TokenClaims = { userId: 'r1', role: 'rep', programId: 'prog1', partnerId: 'p1' };
const rep2: TokenClaims = { userId: 'r2', role: 'rep', programId: 'prog1', partnerId: 'p1' };
const root = fileURLToPath(new URL('../..', import.meta.url));

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function storedDeals(h: Harness): Promise<string[]> {
  await h.server.sync.rooms.get(ROOM)?.settled();
  const doc = new Y.Doc();
  for (const update of (await h.server.storage.load(ROOM)).updates) Y.applyUpdate(doc, update);
  return [...doc.getMap('deals').keys()].sort();
}

describe('R2 — tokens on open sockets', () => {
  it('closes a socket with 4401 once its token expires, and nothing it sends after is stored', async () => {
    let clock = Date.UTC(2026, 11, 6, 9);
    harness = await createHarness({ now: () => clock, sessionCheckMs: 60_000 });
    const client = harness.connect(ROOM, await harness.token(rep1, { ttl: 60, now: clock }));
    await client.synced;
    const other = harness.connect(ROOM, await harness.token(rep2, { ttl: '1h', now: clock }));
    await other.synced;
    await harness.server.sync.checkSessions();
    clock += 61_000;
    await harness.server.sync.checkSessions();
    expect(await client.closed).toBe(4401);
    client.doc.getMap('deals').set('late', 'x');
    other.doc.getMap('deals').set('on-time', 'x');
    await untilDoc(other.doc, () => other.doc.getMap('deals').has('on-time'));
    await until(async () => (await storedDeals(harness!)).includes('on-time'));
    expect(await storedDeals(harness)).toEqual(['on-time']);
  });

  it("revokes a user's tokens on every open socket within a second, and no other user's", async () => {
    harness = await createHarness();
    const revoked = harness.connect(ROOM, await harness.token(rep1));
    const kept = harness.connect(ROOM, await harness.token(rep2));
    await Promise.all([revoked.synced, kept.synced]);
    const start = Date.now();
    await harness.server.storage.revoke('r1', start);
    expect(await revoked.closed).toBe(4401);
    expect(Date.now() - start).toBeLessThan(1500);
    // A token issued until the revocation is refused at connect too; one issued after it works.
    const again = harness.connect(ROOM, await harness.token(rep1, { now: start }));
    expect(await again.closed).toBe(4401);
    const reissued = harness.connect(ROOM, await harness.token(rep1, { now: Date.now() + 2000 }));
    await reissued.synced;
    kept.doc.getMap('deals').set('D1', 'x');
    await until(async () => (await storedDeals(harness!)).includes('D1'));
    expect(kept.provider.wsconnected).toBe(true);
  });

  it('revokes one token by its id, leaving the same user’s other tokens working', async () => {
    harness = await createHarness();
    const firstToken = await harness.token(rep1);
    const tokenId = JSON.parse(Buffer.from(firstToken.split('.')[1]!, 'base64url').toString()).jti as string;
    const first = harness.connect(ROOM, firstToken);
    const second = harness.connect(ROOM, await harness.token(rep1));
    await Promise.all([first.synced, second.synced]);
    await harness.server.storage.revoke(tokenId, Date.now());
    await harness.server.sync.checkSessions();
    expect(await first.closed).toBe(4401);
    second.doc.getMap('deals').set('D2', 'x');
    await until(async () => (await storedDeals(harness!)).includes('D2'));
    expect(second.provider.wsconnected).toBe(true);
  });

  it(
    'npm run token -- --revoke closes the user’s open sockets on a running server',
    { timeout: 60_000 },
    async () => {
      harness = await createHarness();
      const client = harness.connect(ROOM, await harness.token(rep1));
      await client.synced;
      const run = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
        const child = spawn('npm', ['run', '--silent', 'token', '--', '--revoke', 'r1'], {
          cwd: root,
          env: { ...process.env, DATA_DIR: harness!.dataDir },
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout }));
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Revoked every token of r1 issued until \d{4}-/);
      expect(await client.closed).toBe(4401);
    },
  );
});

describe('R1 — before a token is shown', () => {
  it('reads almost nothing of what an unauthenticated socket sends, and cuts it off at once', async () => {
    harness = await createHarness();
    const sockets: Socket[] = [];
    harness.server.server.on('upgrade', (req) => sockets.push(req.socket as Socket));
    const ws = new WebSocket(`${harness.server.origin.replace('http', 'ws')}/sync/${ROOM}`);
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(new Uint8Array(31 * 1024 * 1024));
    expect(await closed).toBe(4401);
    expect(sockets).toHaveLength(1);
    // 31 MB sent; the server read the upgrade and at most a few socket reads of it.
    expect(sockets[0]!.bytesRead).toBeLessThan(1024 * 1024);
  });

  it('refuses a socket with an invalid token at once, whatever it sends meanwhile', async () => {
    harness = await createHarness();
    const ws = new WebSocket(`${harness.server.origin.replace('http', 'ws')}/sync/${ROOM}?token=forged`);
    ws.on('error', () => {});
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    for (let i = 0; i < 100; i++) ws.send(new Uint8Array(64 * 1024));
    expect(await closed).toBe(4401);
    expect(harness.server.sync.counters.bytesReceived).toBe(0);
  });
});

describe('R1 — while the room loads', () => {
  it('keeps what an allowed socket sends before its room is loaded, and answers it once loaded', async () => {
    // A storage that loads the partner's room only when the test says so (a thread, a database).
    const memory = createMemoryStorage();
    let loadNow!: () => void;
    const loadable = new Promise<void>((resolve) => (loadNow = resolve));
    const storage: ServerStorage = Object.assign(Object.create(memory) as ServerStorage, {
      load: async (room: string) => {
        if (room === ROOM) await loadable;
        return memory.load(room);
      },
    });
    harness = await createHarness({ storage });
    const raw = await rawSocket(harness, ROOM, await harness.token(rep1));
    raw.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())));
    // Frames are read in order: once the server answers this ping, it has read the sync step 1 too.
    const pong = new Promise((resolve) => raw.ws.once('pong', resolve));
    raw.ws.ping();
    await pong;
    // Nothing is answered before the room is loaded (0: sync step 1, 1: sync step 2).
    expect(raw.syncSteps(0) + raw.syncSteps(1)).toBe(0);
    loadNow();
    await raw.reply(1);
    expect(raw.syncSteps(1)).toBe(1);
  });
});

describe('R9 — limits per user', () => {
  it('closes a user’s socket past its connection limit with 1013, and takes another user’s', async () => {
    harness = await createHarness({ limits: { connectionsPerUser: 2 } });
    const token = await harness.token(rep1);
    const [a, b] = [harness.connect(ROOM, token), harness.connect(ROOM, token)];
    await Promise.all([a.synced, b.synced]);
    const third = await rawSocket(harness, ROOM, token);
    expect(await third.closed).toBe(1013);
    const otherUser = harness.connect(ROOM, await harness.token(rep2));
    await otherUser.synced;
    expect(otherUser.provider.wsconnected).toBe(true);
  });

  it('shares one rate between all sockets of a user: more sockets buy no more messages', async () => {
    harness = await createHarness({
      limits: { messageBurst: 10, messagesPerSecond: 0.001, userMessagesPerSecond: 0.001 },
    });
    const token = await harness.token(rep1);
    const [a, b] = [await rawSocket(harness, ROOM, token), await rawSocket(harness, ROOM, token)];
    const query = new Uint8Array([MESSAGE_QUERY_AWARENESS]);
    // Six each: within each socket's own burst of ten, past the user's burst of ten.
    for (let i = 0; i < 6; i++) {
      a.send(query);
      b.send(query);
    }
    expect(await Promise.race([a.closed, b.closed])).toBe(1008);
  });

  it('takes more than 64 sockets from one address (carrier NAT), each its own user', async () => {
    harness = await createHarness();
    const sockets = [];
    for (let i = 0; i < 80; i++)
      sockets.push(await rawSocket(harness, ROOM, await harness.token({ ...rep1, userId: `u${i}` })));
    await sockets.at(-1)!.reply(syncProtocol.messageYjsSyncStep1);
    expect(sockets.every((socket) => socket.ws.readyState === WebSocket.OPEN)).toBe(true);
    for (const socket of sockets) socket.ws.close();
  });
});

describe('dead peers', () => {
  it.each([
    ['on its own thread', createThreadedHarness],
    ['inline', createHarness],
  ] as const)(
    'pings every open socket and cuts off one that stops answering: the engine %s',
    async (_where, create) => {
      // A slice every 20 ms: each socket is pinged every 500 ms.
      const h = await create({ limits: { pingIntervalMs: 500 } });
      onTestFinished(() => h.cleanup());
      const url = `${h.server.origin.replace('http', 'ws')}/sync/${ROOM}?token=`;
      const open = (token: string, autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url + encodeURIComponent(token), { autoPong });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        });
      const answering = await open(await h.token(rep1), true);
      const silent = await open(await h.token(rep2), false);
      const silentClosed = new Promise<number>((resolve) => silent.once('close', resolve));
      let pings = 0;
      const thirdPing = new Promise<void>((resolve) =>
        answering.on('ping', () => {
          if (++pings === 3) resolve();
        }),
      );
      // Pinged once and silent, it is cut off when its turn comes again (no close frame: 1006).
      expect(await silentClosed).toBe(1006);
      await thirdPing;
      expect(answering.readyState).toBe(WebSocket.OPEN);
      answering.close();
    },
  );
});

describe('R6 — what the server says is stored', () => {
  it('answers a sync step 1 only once everything in its answer is stored', async () => {
    const inner = createMemoryStorage();
    let open: () => void = () => {};
    let gate = Promise.resolve();
    const storage = {
      ...inner,
      async appendMany(room: string, updates: readonly Uint8Array[]) {
        await gate;
        return inner.appendMany(room, updates);
      },
    };
    harness = await createHarness({ storage });
    const writer = harness.connect(ROOM, await harness.token(rep1));
    await writer.synced;
    gate = new Promise<void>((resolve) => (open = resolve));
    writer.doc.getMap('deals').set('D1', 'x');
    await until(() => harness!.server.sync.rooms.get(ROOM)!.doc.getMap('deals').has('D1'));
    const reader = await rawSocket(harness, ROOM, await harness.token(rep2));
    reader.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())));
    // Held while the edit waits for storage: an answer now would hand out an edit not yet stored.
    await reader.reply(syncProtocol.messageYjsSyncStep1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reader.syncSteps(syncProtocol.messageYjsSyncStep2)).toBe(0);
    open();
    await reader.reply(syncProtocol.messageYjsSyncStep2);
    expect((await inner.load(ROOM)).updates).toHaveLength(1);
  });
});

describe('R5 — an edit that arrives before the handshake', () => {
  it('is held until the device’s sync step 2 brings what it builds on; after the handshake the same would be refused', async () => {
    harness = await createHarness();
    // A device that made two edits offline; the second builds on the first, which the server lacks.
    const device = new Y.Doc();
    device.getMap('deals').set('D1', 'first');
    const before = Y.encodeStateVector(device);
    device.getMap('deals').set('D1', 'second');
    const second = Y.encodeStateAsUpdate(device, before);
    const socket = await rawSocket(harness, ROOM, await harness.token(rep1));
    // As y-websocket does: a local edit goes out as soon as the socket is open…
    socket.send(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, second)));
    // …and the device's step 2 (everything the server lacks) once the server's step 1 has arrived.
    await socket.reply(syncProtocol.messageYjsSyncStep1);
    socket.send(
      syncMessage((encoder) =>
        syncProtocol.writeSyncStep2(encoder, device, Y.encodeStateVector(new Y.Doc())),
      ),
    );
    await until(async () => (await storedDeals(harness!)).includes('D1'));
    const stored = new Y.Doc();
    for (const update of (await harness.server.storage.load(ROOM)).updates) Y.applyUpdate(stored, update);
    expect(stored.getMap('deals').get('D1')).toBe('second');
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);

    // Handshake done: an edit building on something nobody sent is hostile or lost: refused.
    const stranger = new Y.Doc();
    stranger.getMap('deals').set('D2', 'one');
    const from = Y.encodeStateVector(stranger);
    stranger.getMap('deals').set('D2', 'two');
    socket.send(
      syncMessage((encoder) => syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(stranger, from))),
    );
    expect(await socket.closed).toBe(1007);
    expect(await storedDeals(harness)).toEqual(['D1']);
  });

  it('refuses whole a step 2 whose held edit is still ahead after it: nothing of either is stored', async () => {
    harness = await createHarness();
    // An edit that builds on something the device's step 2 will not bring either.
    const stranger = new Y.Doc();
    stranger.getMap('deals').set('D9', 'one');
    const from = Y.encodeStateVector(stranger);
    stranger.getMap('deals').set('D9', 'two');
    const device = new Y.Doc();
    device.getMap('deals').set('D1', 'valid');
    const socket = await rawSocket(harness, ROOM, await harness.token(rep1));
    socket.send(
      syncMessage((encoder) => syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(stranger, from))),
    );
    await socket.reply(syncProtocol.messageYjsSyncStep1);
    socket.send(
      syncMessage((encoder) =>
        syncProtocol.writeSyncStep2(encoder, device, Y.encodeStateVector(new Y.Doc())),
      ),
    );
    expect(await socket.closed).toBe(1007);
    await harness.server.sync.rooms.get(ROOM)?.settled();
    expect(await storedDeals(harness)).toEqual([]);
  });
});

describe('R9 — presence', () => {
  it('relays no reader’s presence, and closes a writer whose presence is not presence', async () => {
    harness = await createHarness();
    const writer = await rawSocket(harness, ROOM, await harness.token(rep1));
    const reader = await rawSocket(
      harness,
      ROOM,
      await harness.token({ userId: 'v1', role: 'vendor_manager', programId: 'prog1' }),
    );
    const presence = (client: number, state: Record<string, string>) => {
      const doc = new Y.Doc();
      doc.clientID = client;
      const awareness = new Awareness(doc);
      awareness.setLocalState(state);
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(encoder, encodeAwarenessUpdate(awareness, [client]));
      return encoding.toUint8Array(encoder);
    };
    reader.send(presence(11, { user: 'vendor' }));
    writer.send(presence(22, { user: 'rep' }));
    await until(() => harness!.server.sync.rooms.get(ROOM)?.awareness.getStates().has(22) === true);
    expect(harness.server.sync.rooms.get(ROOM)!.awareness.getStates().has(11)).toBe(false);
    writer.send(presence(22, { user: 'x'.repeat(64 * 1024) }));
    expect(await writer.closed).toBe(1007);
  });
});

describe('R7 — a room whose document fails', () => {
  it('is reloaded from its stored log; its clients reconnect and every later edit is stored', async () => {
    harness = await createHarness();
    const a = harness.connect(ROOM, await harness.token(rep1));
    const b = harness.connect(ROOM, await harness.token(rep2));
    await Promise.all([a.synced, b.synced]);
    a.doc.getMap('deals').set('before', 'x');
    await until(async () => (await storedDeals(harness!)).includes('before'));
    const room = harness.server.sync.rooms.get(ROOM)!;
    // A listener that throws inside Yjs's transaction cleanup leaves a doc that never emits again.
    room.doc.on('afterTransaction', () => {
      throw new Error('listener failed');
    });
    a.doc.getMap('deals').set('trigger', 'x');
    await until(
      () => harness!.server.sync.rooms.get(ROOM) !== room && harness!.server.sync.counters.roomsBroken === 1,
    );
    // The clients reconnect by themselves (1013), resync, and go on.
    b.doc.getMap('deals').set('after', 'x');
    await until(
      async () =>
        (await storedDeals(harness!)).includes('after') && (await storedDeals(harness!)).includes('trigger'),
    );
    await untilDoc(b.doc, () => b.doc.getMap('deals').has('trigger'));
    expect(await storedDeals(harness)).toEqual(['after', 'before', 'trigger']);
  });
});

async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((resolve) => setImmediate(resolve));
}
