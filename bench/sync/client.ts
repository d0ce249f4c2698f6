/**
 * The sync bench's device: a small y-websocket-protocol client over `ws` (sync step 1/2, updates,
 * the app's `saved` acknowledgement; no awareness, no WebsocketProvider timers), so that 1,000 fit
 * in one process. It makes its edits with the app's own `updateDeal` (a title and updatedAt, what a
 * real edit of a deal sends) and reads what it receives only far enough to find each edit's number
 * (bench/sync/tally.ts).
 *
 * The clients share the machine's cores with the server they measure, so what is not the server's
 * work is done outside the measured load: each client makes its edits before it (`prepare`) and
 * sends them one by one during it, and a room's checker applies what it receives only after it
 * (`holding`). Making the edits took a fifth of the clients' CPU, the checkers' applying a tenth.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { WebSocket, type RawData } from 'ws';
import { openPartnerDoc, updateDeal, type PartnerDoc } from '../../src/lib/sync/partner-doc';
import { BEARER_PREFIX, MESSAGE_SAVED, MESSAGE_SYNC, SYNC_SUBPROTOCOL } from '../../src/lib/sync/protocol';
import type { ClientPlan } from './plan';
import { markedTitle, type Tally } from './tally';

/** A sync message (y-websocket's message type 0) of what `write` encodes. */
export function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/**
 * One device. A partner client keeps only its own deal in `doc` (unless it is the room's checker,
 * which keeps everything); the vendor console keeps the program document.
 */
export class SyncClient {
  readonly doc = new Y.Doc();
  readonly pd: PartnerDoc | undefined;
  private ws: WebSocket | undefined;
  /** Local edits go out as they happen once this is set (the checker's seeding goes out as one update). */
  live = false;
  updatesSeen = 0;
  closedByServer: number | undefined;
  private closing = false;
  /** Resolvers of sync step 1s sent, answered in order by step 2s. */
  private readonly stepTwos: (() => void)[] = [];
  /** Send times (ms) of edits not yet acknowledged as stored (our server's `saved` message). */
  private readonly unsaved: number[] = [];
  private unsavedHead = 0;
  /** The title of this client's last edit made (prepared). */
  lastTitle = '';
  /** Edits made ahead, in the order they are to be sent, each with its number (undefined once sent). */
  private readonly prepared: ({ seq: number; update: Uint8Array } | undefined)[] = [];
  private preparedHead = 0;
  /** The `updatedAt` (ms) of the last edit made. */
  private madeAt = 0;
  /** While set, a checker keeps what it receives for `applyHeld` instead of applying it. */
  holding = false;
  private readonly held: Uint8Array[] = [];

  constructor(
    readonly room: string,
    readonly plan: ClientPlan,
    readonly full: boolean,
    /** Where this client's edits and receipts are counted (the warm-up's, then the load's). */
    public tally: Tally | undefined,
    kind: 'partner' | 'program',
  ) {
    this.pd = kind === 'partner' ? openPartnerDoc(this.doc) : undefined;
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (this.live && origin !== this) this.sendUpdate(update);
    });
  }

  connect(base: string): Promise<void> {
    // The app's subprotocol (the server then acknowledges stored edits), the token beside it.
    const protocols =
      this.plan.token === undefined
        ? [SYNC_SUBPROTOCOL]
        : [SYNC_SUBPROTOCOL, BEARER_PREFIX + this.plan.token];
    const ws = new WebSocket(base + this.room, protocols, { perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data: RawData) => this.onMessage(data as Buffer));
    // Errors end in a close, which is what is counted.
    ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      ws.once('open', () => void this.roundTrip().then(resolve));
      ws.once('close', (code) => {
        if (!this.closing) this.closedByServer = code;
        reject(new Error(`${this.room}: the server closed the socket (${code})`));
      });
    });
  }

  /** Sync step 1, resolved by the step 2 that answers it: everything sent before has been applied. */
  roundTrip(): Promise<void> {
    return new Promise((resolve) => {
      this.stepTwos.push(resolve);
      this.ws!.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, this.doc)));
    });
  }

  sendUpdate(update: Uint8Array): void {
    this.ws!.send(syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update)));
  }

  /**
   * Makes the edits numbered `seqs` of this client's deal now, each marked with its number for the
   * tally whose mark is `mark`, to be sent by `edit`. Each is a whole edit, as one made at its
   * time would be: a later `updatedAt` than the one before (updateDeal writes only a later one) and
   * so an edit-log entry of its own (sync SPEC S13: its key holds the time).
   */
  prepare(seqs: readonly number[], mark: string): void {
    const live = this.live;
    this.live = false;
    let made: Uint8Array | undefined;
    const keep = (update: Uint8Array) => (made = update);
    this.doc.on('update', keep);
    try {
      for (const seq of seqs) {
        made = undefined;
        this.madeAt = Math.max(Date.now(), this.madeAt + 1);
        this.lastTitle = markedTitle(seq, performance.now(), mark);
        updateDeal(
          this.pd!,
          this.plan.dealId,
          { title: this.lastTitle, updatedAt: this.madeAt },
          this.plan.userId,
        );
        if (made === undefined) throw new Error(`client ${this.plan.index}: edit ${seq} changed nothing`);
        this.prepared.push({ seq, update: made });
      }
    } finally {
      this.doc.off('update', keep);
      this.live = live;
    }
  }

  /** Sends edit `seq`, made earlier by `prepare`, and counts it sent now. */
  edit(seq: number): void {
    const next = this.prepared[this.preparedHead];
    if (next?.seq !== seq)
      throw new Error(`client ${this.plan.index}: edit ${seq} was not the next one prepared`);
    // Sent: not kept any longer.
    this.prepared[this.preparedHead++] = undefined;
    const sentAt = performance.now();
    this.tally!.sent(seq, this.plan.index, sentAt);
    if (this.plan.token !== undefined) this.unsaved.push(sentAt);
    this.sendUpdate(next.update);
  }

  /** Applies what a checker received while `holding`, in the order it came. */
  applyHeld(): void {
    this.holding = false;
    for (const update of this.held.splice(0)) Y.applyUpdate(this.doc, update, this);
  }

  private onMessage(data: Buffer): void {
    const at = performance.now();
    const decoder = decoding.createDecoder(data);
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_SAVED) {
      // Acknowledgements of setup messages come before any edit is pending; only edits' count.
      if (this.tally?.measuring && this.unsavedHead < this.unsaved.length)
        this.tally.acks.push(at - this.unsaved[this.unsavedHead++]!);
      return;
    }
    if (type !== MESSAGE_SYNC) return; // presence: not used here
    const step = decoding.readVarUint(decoder);
    if (step === syncProtocol.messageYjsSyncStep1) {
      const stateVector = decoding.readVarUint8Array(decoder);
      this.ws!.send(syncMessage((encoder) => syncProtocol.writeSyncStep2(encoder, this.doc, stateVector)));
      return;
    }
    const update = decoding.readVarUint8Array(decoder);
    if (this.full && this.holding) this.held.push(update);
    else if (this.full) Y.applyUpdate(this.doc, update, this);
    if (step === syncProtocol.messageYjsSyncStep2) {
      this.stepTwos.shift()?.();
      return;
    }
    this.updatesSeen++;
    this.tally?.receive(this.plan.index, update, at);
  }

  async close(): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState === ws.CLOSED) return;
    this.closing = true;
    const closed = new Promise((done) => ws.once('close', done));
    ws.close(1000);
    await Promise.race([closed, sleep(5_000).then(() => ws.terminate())]);
  }
}
