/**
 * The server as `npm start` runs it: the sockets on the app's thread, the engine (rooms, checks,
 * storage, rollups) on a thread of its own, between them only the socket bridge
 * (server/sync/socket-bridge.ts) and a few calls. The sync server's own rules are tested on an
 * engine on the test's thread (sync-server, sync-sessions, sync-endpoint, confidentiality); these
 * tests show that each kind of thing a socket does crosses the bridge both ways.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  CLOSE_FORBIDDEN,
  CLOSE_INVALID,
  CLOSE_UNAUTHORIZED,
  MESSAGE_SYNC,
} from '../../src/lib/sync/protocol';
import type { TokenClaims } from '../../server/auth/claims';
import type { RunningServer } from '../../server/main';
import { createThreadedHarness, rawSocket, untilDoc, type Harness } from './sync-harness';

const ROOM = 'program/prog1/partner/p1';
const rep1: TokenClaims = { userId: 'r1', role: 'rep', programId: 'prog1', partnerId: 'p1' };
const rep2: TokenClaims = { userId: 'r2', role: 'rep', programId: 'prog1', partnerId: 'p1' };
const otherPartnersRep: TokenClaims = { userId: 'r9', role: 'rep', programId: 'prog1', partnerId: 'p2' };

let harness: Harness<RunningServer> | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function twoWriters(h: Harness<RunningServer>) {
  const a = h.connect(ROOM, await h.token(rep1));
  const b = h.connect(ROOM, await h.token(rep2));
  await Promise.all([a.synced, b.synced]);
  return { a, b };
}

describe('R11: the engine on its own thread', () => {
  it('sends one writer’s edit to the other, stores it, and serves it after a restart', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    a.doc.getMap('meta').set('note', 'from a');
    await untilDoc(b.doc, () => b.doc.getMap('meta').get('note') === 'from a');
    // "Saved" comes once it is stored: the stock client's sync state, then a restart proves it.
    expect((await harness.server.counters()).updatesStored).toBeGreaterThanOrEqual(1);
    a.destroy();
    b.destroy();
    await harness.server.close();
    await harness.restart();
    const later = harness.connect(ROOM, await harness.token(rep2));
    await later.synced;
    expect(later.doc.getMap('meta').get('note')).toBe('from a');
  });

  it('closes a socket with no valid token (4401) and one outside its partner (4403)', async () => {
    harness = await createThreadedHarness();
    const forged = harness.connect(ROOM, await harness.token(rep1, { secret: new Uint8Array(32).fill(7) }));
    expect(await forged.closed).toBe(CLOSE_UNAUTHORIZED);
    const outsider = harness.connect(ROOM, await harness.token(otherPartnersRep));
    expect(await outsider.closed).toBe(CLOSE_FORBIDDEN);
    expect((await harness.server.counters()).closedByCode.get(CLOSE_FORBIDDEN)).toBe(1);
  });

  it('sends a partner room’s broadcasts to its members only: another partner’s socket gets not a byte of them', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    const otherRoom = 'program/prog1/partner/p2';
    const otherWriter = harness.connect(otherRoom, await harness.token(otherPartnersRep));
    await otherWriter.synced;
    const otherReader = await rawSocket(
      harness,
      otherRoom,
      await harness.token({ ...otherPartnersRep, userId: 'r8' }),
    );
    for (let n = 0; n < 20; n++) a.doc.getMap('meta').set(`n${n}`, `secret of p1 #${n}`);
    otherWriter.doc.getMap('meta').set('own', 'news of p2');
    await untilDoc(b.doc, () => b.doc.getMap('meta').get('n19') === 'secret of p1 #19');
    const received = () => Buffer.concat(otherReader.messages.map((message) => Buffer.from(message)));
    // p2's own edit reached its other socket: the broadcasts were going out meanwhile.
    await expect.poll(() => received().includes('news of p2')).toBe(true);
    expect(received().includes('secret of p1')).toBe(false);
  });

  it('closes the sender of a malformed update only; the others keep syncing', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    const raw = await rawSocket(harness, ROOM, await harness.token(rep1));
    raw.send(new Uint8Array([MESSAGE_SYNC, 2, 200, 1, 2, 3]));
    expect(await raw.closed).toBe(CLOSE_INVALID);
    b.doc.getMap('meta').set('after', 'still syncing');
    await untilDoc(a.doc, () => a.doc.getMap('meta').get('after') === 'still syncing');
  });

  it('goes on when members drop while their room’s edits are being sent to them', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    for (let i = 0; i < 20; i++) {
      const leaving = await rawSocket(harness, ROOM, await harness.token(rep2));
      // In the room: the server has sent its sync step 1.
      await leaving.reply(0);
      a.doc.getMap('meta').set('n', i);
      leaving.ws.terminate();
    }
    await untilDoc(b.doc, () => b.doc.getMap('meta').get('n') === 19);
    expect((await harness.server.counters()).connections).toBe(2);
  });

  it('relays presence between the writers of a room', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    a.provider.awareness.setLocalStateField('user', { name: 'Asha' });
    const names = () =>
      [...b.provider.awareness.getStates().values()].map(
        (state) => (state as { user?: { name: string } }).user?.name,
      );
    await new Promise<void>((resolve) => {
      const seen = () => names().includes('Asha') && resolve();
      b.provider.awareness.on('change', seen);
      seen();
    });
    expect(names()).toContain('Asha');
  });

  it('answers /metrics and the partners API from the engine', async () => {
    harness = await createThreadedHarness();
    await twoWriters(harness);
    const metrics = await fetch(`${harness.server.origin}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/^partner_kpi_sync_connections 2$/m);
    expect(metrics).toMatch(/^partner_kpi_sync_rooms_loaded 1$/m);
    const partners = await fetch(`${harness.server.origin}/api/partners`, {
      headers: { Authorization: `Bearer ${await harness.token(rep1)}` },
    });
    // A rep lists no partners; the engine's answer came through the call.
    expect(partners.status).toBe(403);
  });

  it('closes every socket with 1001 when the server stops, having stored what they sent', async () => {
    harness = await createThreadedHarness();
    const { a, b } = await twoWriters(harness);
    a.doc.getMap('meta').set('last', 'before stop');
    await untilDoc(b.doc, () => b.doc.getMap('meta').get('last') === 'before stop');
    const closes = [a, b].map(
      (client) =>
        new Promise<number>((resolve) =>
          client.provider.on('connection-close', (event) => event && resolve(event.code)),
        ),
    );
    await harness.server.close();
    expect(await Promise.all(closes)).toEqual([1001, 1001]);
    a.destroy();
    b.destroy();
    await harness.restart();
    const doc = new Y.Doc();
    const later = harness.connect(ROOM, await harness.token(rep1), doc);
    await later.synced;
    expect(doc.getMap('meta').get('last')).toBe('before stop');
  });
});
