/**
 * The baseline of the sync bench (bench/sync): the least a y-websocket server can do.
 * A `ws` server on `/sync/<room>` keeping one Y.Doc per room in memory: it sends sync step 1 to each
 * new socket, answers sync step 1 with step 2, applies sync step 2 and updates, and sends every
 * change of the doc to the room's other sockets. No tokens, no storage, no limits, no presence, no
 * rollups: whatever the real server spends beyond this is the price of those.
 *
 * `node --import tsx bench/sync/relay.ts [port]` runs it alone and prints its port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { once } from 'node:events';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { WebSocketServer, type WebSocket } from 'ws';

/** y-websocket's message type for sync messages (the others — presence, auth — are ignored here). */
const MESSAGE_SYNC = 0;
const PATH_PREFIX = '/sync/';

interface RelayRoom {
  doc: Y.Doc;
  sockets: Set<WebSocket>;
}

export interface MinimalRelay {
  server: Server;
  port: number;
  /** Rooms in memory (kept until the relay closes, as the stock server does without persistence). */
  rooms: Map<string, RelayRoom>;
  close(): Promise<void>;
}

function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

function roomOf(rooms: Map<string, RelayRoom>, name: string): RelayRoom {
  let room = rooms.get(name);
  if (room) return room;
  const created: RelayRoom = { doc: new Y.Doc({ gc: true }), sockets: new Set() };
  // The socket an update came from is its origin: everyone else in the room gets it.
  created.doc.on('update', (update: Uint8Array, origin: unknown) => {
    const message = syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update));
    for (const socket of created.sockets)
      if (socket !== origin && socket.readyState === socket.OPEN) socket.send(message);
  });
  rooms.set(name, created);
  room = created;
  return room;
}

export async function startMinimalRelay({
  host = '127.0.0.1',
  port = 0,
}: { host?: string; port?: number } = {}): Promise<MinimalRelay> {
  const rooms = new Map<string, RelayRoom>();
  const server = createServer((_req, res) => res.writeHead(404).end());
  // Compression off, as on the real server (ws's default for servers): the comparison is of the
  // sync work, not of deflate.
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith(PATH_PREFIX)) return ws.close(1008, 'not a sync path');
    const room = roomOf(rooms, path.slice(PATH_PREFIX.length));
    room.sockets.add(ws);
    // Without an error handler a malformed frame would crash the process (a pitfall of the stock server).
    ws.on('error', () => ws.terminate());
    ws.on('close', () => room.sockets.delete(ws));
    ws.on('message', (data: Buffer) => {
      try {
        const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        syncProtocol.readSyncMessage(decoder, encoder, room.doc, ws);
        // Only sync step 1 writes a reply (step 2) after the message type.
        if (encoding.length(encoder) > 1) ws.send(encoding.toUint8Array(encoder));
      } catch {
        ws.close(1007, 'malformed message');
      }
    });
    ws.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, room.doc)));
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    rooms,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((done) => server.close(done));
      for (const room of rooms.values()) room.doc.destroy();
      rooms.clear();
    },
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const relay = await startMinimalRelay({ port: Number(process.argv[2] ?? 0) });
  console.log(`minimal relay on ws://127.0.0.1:${relay.port}${PATH_PREFIX}<room>`);
}
