/**
 * The baseline of the sync bench (bench/sync): the least a y-websocket server can do.
 * A `ws` server on `/sync/<room>` keeping one Y.Doc per room in memory: it sends sync step 1 to each
 * new socket, answers sync step 1 with step 2, applies sync step 2 and updates, and sends every
 * change of the doc to the room's other sockets. No tokens, no storage, no limits, no presence, no
 * rollups: whatever the real server spends beyond this is the price of those.
 *
 * With `roomsOnThread`, the rooms live on a second thread (relay-thread.ts), as our server's engine
 * does: the bench measures what that crossing alone costs.
 *
 * `node --import tsx bench/sync/relay.ts [port] [--rooms-on-thread]` runs it alone and prints its port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { threadSource } from '../../server/thread-source';
import { RelayRooms, turnBatch } from './relay-rooms';
import type { RelayCommand, RelayEvent } from './relay-thread';

const PATH_PREFIX = '/sync/';

export interface MinimalRelay {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** How a relay's sockets reach its rooms: on the same thread, or relayed to a second one. */
interface RoomsOf {
  join(ws: WebSocket, room: string): void;
  receive(ws: WebSocket, data: Uint8Array): void;
  leave(ws: WebSocket): void;
  close(): Promise<void>;
}

export async function startMinimalRelay({
  host = '127.0.0.1',
  port = 0,
  roomsOnThread = false,
}: { host?: string; port?: number; roomsOnThread?: boolean } = {}): Promise<MinimalRelay> {
  const rooms = roomsOnThread ? roomsOnASecondThread() : roomsHere();
  const server = createServer((_req, res) => res.writeHead(404).end());
  // Compression off, as on the real server (ws's default for servers): the comparison is of the
  // sync work, not of deflate.
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith(PATH_PREFIX)) return ws.close(1008, 'not a sync path');
    // Without an error handler a malformed frame would crash the process (a pitfall of the stock server).
    ws.on('error', () => ws.terminate());
    ws.on('close', () => rooms.leave(ws));
    ws.on('message', (data: Buffer) =>
      rooms.receive(ws, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    );
    rooms.join(ws, path.slice(PATH_PREFIX.length));
  });
  server.listen(port, host);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((done) => server.close(done));
      await rooms.close();
    },
  };
}

const sendTo = (ws: WebSocket, message: Uint8Array) => {
  if (ws.readyState === ws.OPEN) ws.send(message);
};
const malformed = (ws: WebSocket) => ws.close(1007, 'malformed message');

function roomsHere(): RoomsOf {
  const rooms = new RelayRooms<WebSocket>(sendTo, malformed);
  return {
    join: (ws, room) => rooms.join(ws, room),
    receive: (ws, data) => rooms.receive(ws, data),
    leave: (ws) => rooms.leave(ws),
    close: async () => rooms.destroy(),
  };
}

/** The rooms on a worker thread (relay-thread.ts); each socket is a number there. */
function roomsOnASecondThread(): RoomsOf {
  const worker = new Worker(threadSource(new URL('./relay-thread.ts', import.meta.url)), { eval: true });
  const sockets = new Map<number, WebSocket>();
  const ids = new WeakMap<WebSocket, number>();
  let nextId = 1;
  const events = turnBatch<RelayEvent>((items) => {
    const transfer = items.flatMap((item) => (item.t === 'message' ? [item.data.buffer as ArrayBuffer] : []));
    worker.postMessage(items, transfer);
  });
  worker.on('message', (commands: RelayCommand[]) => {
    for (const command of commands)
      if (command.t === 'send') {
        for (const id of command.ids) {
          const ws = sockets.get(id);
          if (ws) sendTo(ws, command.data);
        }
      } else {
        const ws = sockets.get(command.id);
        if (ws) malformed(ws);
      }
  });
  return {
    join(ws, room) {
      const id = nextId++;
      sockets.set(id, ws);
      ids.set(ws, id);
      events.push({ t: 'open', id, room });
    },
    // A copy in a buffer of its own, which moves to the worker without another.
    receive: (ws, data) => events.push({ t: 'message', id: ids.get(ws)!, data: data.slice() }),
    leave(ws) {
      const id = ids.get(ws)!;
      sockets.delete(id);
      events.push({ t: 'closed', id });
    },
    close: () => worker.terminate().then(() => undefined),
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const relay = await startMinimalRelay({
    port: Number(process.argv[2] ?? 0),
    roomsOnThread: process.argv[3] === '--rooms-on-thread',
  });
  console.log(`minimal relay on ws://127.0.0.1:${relay.port}${PATH_PREFIX}<room>`);
}
