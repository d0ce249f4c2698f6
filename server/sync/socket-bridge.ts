/**
 * Sockets read and written on one thread, served by a sync server on another (engine-thread.ts):
 * the app's thread owns the network sockets, since a socket cannot move between threads, and
 * relays what they do; the engine's thread sees each as a `RemoteSocket`, a `SyncSocket` like any
 * other, so the sync server runs there unchanged. Both directions go in batches, one message per
 * turn of the event loop: at a thousand edits a second each sent on to a room, one message per
 * frame would cost more than the frames.
 */
import { EventEmitter } from 'node:events';
import type { SyncRequest, SyncSocket } from './sync-server';

/** What the app's thread tells the engine's about its sockets. */
export type SocketEvent =
  | { t: 'open'; id: number; request: SyncRequest }
  | { t: 'message'; id: number; data: Uint8Array; binary: boolean }
  | { t: 'pong'; id: number }
  | { t: 'error'; id: number; message: string }
  | { t: 'closed'; id: number };

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
