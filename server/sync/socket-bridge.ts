/**
 * Sockets read and written on one thread, served by a sync server on another (engine-thread.ts):
 * the app's thread owns the network sockets, since a socket cannot move between threads, and
 * relays what they do; the engine's thread sees each as a `RemoteSocket`, a `SyncSocket` like any
 * other, so the sync server runs there unchanged. Both directions go in batches, one message per
 * turn of the event loop: at a thousand edits a second each sent on to a room, one message per
 * frame would cost more than the frames.
 *
 * The app's thread reads no faster than the engine takes what it read: past `maxInFlightBytes` not
 * yet taken, it stops reading every socket until the engine has caught up with half of it, as one
 * thread busy with a room read nothing meanwhile (the sync server's rates apply in the engine).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { SyncRequest, SyncSocket } from './sync-server';

/** What the app's thread tells the engine's about its sockets. */
export type SocketEvent =
  | { t: 'open'; id: number; request: SyncRequest }
  | { t: 'message'; id: number; data: Uint8Array; binary: boolean }
  | { t: 'pong'; id: number }
  | { t: 'error'; id: number; message: string }
  | { t: 'closed'; id: number };

/** A batch of socket events; `seq` numbers it for the engine's `consumed`. */
export interface SocketEvents {
  t: 'sockets';
  seq: number;
  items: SocketEvent[];
}

/** A batch of commands; `consumed`: the last batch of events the engine has taken in whole. */
export interface SocketCommands {
  t: 'sockets';
  consumed: number;
  items: SocketCommand[];
}

/** What the engine's thread asks the app's to do with a socket. */
export type SocketCommand =
  /** One message to several sockets: a room's broadcast is one item, not one per member. */
  | { t: 'send'; ids: number[]; data: Uint8Array }
  | { t: 'close'; id: number; code: number; reason: string }
  | { t: 'terminate'; id: number }
  | { t: 'pause'; id: number }
  | { t: 'resume'; id: number }
  | { t: 'ping'; id: number };

/** Items pushed in one turn of the event loop, posted together at its end, in order. */
export class Batch<T> {
  private items: T[] = [];

  constructor(private readonly post: (items: T[]) => void) {}

  push(item: T): void {
    if (this.items.push(item) === 1) setImmediate(() => this.flush());
  }

  /** The item pushed last, while it waits (to add to it). */
  get last(): T | undefined {
    return this.items[this.items.length - 1];
  }

  /** Posts what is waiting now (before a reply that must come after it). */
  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.post(items);
  }
}

/** A socket of the app's thread, as the sync server on the engine's thread uses it. */
export class RemoteSocket extends EventEmitter implements SyncSocket {
  readonly OPEN = 1;
  /** `ws`'s states: open, closing (a close was asked for), closed (the app's thread said so). */
  readyState: number = this.OPEN;

  constructor(
    private readonly id: number,
    private readonly commands: Batch<SocketCommand>,
  ) {
    super();
  }

  send(data: Uint8Array): void {
    if (this.readyState !== this.OPEN) return;
    // A room sends one message to its members one after another: they share one item.
    const last = this.commands.last;
    if (last?.t === 'send' && last.data === data) last.ids.push(this.id);
    else this.commands.push({ t: 'send', ids: [this.id], data });
  }

  close(code: number, reason: string): void {
    if (this.readyState !== this.OPEN) return;
    this.readyState = CLOSING;
    this.commands.push({ t: 'close', id: this.id, code, reason });
  }

  terminate(): void {
    if (this.readyState !== CLOSED) this.commands.push({ t: 'terminate', id: this.id });
  }

  pause(): void {
    this.commands.push({ t: 'pause', id: this.id });
  }

  resume(): void {
    if (this.readyState !== CLOSED) this.commands.push({ t: 'resume', id: this.id });
  }

  ping(): void {
    if (this.readyState === this.OPEN) this.commands.push({ t: 'ping', id: this.id });
  }

  /** What the app's thread said the socket did. */
  received(event: Exclude<SocketEvent, { t: 'open' }>): void {
    switch (event.t) {
      case 'message':
        return void this.emit('message', event.data, event.binary);
      case 'pong':
        return void this.emit('pong');
      case 'error':
        // An EventEmitter throws an 'error' nobody listens to; a socket refused at once has no listener.
        if (this.listenerCount('error') > 0) this.emit('error', new Error(event.message));
        return;
      case 'closed':
        this.readyState = CLOSED;
        return void this.emit('close');
    }
  }
}

const CLOSING = 2;
const CLOSED = 3;

/**
 * The app's side: the `ws` sockets, relayed to the engine. A socket is paused from its upgrade
 * until the engine resumes it (its token checked, R1), and while the engine is behind; what a socket
 * sends after the engine has closed it is dropped here.
 */
export class SocketRelay {
  /** Each socket's `ws` and the connection under it, to which a room's messages are written framed (perform). */
  private readonly sockets = new Map<number, { ws: WebSocket; connection: Duplex }>();
  /** Sockets the engine wants paused (every new one, until its token is checked). */
  private readonly pausedByEngine = new Set<number>();
  /** Sockets the engine has closed: what they still send is not relayed. */
  private readonly closedByEngine = new Set<number>();
  private nextId = 1;
  private seq = 0;
  /** Bytes of each batch of events not yet taken by the engine, by batch. */
  private readonly inFlight = new Map<number, number>();
  private inFlightBytes = 0;
  private reading = true;
  private readonly events: Batch<SocketEvent>;

