import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  Batch,
  RemoteSocket,
  SocketRelay,
  binaryFrame,
  type SocketCommand,
  type SocketEvents,
} from '../../../../server/sync/socket-bridge';
import type { SyncRequest } from '../../../../server/sync/sync-server';

/** What SocketRelay uses of a `ws` socket, recorded. */
class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  paused = false;
  sent: Uint8Array[] = [];
  closedWith: number | undefined;
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  send(data: Uint8Array) {
    this.sent.push(data);
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = 2;
  }
  terminate() {
    this.readyState = 3;
    this.emit('close');
  }
  ping() {}
  /** The connection under it: what the relay writes there, framed. */
  readonly connection = {
    written: [] as Uint8Array[],
    write: (frame: Uint8Array) => this.connection.written.push(frame),
  };
}

const REQUEST: SyncRequest = { token: 't', address: '127.0.0.1', room: 'program/p/partner/a' };
const turn = () => new Promise((resolve) => setImmediate(resolve));

function relay(maxInFlightBytes = 1000) {
  const posted: SocketEvents[] = [];
  const transferred: ArrayBuffer[][] = [];
  const relay = new SocketRelay(
    (events, transfer) => {
      posted.push(events);
      transferred.push(transfer);
    },
    maxInFlightBytes,
    () => {},
  );
  const open = () => {
    const ws = new FakeWs();
    relay.open(ws as unknown as WebSocket, REQUEST, ws.connection as unknown as Duplex);
    return ws;
  };
  const command = (consumed: number, ...items: SocketCommand[]) =>
    relay.perform({ t: 'sockets', consumed, items });
  return { relay, posted, transferred, open, command };
}

describe('SocketRelay (the app’s side of the bridge)', () => {
  it('keeps a socket paused from its upgrade until the engine resumes it', async () => {
    const { posted, open, command } = relay();
    const ws = open();
    expect(ws.paused).toBe(true);
    await turn();
    expect(posted[0]!.items).toEqual([{ t: 'open', id: 1, request: REQUEST }]);
    command(1, { t: 'resume', id: 1 });
    expect(ws.paused).toBe(false);
  });

  it('skips a send to a socket that closed here before the engine heard of it', async () => {
    const { open, command } = relay();
    const [gone, here] = [open(), open()];
    gone.terminate();
    const data = new Uint8Array([1, 2, 3]);
    expect(() => command(0, { t: 'send', ids: [1, 2], data })).not.toThrow();
    expect(here.connection.written).toEqual([binaryFrame(data)]);
    expect(gone.connection.written).toEqual([]);
  });

  it('frames a message as ws does: a ws client reads every size of length field', async () => {
    // As the app's thread has it: the connection an upgrade hands over, and `ws` on top of it.
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const upgraded = new Promise<Duplex>((resolve) =>
      server.on('upgrade', (req, socket, head) =>
        wss.handleUpgrade(req, socket, head, () => resolve(socket)),
      ),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const connection = await upgraded;
      // A length in 7 bits, in 16 and in 64; and the empty message.
      const sizes = [0, 3, 125, 126, 65_535, 65_536, 200_000];
      const messages = sizes.map((size) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) % 256));
      const received: Uint8Array[] = [];
      const all = new Promise<void>((done) =>
        client.on('message', (data: Buffer, isBinary) => {
          if (isBinary && received.push(new Uint8Array(data)) === sizes.length) done();
        }),
      );
      for (const message of messages) connection.write(binaryFrame(message));
      await all;
      // Byte for byte (toEqual on 200 KB arrays takes seconds).
      expect(received.map((data) => data.byteLength)).toEqual(sizes);
      expect(received.every((data, i) => Buffer.from(data).equals(messages[i]!))).toBe(true);
    } finally {
      client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('relays each frame in a buffer of its own, moved rather than copied', async () => {
    const { posted, transferred, open, command } = relay();
    const ws = open();
    command(0, { t: 'resume', id: 1 });
    const frame = Buffer.from([9, 8, 7]);
    ws.emit('message', frame, true);
    await turn();
    const [message] = posted[0]!.items.filter((item) => item.t === 'message');
    expect(message).toMatchObject({ id: 1, binary: true, data: new Uint8Array([9, 8, 7]) });
    const data = (message as { data: Uint8Array }).data;
    expect(data.buffer).not.toBe(frame.buffer);
    expect(transferred[0]).toEqual([data.buffer]);
  });

  it('stops reading every socket while the engine is behind, and the ones it paused stay paused', async () => {
    const { posted, open, command } = relay(100);
    const [flooding, quiet, waiting] = [open(), open(), open()];
    command(0, { t: 'resume', id: 1 }, { t: 'resume', id: 2 });
    flooding.emit('message', Buffer.alloc(150), true);
    await turn();
    expect([flooding.paused, quiet.paused, waiting.paused]).toEqual([true, true, true]);
    // The engine took the batch: reading goes on, but not for the socket it never resumed.
    command(posted.at(-1)!.seq);
    expect([flooding.paused, quiet.paused, waiting.paused]).toEqual([false, false, true]);
  });

  it('drops what a socket sends after the engine closed it', async () => {
    const { posted, open, command } = relay();
    const ws = open();
    command(0, { t: 'resume', id: 1 }, { t: 'close', id: 1, code: 1008, reason: 'too many messages' });
    expect(ws.closedWith).toBe(1008);
    ws.emit('message', Buffer.from([1]), true);
    await turn();
    expect(posted.flatMap((events) => events.items).some((item) => item.t === 'message')).toBe(false);
  });
});

describe('RemoteSocket (the engine’s side of the bridge)', () => {
  it('sends one message to a room as one command for all its members', async () => {
    const posted: SocketCommand[][] = [];
    const commands = new Batch<SocketCommand>((items) => posted.push(items));
    const members = [1, 2, 3].map((id) => new RemoteSocket(id, commands));
    const data = new Uint8Array([4]);
    for (const member of members) member.send(data);
    members[0]!.close(1000, 'bye');
    members[0]!.send(data);
    await turn();
    expect(posted).toEqual([
      [
        { t: 'send', ids: [1, 2, 3], data },
        { t: 'close', id: 1, code: 1000, reason: 'bye' },
      ],
    ]);
  });

  it('is closed when the app’s thread says so, and an error nobody listens for is dropped', () => {
    const socket = new RemoteSocket(1, new Batch<SocketCommand>(() => {}));
    let closed = false;
    socket.once('close', () => (closed = true));
    expect(() => socket.received({ t: 'error', id: 1, message: 'reset' })).not.toThrow();
    socket.received({ t: 'closed', id: 1 });
    expect([closed, socket.readyState]).toEqual([true, 3]);
  });
});
