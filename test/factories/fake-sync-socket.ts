/**
 * An in-memory WebSocket and a sync server that a test drives by hand (tldraw's TestSocketPair is the
 * model): nothing moves until the test says so, so a test can hold back, drop or reorder messages
 * and needs no network, no sleeps and no fake timers.
 *
 * The server side speaks the sync server's contract (src/lib/sync/SPEC.md C2): it answers sync
 * step 1 with step 2 and an acknowledgement, applies (unless read-only) and acknowledges step 2 and
 * updates, and says hello with its own step 1.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { MESSAGE_SAVED, MESSAGE_SYNC } from '../../src/lib/sync/protocol';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** What y-websocket 3.1 uses of a WebSocket, and the test's handles on it. */
export class FakeSocket {
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = 2;
  readonly CLOSED = CLOSED;
  binaryType = 'blob';
  readyState = CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Messages the device sent that the server has not read yet. */
  readonly outbox: Uint8Array[] = [];
  /** Whether the device closed this socket itself. */
  closedByDevice = false;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: ArrayBuffer | Uint8Array): void {
    if (this.readyState !== OPEN) throw new Error('send on a socket that is not open');
    this.outbox.push(data instanceof Uint8Array ? data.slice() : new Uint8Array(data));
  }

  close(): void {
    this.closedByDevice = true;
    this.readyState = CLOSED;
  }

  // --- the test's side ---

  /** The server accepted the connection. */
  open(): void {
    this.readyState = OPEN;
    this.onopen?.();
  }

  /** A message from the server arrives. */
  receive(message: Uint8Array): void {
    if (this.readyState !== OPEN) throw new Error('receive on a socket that is not open');
    this.onmessage?.({ data: message.slice().buffer });
  }

  /** The server closes the connection with this code. */
  closeFromServer(code: number, reason = ''): void {
    this.readyState = CLOSED;
    this.onclose?.({ code, reason, wasClean: true });
  }
}

/** Every socket the device opened, in order; `WebSocket` is the constructor to inject. */
export class FakeNetwork {
  readonly sockets: FakeSocket[] = [];

  get WebSocket(): typeof WebSocket {
    const sockets = this.sockets;
    class NetworkSocket extends FakeSocket {
      static readonly CONNECTING = CONNECTING;
      static readonly OPEN = OPEN;
      static readonly CLOSING = 2;
      static readonly CLOSED = CLOSED;
      constructor(url: string, protocols: string | string[] = []) {
        super(url, typeof protocols === 'string' ? [protocols] : protocols);
        sockets.push(this);
      }
    }
    // y-websocket declares the whole DOM WebSocket but uses only what FakeSocket has.
    return NetworkSocket as unknown as typeof WebSocket;
  }

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }
}

export function savedMessage(stateVector: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SAVED);
  encoding.writeVarUint8Array(encoder, stateVector);
  return encoding.toUint8Array(encoder);
}

function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** The server's side of one room. */
export class FakeSyncServer {
  readonly doc = new Y.Doc();
  /** Updates the server dropped because the connection was read-only. */
  dropped = 0;

  constructor(private readonly options: { readOnly?: boolean } = {}) {}

  /** The server's own sync step 1, which it sends when a connection is accepted. */
  greet(socket: FakeSocket): void {
    socket.receive(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)));
  }

  /**
   * Reads everything the device has sent and answers as the real server does. With `acknowledge:
   * false` it stores but does not acknowledge yet (the test then calls `acknowledge`).
   */
  serve(socket: FakeSocket, { acknowledge = true } = {}): void {
    for (const message of socket.outbox.splice(0)) {
      const decoder = decoding.createDecoder(message);
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) continue; // presence: not this server's concern
      const step = decoding.readVarUint(decoder);
      const payload = decoding.readVarUint8Array(decoder);
      if (step === syncProtocol.messageYjsSyncStep1) {
        socket.receive(syncMessage((encoder) => syncProtocol.writeSyncStep2(encoder, this.doc, payload)));
        if (acknowledge) this.acknowledge(socket);
      } else if (this.options.readOnly) {
        this.dropped++;
      } else {
        Y.applyUpdate(this.doc, payload, socket);
        if (acknowledge) this.acknowledge(socket);
      }
    }
  }

  /** Sends the server's state vector (or the one given, to acknowledge only part). */
  acknowledge(socket: FakeSocket, stateVector: Uint8Array = Y.encodeStateVector(this.doc)): void {
    socket.receive(savedMessage(stateVector));
  }

  /** A change made on the server (another device's), sent to this connection as an update. */
  change(socket: FakeSocket, edit: (doc: Y.Doc) => void): void {
    const before = Y.encodeStateVector(this.doc);
    edit(this.doc);
    const update = Y.encodeStateAsUpdate(this.doc, before);
    socket.receive(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update)));
  }

  /** The socket is accepted, both sides exchange step 1 and step 2, and the server acknowledges. */
  handshake(socket: FakeSocket): void {
    socket.open();
    this.greet(socket);
    this.serve(socket);
  }
}