  constructor(
    post: (events: SocketEvents, transfer: ArrayBuffer[]) => void,
    private readonly maxInFlightBytes: number,
    private readonly log: (line: string) => void,
  ) {
    this.events = new Batch<SocketEvent>((items) => {
      const seq = ++this.seq;
      const transfer: ArrayBuffer[] = [];
      let bytes = 0;
      for (const item of items)
        if (item.t === 'message') {
          bytes += item.data.byteLength;
          transfer.push(item.data.buffer as ArrayBuffer);
        }
      if (bytes > 0) {
        this.inFlight.set(seq, bytes);
        this.inFlightBytes += bytes;
        if (this.reading && this.inFlightBytes > this.maxInFlightBytes) this.setReading(false);
      }
      post({ t: 'sockets', seq, items }, transfer);
    });
  }

  private readonly writeFailed = (error?: Error | null): void => {
    if (error) this.log(`sync: send failed: ${error.message}`);
  };

  /** Relays a socket that has just opened; `connection` is the upgraded one under it (uncompressed: syncSocketServer). */
  open(ws: WebSocket, request: SyncRequest, connection: Duplex): void {
    const id = this.nextId++;
    ws.pause();
    this.pausedByEngine.add(id);
    this.sockets.set(id, { ws, connection });
    this.events.push({ t: 'open', id, request });
    ws.on('message', (data, binary) => {
      if (!this.closedByEngine.has(id)) this.events.push({ t: 'message', id, data: copyOf(data), binary });
    });
    ws.on('pong', () => this.events.push({ t: 'pong', id }));
    ws.on('error', (error) => this.events.push({ t: 'error', id, message: error.message }));
    ws.once('close', () => {
      this.sockets.delete(id);
      this.pausedByEngine.delete(id);
      this.closedByEngine.delete(id);
      this.events.push({ t: 'closed', id });
    });
  }

  /** Posts the events waiting now (before a call that must come after them). */
  flush(): void {
    this.events.flush();
  }

  /** Carries out the engine's commands, in order. */
  perform({ consumed, items }: SocketCommands): void {
    for (const [seq, bytes] of this.inFlight) {
      if (seq > consumed) break;
      this.inFlightBytes -= bytes;
      this.inFlight.delete(seq);
    }
    if (!this.reading && this.inFlightBytes <= this.maxInFlightBytes / 2) this.setReading(true);
    for (const command of items) {
      if (command.t === 'send') {
        // Framed once for all the members it goes to, where ws.send would frame it for each: at a
        // thousand edits a second sent on to rooms of twenty, framing was a fifth of this thread's
        // work. `ws` writes to the same connection synchronously (no compression, no queue), so
        // its own frames (pings, closes) stay in order with these.
        const frame = binaryFrame(command.data);
        for (const id of command.ids) {
          const open = this.sockets.get(id);
          // A socket closed here may still be a member there until the engine hears of it. A
          // failed write also ends the connection, which `ws` turns into its close.
          if (open && open.ws.readyState === open.ws.OPEN) open.connection.write(frame, this.writeFailed);
        }
        continue;
      }
      const ws = this.sockets.get(command.id)?.ws;
      if (!ws) continue;
      switch (command.t) {
        case 'close':
          this.closedByEngine.add(command.id);
          ws.close(command.code, command.reason);
          break;
        case 'terminate':
          ws.terminate();
          break;
        case 'pause':
          this.pausedByEngine.add(command.id);
          ws.pause();
          break;
        case 'resume':
          this.pausedByEngine.delete(command.id);
          if (this.reading) ws.resume();
          break;
        case 'ping':
          ws.ping();
          break;
      }
    }
  }

  /** Cuts off every socket (the engine is gone: their clients reconnect, and are refused until it is back). */
  terminateAll(): void {
    for (const { ws } of this.sockets.values()) ws.terminate();
  }

  private setReading(reading: boolean): void {
    this.reading = reading;
    if (!reading)
      this.log(
        `sync: the engine is ${this.inFlightBytes} bytes behind; reading no socket until it catches up`,
      );
    for (const [id, { ws }] of this.sockets) {
      if (this.pausedByEngine.has(id)) continue;
      if (reading) ws.resume();
      else ws.pause();
    }
  }
}

/**
 * `data` as one final, unmasked binary WebSocket frame (RFC 6455 §5.2), header and payload in one
 * buffer: what a server's `ws.send(data)` puts on the wire.
 */
export function binaryFrame(data: Uint8Array): Buffer {
  const length = data.byteLength;
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) frame[1] = length;
  else if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.set(data, header);
  return frame;
}

/** A frame's bytes in a buffer of their own, which then moves to the engine without a copy. */
function copyOf(data: RawData): Uint8Array {
  return Array.isArray(data) ? new Uint8Array(Buffer.concat(data)) : new Uint8Array(data);
}
