/**
 * How long the server takes to fold one partner's single edit and publish it: from a rep's edit
 * sent to the update reaching a vendor's socket on the rollups room, through the real server, edit
 * after edit (y-websocket's own provider on both ends).
 */
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { signToken } from '../../server/auth/tokens';
import type { Deal } from '../../src/lib/domain';
import { openPartnerDoc, readDeal, updateDeal } from '../../src/lib/sync/partner-doc';
import { partnerRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import { partnerIdOf, PROGRAM } from './records';

const EDITS = 60;
const WARM_UP_EDITS = 5;

function connect(
  origin: string,
  room: string,
  token: string,
): { doc: Y.Doc; provider: WebsocketProvider; synced: Promise<void> } {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${origin.replace('http', 'ws')}/sync`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
  });
  const synced = new Promise<void>((resolve) =>
    provider.on('sync', (isSynced: boolean) => isSynced && resolve()),
  );
  return { doc, provider, synced };
}

/** From a rep's edit sent to the rollups room's update reaching a vendor's socket, edit after edit. */
export async function foldLatencies(origin: string, secret: Uint8Array, deals: Deal[]): Promise<number[]> {
  const partnerId = partnerIdOf(0);
  const repToken = await signToken(
    { userId: `${partnerId}-r1`, role: 'rep', programId: PROGRAM, partnerId },
    secret,
    { ttl: '1h' },
  );
  const vendorToken = await signToken({ userId: 'v-1', role: 'vendor_manager', programId: PROGRAM }, secret, {
    ttl: '1h',
  });
  const rep = connect(origin, partnerRoom(PROGRAM, partnerId), repToken);
  const vendor = connect(origin, rollupsRoom(PROGRAM), vendorToken);
  try {
    await Promise.all([rep.synced, vendor.synced]);
    const pd = openPartnerDoc(rep.doc);
    const open = deals.filter((deal) => deal.closedAt === undefined && deal.deletedAt === undefined);
    const latencies: number[] = [];
    for (let i = 0; i < WARM_UP_EDITS + EDITS; i++) {
      const deal = readDeal(pd, open[i % open.length]!.id)!;
      const published = new Promise<number>((resolve) => {
        const seen = (_update: Uint8Array, origin: unknown) => {
          if (origin !== vendor.provider) return;
          vendor.doc.off('update', seen);
          resolve(performance.now());
        };
        vendor.doc.on('update', seen);
      });
      const sent = performance.now();
      updateDeal(pd, deal.id, { amount: deal.amount + 100, updatedAt: Date.now() }, `${partnerId}-r1`);
      const at = await published;
      if (i >= WARM_UP_EDITS) latencies.push(at - sent);
    }
    return latencies;
  } finally {
    // The documents too: each keeps its awareness's timer running until it is destroyed.
    for (const client of [rep, vendor]) {
      client.provider.destroy();
      client.doc.destroy();
    }
  }
}
