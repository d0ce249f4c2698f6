/**
 * Raw-socket clients of the sync endpoint, hostile and honest, and the seeded frame fuzzer that
 * `test/integration/frame-fuzz.test.ts` and `npm run fuzz` (scripts/fuzz.ts) share.
 *
 * - `Rng`: a small seeded generator (sfc32): a seed gives the same sessions and frames again (their
 *   interleaving across sockets follows timing, unless one socket runs at a time).
 * - A hand encoder of Yjs update v1 (`encodeUpdate`), byte for byte what Yjs writes, but willing to
 *   write what Yjs never would: lengths of 0 or 2^55, clocks past 2^53, client ids of 2^53.
 * - `poisonCorpus()`: the named poisoning messages of the room-poisoning issue.
 * - `SyncClient`: an honest client over a raw socket (sync step 1/2, updates, the app's "saved"
 *   acknowledgements), whose Y.Doc outlives its sockets the way a device's does.
 * - `RawSocket`: a socket that sends what it is given and counts what comes back.
 * - `runFuzz(target, options)`: hostile sockets (writers, readers, the unauthorized) send mutated
 *   y-websocket frames while honest clients edit; then every check of the expected behaviour.
 *
 * Expected behaviour, which the checks here hold the server to: a writer's malformed or poisonous
 * update closes that socket (1007, 4403 or 1008) and nothing of it is stored or relayed; every other
 * connection keeps working; honest edits are relayed and stored; every room loads after a restart;
 * the server keeps answering. Waiting is on socket messages and doc updates, bounded by deadlines
 * that only turn a hang into a failure that says what it waited for.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { WebSocket, type RawData } from 'ws';
import * as Y from 'yjs';
import { signToken } from '../../server/auth/tokens';
import type { TokenClaims } from '../../server/auth/claims';
import {
  BEARER_PREFIX,
  MESSAGE_AUTH,
  MESSAGE_AWARENESS,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SAVED,
  MESSAGE_SYNC,
  SYNC_SUBPROTOCOL,
} from '../../src/lib/sync/protocol';
import { createDeal, openPartnerDoc, updateDeal, type PartnerDoc } from '../../src/lib/sync/partner-doc';
import { deal } from '../factories/records';

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** sfc32: four 32-bit words of state, fast, and good enough for choosing frames. */
export class Rng {
  private a = 0x9e3779b9;
  private b = 0x243f6a88;
  private c = 0xb7e15162;
  private d: number;

  constructor(readonly seed: number) {
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  /** One of `choices`, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [weight, value] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return choices[choices.length - 1]![1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }
}

export const hex = (bytes: Uint8Array, max = Infinity): string => {
  const text = Buffer.from(bytes.subarray(0, Math.min(bytes.length, max))).toString('hex');
  return bytes.length > max ? `${text}… (${bytes.length} bytes)` : text;
};

export const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

// ---------------------------------------------------------------------------------------------
// Yjs update v1, by hand

/** Values at and past the edges of exact doubles and 32-bit ids. Each encodes exactly as a varuint. */
export const EDGE_NUMBERS = [
  0,
  1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 40,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 55,
  2 ** 63,
] as const;

/** Content refs of the v1 format (the low 5 bits of a struct's info byte). */
export const CONTENT_REF = {
  gc: 0,
  deleted: 1,
  json: 2,
  binary: 3,
  string: 4,
  embed: 5,
  format: 6,
  type: 7,
  any: 8,
  doc: 9,
  skip: 10,
} as const;
const BIT_ORIGIN = 0x80;
const BIT_RIGHT_ORIGIN = 0x40;
const BIT_PARENT_SUB = 0x20;

export type Content =
  | { ref: 'deleted'; len: number }
  | { ref: 'json'; values: string[] }
  | { ref: 'binary'; bytes: Uint8Array }
  | { ref: 'string'; text: string }
  | { ref: 'embed'; json: string }
  | { ref: 'format'; key: string; json: string }
  | { ref: 'type'; typeRef: number; name?: string }
  | { ref: 'any'; values: (string | number | boolean | null)[] }
  | { ref: 'doc'; guid: string };

export type Struct =
  | { kind: 'gc'; len: number }
  | { kind: 'skip'; len: number }
  | {
      kind: 'item';
      origin?: readonly [number, number];
      rightOrigin?: readonly [number, number];
      /** A root type by name, or the id of a type's item; written only when there is no origin. */
      parent?: { root: string } | { id: readonly [number, number] };
      parentSub?: string;
      content: Content;
    };

export interface UpdateSpec {
  clients: { client: number; clock: number; structs: Struct[] }[];
  deletes?: { client: number; ranges: (readonly [number, number])[] }[];
}

function writeContent(encoder: encoding.Encoder, content: Content): void {
  switch (content.ref) {
    case 'deleted':
      return encoding.writeVarUint(encoder, content.len);
    case 'json':
      encoding.writeVarUint(encoder, content.values.length);
      for (const value of content.values) encoding.writeVarString(encoder, value);
      return;
    case 'binary':
      return encoding.writeVarUint8Array(encoder, content.bytes);
    case 'string':
      return encoding.writeVarString(encoder, content.text);
    case 'embed':
      return encoding.writeVarString(encoder, content.json);
    case 'format':
      encoding.writeVarString(encoder, content.key);
      return encoding.writeVarString(encoder, content.json);
    case 'type':
      encoding.writeVarUint(encoder, content.typeRef);
      if (content.name !== undefined) encoding.writeVarString(encoder, content.name);
      return;
    case 'any':
      encoding.writeVarUint(encoder, content.values.length);
      for (const value of content.values) encoding.writeAny(encoder, value);
      return;
    case 'doc':
      encoding.writeVarString(encoder, content.guid);
      return encoding.writeAny(encoder, {});
  }
}

/**
 * A Yjs update (v1) as the spec says, in the order given: varuint number of clients; per client
 * varuint number of structs, varuint client, varuint clock, then each struct (info byte, origins,
 * parent, parent sub, content); then the delete set (varuint clients; per client: varuint client,
 * varuint ranges, per range varuint clock and varuint length).
 */
export function encodeUpdate(spec: UpdateSpec): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, spec.clients.length);
  for (const { client, clock, structs } of spec.clients) {
    encoding.writeVarUint(encoder, structs.length);
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, clock);
    for (const struct of structs) {
      if (struct.kind === 'gc' || struct.kind === 'skip') {
        encoding.writeUint8(encoder, struct.kind === 'gc' ? CONTENT_REF.gc : CONTENT_REF.skip);
        encoding.writeVarUint(encoder, struct.len);
        continue;
      }
      const info =
        CONTENT_REF[struct.content.ref] |
        (struct.origin ? BIT_ORIGIN : 0) |
        (struct.rightOrigin ? BIT_RIGHT_ORIGIN : 0) |
        (struct.parentSub !== undefined ? BIT_PARENT_SUB : 0);
      encoding.writeUint8(encoder, info);
      if (struct.origin) for (const part of struct.origin) encoding.writeVarUint(encoder, part);
      if (struct.rightOrigin) for (const part of struct.rightOrigin) encoding.writeVarUint(encoder, part);
      if (!struct.origin && !struct.rightOrigin) {
        const parent = struct.parent ?? { root: 'meta' };
        if ('root' in parent) {
          encoding.writeVarUint(encoder, 1);
          encoding.writeVarString(encoder, parent.root);
        } else {
          encoding.writeVarUint(encoder, 0);
          for (const part of parent.id) encoding.writeVarUint(encoder, part);
        }
        if (struct.parentSub !== undefined) encoding.writeVarString(encoder, struct.parentSub);
      }
      writeContent(encoder, struct.content);
    }
  }
  const deletes = spec.deletes ?? [];
  encoding.writeVarUint(encoder, deletes.length);
  for (const { client, ranges } of deletes) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, ranges.length);
    for (const [clock, len] of ranges) {
      encoding.writeVarUint(encoder, clock);
      encoding.writeVarUint(encoder, len);
    }
  }
  return encoding.toUint8Array(encoder);
}

export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

/** A y-websocket sync message: varuint 0 (sync), varuint step, then the payload as a varUint8Array. */
export function syncMessage(step: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  encoding.writeVarUint(encoder, step);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

export const updateMessage = (update: Uint8Array) => syncMessage(SYNC_UPDATE, update);

/** An awareness message of the given states, encoded as y-protocols does (no Awareness, so no timer). */
export function awarenessFrame(states: { client: number; clock: number; state: unknown }[]): Uint8Array {
  const inner = encoding.createEncoder();
  encoding.writeVarUint(inner, states.length);
  for (const { client, clock, state } of states) {
    encoding.writeVarUint(inner, client);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, JSON.stringify(state));
  }
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(inner));
  return encoding.toUint8Array(encoder);
}

const varUint = (value: number): Uint8Array => {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, value);
  return encoding.toUint8Array(encoder);
};

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** Whether `needle` occurs in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The named poisoning messages

/** The 19-byte message of the issue: client 4242, one item in map `meta` (key `k`) whose content is "deleted, length 0". */
export const ISSUE_POISON_HEX = '00021001019221002101046d657461016b0000';

export interface NamedMessage {
  name: string;
  message: Uint8Array;
  /** The client ids its structs and deletions name: none of them may be stored, nor reach anyone. */
  clients: number[];
}

/** An item with string content in `meta`, under key `key`. */
const metaItem = (key: string, text = 'x'): Struct => ({
  kind: 'item',
  parent: { root: 'meta' },
  parentSub: key,
  content: { ref: 'string', text },
});

/**
 * The poisoning messages of the issue, each a sync update (step 2 where it says so), built by hand
 * with lib0 encoding. `base` spreads their client ids so that no two share one.
 */
export function poisonCorpus(base = 7_000_000): NamedMessage[] {
  const client = (i: number) => base + i;
  const update = (spec: UpdateSpec) => updateMessage(encodeUpdate(spec));
  const withClients = (name: string, message: Uint8Array, clients: number[]): NamedMessage => ({
    name,
    message,
    clients,
  });
  return [
    withClients(
      'the issue message: an item in map meta whose content is "deleted, length 0"',
      fromHex(ISSUE_POISON_HEX),
      [4242],
    ),
    withClients(
      'the issue message, rebuilt: ContentDeleted of length 0',
      update({
        clients: [
          {
            client: client(1),
            clock: 0,
            structs: [
              { kind: 'item', parent: { root: 'meta' }, parentSub: 'k', content: { ref: 'deleted', len: 0 } },
            ],
          },
        ],
      }),
      [client(1)],
    ),
    withClients(
      'ContentDeleted of length 2^55',
      update({
        clients: [
          {
            client: client(2),
            clock: 0,
            structs: [
              {
                kind: 'item',
                parent: { root: 'meta' },
                parentSub: 'k',
                content: { ref: 'deleted', len: 2 ** 55 },
              },
            ],
          },
        ],
      }),
      [client(2)],
    ),
    withClients(
      'ContentDeleted of length 2^53, as sync step 2',
      syncMessage(
        SYNC_STEP2,
        encodeUpdate({
          clients: [
            {
              client: client(3),
              clock: 0,
              structs: [
                {
                  kind: 'item',
                  parent: { root: 'meta' },
                  parentSub: 'k',
                  content: { ref: 'deleted', len: 2 ** 53 },
                },
              ],
            },
          ],
        }),
      ),
      [client(3)],
    ),
    withClients(
      'a GC struct of length 2^53, then an item at clock 2^53',
      update({
        clients: [{ client: client(4), clock: 0, structs: [{ kind: 'gc', len: 2 ** 53 }, metaItem('k')] }],
      }),
      [client(4)],
    ),
    withClients(
      'an item, and a delete-set range of length 0 on it',
      update({
        clients: [{ client: client(5), clock: 0, structs: [metaItem('k')] }],
        deletes: [{ client: client(5), ranges: [[0, 0]] }],
      }),
      [client(5)],
    ),
    withClients(
      'a delete-set range of length 0 alone',
      update({ clients: [], deletes: [{ client: client(6), ranges: [[0, 0]] }] }),
      [client(6)],
    ),
    withClients(
      'an item, and a delete-set range of length 2^53',
      update({
        clients: [{ client: client(7), clock: 0, structs: [metaItem('k')] }],
        deletes: [{ client: client(7), ranges: [[0, 2 ** 53]] }],
      }),
      [client(7)],
    ),
    withClients(
      'a delete-set range of length 2^53 alone',
      update({ clients: [], deletes: [{ client: client(8), ranges: [[0, 2 ** 53]] }] }),
      [client(8)],
    ),
    withClients(
      'a struct of client id 2^53',
      update({ clients: [{ client: 2 ** 53, clock: 0, structs: [metaItem('k')] }] }),
      [2 ** 53],
    ),
    withClients(
      'a struct of client id 2^53 + 2',
      update({ clients: [{ client: 2 ** 53 + 2, clock: 0, structs: [metaItem('k')] }] }),
      [2 ** 53 + 2],
    ),
    withClients(
      'a struct of client id 2^55',
      update({ clients: [{ client: 2 ** 55, clock: 0, structs: [metaItem('k')] }] }),
      [2 ** 55],
    ),
    withClients(
      'an item at clock 2^53 (nothing before it)',
      update({ clients: [{ client: client(9), clock: 2 ** 53, structs: [metaItem('k')] }] }),
      [client(9)],
    ),
    withClients(
      'a string item of length 0 (zero-length content)',
      update({ clients: [{ client: client(10), clock: 0, structs: [metaItem('k', '')] }] }),
      [client(10)],
    ),
    withClients(
      'an item, then the message ends where its delete set should be',
      updateMessage(
        encodeUpdate({ clients: [{ client: client(11), clock: 0, structs: [metaItem('k')] }] }).slice(0, -1),
      ),
      [client(11)],
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Waiting on events, with a deadline

/** Something whose changes can be waited on: `watch` calls back after each change, and returns an unwatch. */
export interface Watchable {
  watch(callback: () => void): () => void;
}

export class DeadlineError extends Error {}

/**
 * Resolves once `test()` holds, checked now and after each change of any of `sources`; rejects with
 * a DeadlineError saying what it waited for when `timeoutMs` pass first.
 */
export function until(
  sources: readonly Watchable[],
  test: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (test()) return resolve();
    const unwatch: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of unwatch) off();
    };
    const timer = setTimeout(() => {
      done();
      reject(new DeadlineError(`waited ${timeoutMs} ms for ${what}`));
    }, timeoutMs);
    for (const source of sources) {
      unwatch.push(
        source.watch(() => {
          if (!test()) return;
          done();
          resolve();
        }),
      );
    }
  });
}

class Notifier implements Watchable {
  private readonly callbacks = new Set<() => void>();
  watch(callback: () => void): () => void {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }
  notify(): void {
    for (const callback of [...this.callbacks]) callback();
  }
}

/** The socket URL of a room; `localhost` as 127.0.0.1, where the harness listens (no name lookup per socket). */
export const socketUrl = (origin: string, room: string, query = '') =>
  `${origin.replace(/^http/, 'ws').replace('//localhost:', '//127.0.0.1:')}/sync/${room}${query}`;

// ---------------------------------------------------------------------------------------------
// Raw sockets

export interface Closed {
  code: number;
  reason: string;
  /** The client closed it (after its last frame), not the server. */
  byClient: boolean;
}

/**
 * A socket that sends whatever it is given. It counts the sync step 2 messages it receives (the
 * answers to sync step 1), keeps the server's first state vector (its sync step 1), and the
 * "saved" state vectors.
 */
export class RawSocket implements Watchable {
  readonly ws: WebSocket;
  private readonly notifier = new Notifier();
  /** Sync step 2 messages received: the answers to the sync step 1s sent. */
  answers = 0;
  serverStateVector: Uint8Array | undefined;
  /** The latest "saved" message's state vector, as sent (decoded on demand: most are never read). */
  savedBytes: Uint8Array | undefined;
  opened = false;
  /** The HTTP status when the upgrade was refused. */
  refusedStatus: number | undefined;
  closed: Closed | undefined;
  /** The first socket error (a refused connection, a protocol error). */
  error: string | undefined;
  private closingByClient = false;

  constructor(url: string, protocols: string[]) {
    this.ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('error', (error) => {
      this.error ??= error.message;
    });
    this.ws.on('open', () => {
      this.opened = true;
      this.notifier.notify();
    });
    this.ws.on('unexpected-response', (_request, response) => {
      this.refusedStatus = response.statusCode ?? 0;
      this.closed = { code: 1006, reason: `HTTP ${this.refusedStatus}`, byClient: false };
      this.ws.terminate();
      this.notifier.notify();
    });
    this.ws.on('message', (data: RawData) => {
      this.receive(toBytes(data));
      this.notifier.notify();
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.closed ??= { code, reason: reason.toString(), byClient: this.closingByClient };
      this.notifier.notify();
    });
  }

  watch(callback: () => void): () => void {
    return this.notifier.watch(callback);
  }

  /** The latest "saved" state vector the server sent this socket (empty if none). */
  get saved(): Map<number, number> {
    return this.savedBytes ? Y.decodeStateVector(this.savedBytes) : new Map();
  }

  /** The server's clock of `client` in its sync step 1 to this socket (0 if it has none, or sent none yet). */
  serverClock(client: number): number {
    return this.serverStateVector ? (Y.decodeStateVector(this.serverStateVector).get(client) ?? 0) : 0;
  }

  /** How it was closed, if it was (a call, so that it is read afresh after each wait). */
  closure(): Closed | undefined {
    return this.closed;
  }

  /** Looks at the first bytes only (every varuint here is one byte): a room's broadcasts come by the hundred. */
  private receive(bytes: Uint8Array): void {
    try {
      if (bytes[0] === MESSAGE_SYNC && bytes[1] === SYNC_STEP2) this.answers++;
      else if (bytes[0] === MESSAGE_SYNC && bytes[1] === SYNC_STEP1 && this.serverStateVector === undefined) {
        const decoder = decoding.createDecoder(bytes.subarray(2));
        this.serverStateVector = decoding.readVarUint8Array(decoder);
      } else if (bytes[0] === MESSAGE_SAVED) {
        this.savedBytes = decoding.readVarUint8Array(decoding.createDecoder(bytes.subarray(1)));
      }
    } catch {
      // What the server sends is not under test here (SyncClient checks it).
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Uint8Array | string): void {
    if (this.isOpen) this.ws.send(frame);
  }

  /** Closes from this end, and resolves once closed (either way). */
  async close(timeoutMs = 5_000): Promise<void> {
    if (!this.closed) {
      this.closingByClient = true;
      if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
      else this.ws.close(1000, 'done');
    }
    await until([this], () => this.closed !== undefined, timeoutMs, 'a socket to close').catch(() =>
      this.ws.terminate(),
    );
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function bearerProtocols(token: string | undefined, acknowledgements = true): string[] {
  return [
    ...(acknowledgements ? [SYNC_SUBPROTOCOL] : []),
    ...(token === undefined ? [] : [BEARER_PREFIX + token]),
  ];
}

// ---------------------------------------------------------------------------------------------
// An honest client

/**
 * An honest client over a raw socket: answers the server's sync step 1 with what it lacks, sends
 * each local update, applies what it receives, and keeps the latest "saved" state vector. Its doc
 * outlives its sockets: `connect` again after a drop and its sync step 2 carries what is unsaved.
 */
export class SyncClient implements Watchable {
  readonly doc: Y.Doc;
  private readonly notifier = new Notifier();
  private socket: WebSocket | undefined;
  /** The latest "saved" state vector from the server, over all sockets. */
  saved = new Map<number, number>();
  /** The current socket has had the server's answer to its sync step 1. */
  synced = false;
  /** Every close of a socket of this client by the server (the client's own closes are not listed). */
  readonly serverCloses: { code: number; reason: string; at: number }[] = [];
  /** Received messages Yjs could not apply (the server relayed something broken). */
  readonly applyErrors: string[] = [];
  connects = 0;
  private closingByClient = false;

  constructor(
    readonly name: string,
    clientID?: number,
  ) {
    this.doc = new Y.Doc();
    if (clientID !== undefined) this.doc.clientID = clientID;
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return;
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(updateMessage(update));
    });
    this.doc.on('update', () => this.notifier.notify());
  }

  watch(callback: () => void): () => void {
    return this.notifier.watch(callback);
  }

  get clientID(): number {
    return this.doc.clientID;
  }

  /** This client's own clock: how many items it has made. */
  get clock(): number {
    return Y.getState(this.doc.store, this.doc.clientID);
  }

  /** How far the server says it has stored this client's items. */
  get savedClock(): number {
    return this.saved.get(this.doc.clientID) ?? 0;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** No socket, or it is closing or closed (a socket still connecting is not gone). */
  get gone(): boolean {
    return (
      this.socket === undefined ||
      this.socket.readyState === WebSocket.CLOSING ||
      this.socket.readyState === WebSocket.CLOSED
    );
  }

  /** Opens a new socket; a previous one still closing is cut off and no longer heard. */
  connect(url: string, protocols: string[]): void {
    if (this.socket && this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    this.synced = false;
    this.closingByClient = false;
    this.connects++;
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    this.socket = ws;
    ws.on('error', () => {});
    ws.on('open', () => {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      encoding.writeVarUint(encoder, SYNC_STEP1);
      encoding.writeVarUint8Array(encoder, Y.encodeStateVector(this.doc));
      ws.send(encoding.toUint8Array(encoder));
      this.notifier.notify();
    });
    ws.on('message', (data: RawData) => {
      if (ws === this.socket) this.receive(ws, toBytes(data));
      this.notifier.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws === this.socket) {
        if (!this.closingByClient)
          this.serverCloses.push({ code, reason: reason.toString(), at: Date.now() });
        this.synced = false;
      }
      this.notifier.notify();
    });
  }

  private receive(ws: WebSocket, bytes: Uint8Array): void {
    let type: number;
    let step = -1;
    let payload: Uint8Array;
    try {
      const decoder = decoding.createDecoder(bytes);
      type = decoding.readVarUint(decoder);
      if (type === MESSAGE_SYNC) step = decoding.readVarUint(decoder);
      payload =
        type === MESSAGE_SYNC || type === MESSAGE_SAVED || type === MESSAGE_AWARENESS
          ? decoding.readVarUint8Array(decoder)
          : new Uint8Array();
    } catch (error) {
      this.applyErrors.push(
        `${this.name}: the server sent a message that does not decode (${(error as Error).message}): ${hex(bytes, 64)}`,
      );
      return;
    }
    if (type === MESSAGE_SAVED) {
      try {
        this.saved = Y.decodeStateVector(payload);
      } catch (error) {
        this.applyErrors.push(
          `${this.name}: a "saved" message that is not a state vector (${(error as Error).message})`,
        );
      }
      return;
    }
    if (type !== MESSAGE_SYNC) return;
    if (step === SYNC_STEP1) {
      let answer: Uint8Array;
      try {
        answer = Y.encodeStateAsUpdate(this.doc, payload);
      } catch (error) {
        this.applyErrors.push(
          `${this.name}: the server's sync step 1 is not a state vector (${(error as Error).message})`,
        );
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(syncMessage(SYNC_STEP2, answer));
      return;
    }
    try {
      Y.applyUpdate(this.doc, payload, this);
    } catch (error) {
      this.applyErrors.push(
        `${this.name}: Yjs could not apply what the server sent (${(error as Error).message}): ${hex(payload, 64)}`,
      );
    }
    if (this.doc._transaction !== null || this.doc._transactionCleanups.length > 0) {
      this.applyErrors.push(
        `${this.name}: what the server sent left this client's doc unable to emit updates: ${hex(payload, 64)}`,
      );
    }
    if (step === SYNC_STEP2) this.synced = true;
  }

  /** Closes the socket from this end; resolves once it is closed. */
  async disconnect(timeoutMs = 5_000): Promise<void> {
    const ws = this.socket;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    this.closingByClient = true;
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000, 'done');
    await until([this], () => ws.readyState === WebSocket.CLOSED, timeoutMs, `${this.name} to close`).catch(
      () => ws.terminate(),
    );
  }

  /** The socket is gone from under this client (the server was killed): forget it at once. */
  dropped(): void {
    this.closingByClient = true;
    this.socket?.terminate();
  }

  destroy(): void {
    this.dropped();
    this.doc.destroy();
  }
}

/** Claims of a rep of partner `partnerId` of prog1. */
export const repClaims = (userId: string, partnerId: string, programId = 'prog1'): TokenClaims => ({
  userId,
  role: 'rep',
  programId,
  partnerId,
});
export const vendorClaims = (userId: string, programId = 'prog1'): TokenClaims => ({
  userId,
  role: 'vendor_manager',
  programId,
});

// ---------------------------------------------------------------------------------------------
// Byte mutations

type Mutation = (rng: Rng, bytes: Uint8Array, other: Uint8Array) => Uint8Array;

const edgeVarUint = (rng: Rng) => varUint(rng.pick(EDGE_NUMBERS));
/** Ten bytes of continuation: more than any safe integer, or a varuint that never ends. */
const overlongVarUint = (rng: Rng) =>
  rng.chance(0.5)
    ? new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
    : new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export const MUTATIONS: Record<string, Mutation> = {
  flipBits(rng, bytes) {
    const out = bytes.slice();
    if (out.length === 0) return out;
    for (let n = rng.between(1, 3); n > 0; n--) {
      const at = rng.int(out.length);
      out[at] = out[at]! ^ (1 << rng.int(8));
    }
    return out;
  },
  truncate(rng, bytes) {
    return bytes.slice(0, rng.int(Math.max(1, bytes.length)));
  },
  dropRange(rng, bytes) {
    const from = rng.int(bytes.length + 1);
    const to = Math.min(bytes.length, from + rng.between(1, 8));
    return concat(bytes.subarray(0, from), bytes.subarray(to));
  },
  splice(rng, bytes, other) {
    return concat(bytes.subarray(0, rng.int(bytes.length + 1)), other.subarray(rng.int(other.length + 1)));
  },
  duplicateRange(rng, bytes) {
    const from = rng.int(bytes.length + 1);
    const to = Math.min(bytes.length, from + rng.between(1, 24));
    const at = rng.chance(0.5) ? to : rng.int(bytes.length + 1);
    return concat(bytes.subarray(0, at), bytes.subarray(from, to), bytes.subarray(at));
  },
  setByte(rng, bytes) {
    const out = bytes.slice();
    if (out.length > 0) out[rng.int(out.length)] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x21, 0x0a]);
    return out;
  },
  /** A varuint near 2^53/2^55 (or an overlong one) written over, or in place of, a byte. */
  edgeVarUint(rng, bytes) {
    const at = rng.int(bytes.length + 1);
    const value = rng.chance(0.85) ? edgeVarUint(rng) : overlongVarUint(rng);
    const replace = rng.chance(0.6) ? 1 : 0;
    return concat(bytes.subarray(0, at), value, bytes.subarray(Math.min(bytes.length, at + replace)));
  },
};
const MUTATION_NAMES = Object.keys(MUTATIONS);

export function mutate(rng: Rng, bytes: Uint8Array, other: Uint8Array): { bytes: Uint8Array; how: string[] } {
  let out = bytes;
  const how: string[] = [];
  for (
    let n = rng.weighted([
      [6, 1],
      [3, 2],
      [1, 3],
    ] as const);
    n > 0;
    n--
  ) {
    const name = rng.pick(MUTATION_NAMES);
    out = MUTATIONS[name]!(rng, out, other);
    how.push(name);
  }
  return { bytes: out, how };
}

// ---------------------------------------------------------------------------------------------
// What hostile sockets send

/**
 * A client of the fuzzer's own — never an honest one, so that no valid frame can stand in for an
 * honest client's edit — making the edits the app makes: deals created and edited, and in `meta`
 * text with formatting and embeds, arrays, nested maps, deletions; in the program room, the
 * vendor's types. Writers' identities are pooled and continue from session to session (the room's
 * doc would otherwise gain a client per socket, and every state vector the server writes with it).
 */
interface Identity {
  client: number;
  doc: Y.Doc;
  /** Opened once: opening indexes every key. */
  partner: PartnerDoc | undefined;
  kind: 'partner' | 'program';
  busy: boolean;
  retired: boolean;
  /** A frame other than its valid ones, carrying its client, was taken: the server's copy of it may differ from its doc. */
  tainted: boolean;
  uses: number;
  dealIds: string[];
}

function newIdentity(client: number, kind: 'partner' | 'program'): Identity {
  const doc = new Y.Doc({ guid: `q${client}` });
  doc.clientID = client;
  return {
    client,
    doc,
    partner: kind === 'partner' ? openPartnerDoc(doc) : undefined,
    kind,
    busy: false,
    retired: false,
    tainted: false,
    uses: 0,
    dealIds: [],
  };
}

/** Makes 1–6 edits; returns their updates (one per edit), in order. */
function identityEdits(rng: Rng, identity: Identity): Uint8Array[] {
  const { doc, client } = identity;
  const updates: Uint8Array[] = [];
  const collect = (update: Uint8Array) => updates.push(update);
  doc.on('update', collect);
  const edits = rng.between(1, 4);
  const pd = identity.partner;
  if (pd) {
    const ids = identity.dealIds;
    for (let i = 0; i < edits; i++) {
      // Mostly field edits, as in the app; a created deal is the largest edit (its whole record).
      const roll = rng.int(8);
      if ((roll === 0 && ids.length < 8) || ids.length === 0) {
        const id = `q${client.toString(36)}${ids.length}`;
        createDeal(pd, deal({ id, title: `qq ${rng.int(1000)}`, amount: rng.int(1_000_000) }), 'qx');
        ids.push(id);
      } else if (roll < 5) {
        updateDeal(
          pd,
          rng.pick(ids),
          { title: `qz ${rng.int(1000)}`, updatedAt: Date.UTC(2026, 0, 11) + rng.int(1_000_000) },
          'qx',
        );
      } else if (roll === 5) {
        doc.transact(() => {
          const text = new Y.Text();
          pd.meta.set(`q${rng.int(9)}`, text);
          text.insert(0, 'qqqq', rng.chance(0.5) ? { bold: true } : undefined);
          text.insertEmbed(2, { q: 1 });
          text.delete(0, 1);
        });
      } else if (roll === 6) {
        doc.transact(() => {
          const list = new Y.Array<unknown>();
          pd.meta.set(`q${rng.int(9)}`, list);
          list.push([1, 'q', null, true, { q: [2] }]);
          list.push([new Uint8Array([1, 2, 3])]);
          const nested = new Y.Map<unknown>();
          list.push([nested]);
          nested.set('q', 7);
        });
      } else {
        const keys = [...pd.meta.keys()].filter((key) => key.startsWith('q'));
        if (keys.length > 0) pd.meta.delete(rng.pick(keys));
        else pd.meta.set('q0', rng.int(100));
      }
    }
  } else {
    for (let i = 0; i < edits; i++) {
      const root = rng.weighted([
        [4, 'targets'],
        [3, 'meta'],
        [2, 'partners'],
        [1, 'staff'],
      ] as const);
      doc.getMap<unknown>(root).set(`q${rng.int(20)}`, { q: rng.int(1000) });
    }
  }
  doc.off('update', collect);
  return updates;
}

/** A state vector of one client. */
function clientStateVector(client: number, clock: number): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarUint(encoder, client);
  encoding.writeVarUint(encoder, clock);
  return encoding.toUint8Array(encoder);
}

/** One session's honest-shaped traffic: valid in the order given, on the server as it was when the session began. */
interface Traffic {
  client: number;
  valid: { bytes: Uint8Array; what: string }[];
  /** What mutations start from: a valid frame, their merge as a sync step 2, a sync step 1, or presence. */
  source(rng: Rng): Uint8Array;
}

function sessionTraffic(rng: Rng, identity: Identity, serverClock: number): Traffic {
  const valid: { bytes: Uint8Array; what: string }[] = [];
  const parts: Uint8Array[] = [];
  const clock = Y.getState(identity.doc.store, identity.client);
  if (clock > serverClock) {
    const catchUp = Y.encodeStateAsUpdate(identity.doc, clientStateVector(identity.client, serverClock));
    parts.push(catchUp);
    valid.push({
      bytes: syncMessage(SYNC_STEP2, catchUp),
      what: `what the server lacks of client ${identity.client} (clocks ${serverClock}–${clock})`,
    });
  }
  const edits = identityEdits(rng, identity);
  for (const [i, update] of edits.entries()) {
    parts.push(update);
    valid.push({
      bytes: rng.chance(0.8) ? updateMessage(update) : syncMessage(SYNC_STEP2, update),
      what: `edit ${i + 1} of ${edits.length} of client ${identity.client}`,
    });
  }
  let merged: Uint8Array | undefined;
  const stateVector = syncMessage(SYNC_STEP1, Y.encodeStateVector(identity.doc));
  const presence = awarenessFrame([
    {
      client: identity.client,
      clock: rng.between(0, 3),
      state: { user: { name: 'q', color: '#000' }, cursor: null },
    },
  ]);
  const source = (pick: Rng) => {
    const roll = pick.int(valid.length + 3);
    if (roll < valid.length) return valid[roll]!.bytes;
    if (roll === valid.length)
      return (merged ??= syncMessage(SYNC_STEP2, parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts)));
    return roll === valid.length + 1 ? stateVector : presence;
  };
  return { client: identity.client, valid, source };
}

/** An update of a fresh client into the program's rollups, which only the server may write. */
function rollupsUpdate(rng: Rng, client: number): Uint8Array {
  const doc = new Y.Doc({ guid: 'q' });
  doc.clientID = client;
  doc.getMap<unknown>('rollups').set(`p${rng.int(3)}`, { q: 1 });
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}

/** A structurally plausible update with fields drawn from the edges: what a careful attacker writes. */
function structuredUpdate(rng: Rng, client: number, roots: readonly string[]): UpdateSpec {
  const pickClient = () =>
    rng.chance(0.7)
      ? client
      : rng.pick([0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 55]);
  const pickClock = () => (rng.chance(0.5) ? rng.int(4) : rng.pick(EDGE_NUMBERS));
  const pickLen = () => (rng.chance(0.4) ? rng.between(1, 3) : rng.pick(EDGE_NUMBERS));
  const root = () =>
    rng.chance(0.85) ? rng.pick(roots) : rng.pick(['q', '', 'rollups', '__proto__', 'constructor']);
  const content = (): Content => {
    switch (rng.int(9)) {
      case 0:
        return { ref: 'deleted', len: pickLen() };
      case 1:
        return {
          ref: 'json',
          values: rng.chance(0.3) ? [] : ['1', '"q"', rng.pick(['undefined', '{', 'null'])],
        };
      case 2:
        return { ref: 'binary', bytes: rng.bytes(rng.int(4)) };
      case 3:
        return { ref: 'string', text: rng.chance(0.4) ? '' : 'q'.repeat(rng.between(1, 4)) };
      case 4:
        return { ref: 'embed', json: rng.pick(['{"q":1}', '{', '', 'null']) };
      case 5:
        return { ref: 'format', key: 'bold', json: rng.pick(['true', 'null', '{', '']) };
      case 6:
        return { ref: 'type', typeRef: rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 2 ** 31, 2 ** 53]), name: 'q' };
      case 7:
        return { ref: 'any', values: rng.chance(0.3) ? [] : [1, 'q', null, true] };
      default:
        return { ref: 'doc', guid: 'q' };
    }
  };
  const struct = (): Struct => {
    const roll = rng.int(10);
    if (roll === 0) return { kind: 'gc', len: pickLen() };
    if (roll === 1) return { kind: 'skip', len: pickLen() };
    const origin = rng.chance(0.25) ? ([pickClient(), pickClock()] as const) : undefined;
    const rightOrigin = rng.chance(0.15) ? ([pickClient(), pickClock()] as const) : undefined;
    const parent = rng.chance(0.8) ? { root: root() } : { id: [pickClient(), pickClock()] as const };
    return {
      kind: 'item',
      ...(origin ? { origin } : {}),
      ...(rightOrigin ? { rightOrigin } : {}),
      parent,
      ...(rng.chance(0.7) ? { parentSub: `q${rng.int(5)}` } : {}),
      content: content(),
    };
  };
  const clients = Array.from(
    {
      length: rng.weighted([
        [1, 0],
        [6, 1],
        [2, 2],
        [1, 3],
      ] as const),
    },
    () => ({
      client: pickClient(),
      clock: pickClock(),
      structs: Array.from({ length: rng.between(1, 3) }, struct),
    }),
  );
  const deletes = rng.chance(0.4)
    ? [
        {
          client: pickClient(),
          ranges: Array.from(
            { length: rng.between(1, 2) },
            () => [pickClock(), rng.chance(0.3) ? 0 : pickLen()] as const,
          ),
        },
      ]
    : [];
  return { clients, deletes };
}

/** Frames whose prefix is a y-websocket sync step 1 get answered by themselves (or close the socket). */
function isStep1Shaped(frame: Uint8Array): boolean {
  return frame.length >= 2 && frame[0] === MESSAGE_SYNC && frame[1] === SYNC_STEP1;
}

export type FrameKind = 'valid' | 'mutated' | 'structured' | 'poison' | 'edge' | 'random' | 'text';

interface Frame {
  kind: FrameKind;
  bytes: Uint8Array | string;
  /** Described on demand: only failures are. */
  what: () => string;
  /** A writer must be closed for it: a named poisoning message, a malformed message, a write into the rollups. */
  mustClose: boolean;
  /** It is the next of the session's valid frames, in order. */
  validInOrder: boolean;
  /** The client ids a poisoning message names. */
  clients?: number[];
}

/** Frames that are malformed whatever the room holds: a varuint too large for anything, a type nobody knows. */
function edgeFrame(rng: Rng): Frame {
  const huge = () => rng.pick([2 ** 53, 2 ** 53 + 2, 2 ** 55, 2 ** 63]);
  const choices: [string, () => Uint8Array][] = [
    [
      'a sync update claiming a length of 2^53+',
      () => concat(varUint(MESSAGE_SYNC), varUint(SYNC_UPDATE), varUint(huge()), rng.bytes(rng.int(8))),
    ],
    [
      'a sync step 2 claiming a length of 2^53+',
      () => concat(varUint(MESSAGE_SYNC), varUint(SYNC_STEP2), varUint(huge()), rng.bytes(rng.int(8))),
    ],
    ['message type 2^53+', () => concat(varUint(huge()), rng.bytes(rng.int(8)))],
    ['sync step 2^53+', () => concat(varUint(MESSAGE_SYNC), varUint(huge()), rng.bytes(rng.int(4)))],
    [
      'awareness claiming 2^53+ bytes',
      () => concat(varUint(MESSAGE_AWARENESS), varUint(huge()), rng.bytes(rng.int(8))),
    ],
    ['an overlong varuint as the message type', () => overlongVarUint(rng)],
    ['an update of 2^53+ clients', () => updateMessage(concat(varUint(huge()), rng.bytes(rng.int(6))))],
    [
      'an update of 2^53+ structs',
      () =>
        updateMessage(
          concat(varUint(1), varUint(huge()), varUint(rng.uint32()), varUint(0), rng.bytes(rng.int(6))),
        ),
    ],
    [
      'an update whose delete set names 2^53+ clients',
      () => updateMessage(concat(varUint(0), varUint(huge()))),
    ],
  ];
  const [what, make] = rng.pick(choices);
  return { kind: 'edge', bytes: make(), what: () => what, mustClose: true, validInOrder: false };
}

/** Frames that are not sync messages, though they may start like one. */
function randomFrame(rng: Rng): Frame {
  const length = rng.weighted([
    [1, 0],
    [6, rng.between(1, 16)],
    [3, rng.between(17, 256)],
  ] as const);
  const prefix = rng.weighted([
    [4, new Uint8Array()],
    [2, new Uint8Array([MESSAGE_SYNC, SYNC_UPDATE])],
    [1, new Uint8Array([MESSAGE_SYNC, SYNC_STEP2])],
    [1, new Uint8Array([MESSAGE_AWARENESS])],
    [1, new Uint8Array([MESSAGE_AUTH])],
    [1, new Uint8Array([MESSAGE_QUERY_AWARENESS])],
  ] as const);
  return {
    kind: 'random',
    bytes: concat(prefix, rng.bytes(length)),
    what: () => `random bytes after [${[...prefix].join(',')}]`,
    mustClose: false,
    validInOrder: false,
  };
}

// ---------------------------------------------------------------------------------------------
// The fuzzer

/** p1 and p2 have honest clients too; p3 only hostile ones (more rooms keep each room's doc, and its cost per message, smaller). */
export const FUZZ_ROOMS = {
  p1: 'program/prog1/partner/p1',
  p2: 'program/prog1/partner/p2',
  p3: 'program/prog1/partner/p3',
  program: 'program/prog1',
} as const;
type RoomKey = keyof typeof FUZZ_ROOMS;
const ROOM_KEYS = Object.keys(FUZZ_ROOMS) as RoomKey[];

/**
 * Read-only sockets: a vendor manager in a partner room, and readers of the rooms only the server
 * writes (server/auth/acl.ts). Whatever they send must change nothing; a server without such a room
 * refuses the socket (4403), which is as good.
 */
const READERS: readonly { how: string; room: string; claims: (userId: string) => TokenClaims }[] = [
  {
    how: 'a vendor manager in a partner room',
    room: FUZZ_ROOMS.p1,
    claims: (userId) => vendorClaims(userId),
  },
  {
    how: "a rep in its partner's channel",
    room: 'program/prog1/partner/p1/channel',
    claims: (userId) => repClaims(userId, 'p1'),
  },
  {
    how: 'a vendor manager in the rollups room',
    room: 'program/prog1/rollups',
    claims: (userId) => vendorClaims(userId),
  },
];

/** What the fuzzer needs of a running server. */
export interface FuzzTarget {
  /** The server's http://host:port, now (it changes with a restart). */
  origin(): string;
  /** The secret the server signs and verifies tokens with. */
  secret(): Uint8Array;
  /** The room's stored log, read from the server's storage. */
  storedUpdates(room: string): Promise<Uint8Array[]>;
  /** Stops the server (closing its sockets and storing everything) and starts it again on the same data. */
  restart(): Promise<void>;
}

export interface FuzzOptions {
  frames: number;
  seed: number;
  /** Hostile sessions running at once (default 12; 1 replays a seed exactly). */
  concurrency?: number;
  /** An honest edit after every this many frames (default 40). */
  honestEvery?: number;
  /** How long a frame may go unanswered, and how long the final waits may take. */
  timeoutMs?: number;
  /** Progress lines (the script prints them; the test does not). */
  progress?: (line: string) => void;
}

type Role =
  | { kind: 'writer'; room: RoomKey }
  | { kind: 'reader'; reader: number; how: string }
  | { kind: 'unauthorized'; room: RoomKey; how: string };

const roomOf = (role: Role): string =>
  role.kind === 'reader' ? READERS[role.reader]!.room : FUZZ_ROOMS[role.room];

interface SessionRecord {
  index: number;
  role: Role;
  /** A client of this session alone (structured updates, the poisoning messages): stored only if a frame carrying it was taken. */
  fresh: number;
  freshTaken: boolean;
  /** The client of its honest-shaped traffic, and whether that is pooled (shared with other sessions). */
  identity: number;
  pooled: boolean;
  identityTaken: boolean;
  frames: FrameRecord[];
}

interface FrameRecord {
  index: number;
  session: number;
  /** The room's name. */
  room: string;
  role: Role['kind'];
  kind: FrameKind;
  what: () => string;
  /** The first bytes of the frame (all a description shows), and its length. */
  head: Uint8Array | string;
  length: number;
  validInOrder: boolean;
  /** 'taken': answered; 'sent': not waited for (an unauthorized socket); otherwise the close code. */
  outcome: 'taken' | 'sent' | number | 'no answer';
}

interface HonestEdit {
  id: string;
  room: RoomKey;
  author: SyncClient;
  peer: SyncClient;
  /** The frames sent before it. */
  afterFrame: number;
  /** The author's clock once it was made. */
  clock: number;
  relayed: boolean;
}

export interface FuzzReport {
  seed: number;
  framesSent: number;
  framesByKind: Record<string, { sent: number; taken: number; closed: number }>;
  sessions: number;
  sessionsByRole: Record<string, number>;
  /** Server-initiated closes of hostile sockets, by code. */
  closedByCode: Record<string, number>;
  honestEdits: number;
  honestRelayed: number;
  honestStored: number;
  /** Every honest edit: the room and the id of the deal it created. */
  honestEditIds: { room: string; id: string }[];
  roomsLoadedAfterRestart: string[];
  durationMs: number;
  failures: string[];
}

const WRITER_CLOSE_CODES: ReadonlySet<number> = new Set([1007, 4403, 1008]);
const UNAUTHORIZED_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 1008]);

function describeFrame(frame: FrameRecord): string {
  const outcome = typeof frame.outcome === 'number' ? `closed ${frame.outcome}` : frame.outcome;
  const bytes =
    typeof frame.head === 'string'
      ? JSON.stringify(frame.head)
      : `${hex(frame.head)}${frame.length > frame.head.length ? `… (${frame.length} bytes)` : ''}`;
  return `#${frame.index} [${frame.role} of ${frame.room}, session ${frame.session}] ${frame.kind}: ${frame.what()} → ${outcome}  ${bytes}`;
}

/**
 * Runs the fuzz against `target` and reports; `failures` lists every broken expectation (empty:
 * the server held). Never throws for a server failure, so that a script can print the whole report.
 */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 12;
  const honestEvery = options.honestEvery ?? 40;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const progress = options.progress ?? (() => {});
  const failures: string[] = [];
  const fail = (message: string) => {
    if (failures.length < 200) failures.push(message);
  };
  const report: FuzzReport = {
    seed: options.seed,
    framesSent: 0,
    framesByKind: {},
    sessions: 0,
    sessionsByRole: {},
    closedByCode: {},
    honestEdits: 0,
    honestRelayed: 0,
    honestStored: 0,
    honestEditIds: [],
    roomsLoadedAfterRestart: [],
    durationMs: 0,
    failures,
  };
  const frames: FrameRecord[] = [];
  const sessions: SessionRecord[] = [];
  /** Client ids of poisoning messages refused (the first frame that sent each), and of those taken. */
  const refusedPoison = new Map<number, FrameRecord>();
  const takenPoison = new Set<number>();
  const usedClients = new Set<number>();
  // Multiples of 16: a session's poisoning messages name the 11 clients after its own, which no
  // other session then has.
  const freshClient = (rng: Rng) => {
    for (;;) {
      const client = 100_000 + 16 * rng.int(2 ** 27);
      if (!usedClients.has(client)) {
        usedClients.add(client);
        return client;
      }
    }
  };

  // Honest clients: two in each partner room, with ids no hostile client uses (those are below 2^31 + 100,000).
  const secret = target.secret();
  const signWith = (claims: TokenClaims, ttl: string | number = '2h', now?: number) =>
    signToken(claims, secret, { ttl, ...(now === undefined ? {} : { now }) });
  const honestPlan = [
    { name: 'A', room: 'p1', peer: 1 },
    { name: 'B', room: 'p1', peer: 0 },
    { name: 'C', room: 'p2', peer: 3 },
    { name: 'D', room: 'p2', peer: 2 },
  ] as const;
  const honest = await Promise.all(
    honestPlan.map(async ({ name, room }, i) => ({
      client: new SyncClient(`honest ${name} (${FUZZ_ROOMS[room]})`, 2 ** 31 + 200_000 + i),
      room: room as RoomKey,
      token: await signWith(repClaims(`honest-${name}`, room)),
    })),
  );
  const allHonest = honest.map((entry) => entry.client);
  for (const entry of honest)
    entry.client.connect(socketUrl(target.origin(), FUZZ_ROOMS[entry.room]), bearerProtocols(entry.token));
  await until(
    allHonest,
    () => allHonest.every((client) => client.synced),
    timeoutMs,
    'the honest clients to sync',
  ).catch((error: Error) => fail(error.message));

  const edits: HonestEdit[] = [];
  const pendingRelay = new Map<string, HonestEdit>();
  for (const client of allHonest) {
    client.doc.getMap('deals').observe((event) => {
      for (const key of event.keysChanged) {
        const edit = pendingRelay.get(key);
        if (edit && edit.peer === client && client.doc.getMap('deals').has(key)) {
          edit.relayed = true;
          pendingRelay.delete(key);
        }
      }
    });
  }
  let honestTurn = 0;
  const honestEdit = () => {
    const turn = honestTurn++;
    const plan = honestPlan[turn % honestPlan.length]!;
    const author = honest[turn % honestPlan.length]!.client;
    const peer = honest[plan.peer]!.client;
    const id = `H-${plan.room}-${plan.name}-${turn}`;
    const pd = openPartnerDoc(author.doc);
    try {
      createDeal(
        pd,
        deal({ id, partnerId: plan.room, repId: `${plan.room}-r1`, title: `honest ${turn}` }),
        'honest',
      );
    } catch (error) {
      fail(`the fuzzer could not make honest edit ${id}: ${(error as Error).message}`);
      return;
    } finally {
      pd.close();
    }
    const edit: HonestEdit = {
      id,
      room: plan.room,
      author,
      peer,
      afterFrame: report.framesSent,
      clock: author.clock,
      relayed: peer.doc.getMap('deals').has(id),
    };
    edits.push(edit);
    if (!edit.relayed) pendingRelay.set(id, edit);
  };

  // Writers' identities, pooled per room.
  const pools: Record<RoomKey, Identity[]> = { p1: [], p2: [], p3: [], program: [] };
  const acquire = (room: RoomKey, rng: Rng): Identity => {
    const pool = pools[room];
    for (let i = pool.length - 1; i >= 0; i--) {
      const identity = pool[i]!;
      if (!identity.retired || identity.busy) continue;
      pool.splice(i, 1);
      identity.doc.destroy();
    }
    const free = pool.filter((identity) => !identity.busy && !identity.retired);
    const identity =
      free.length > 0
        ? rng.pick(free)
        : newIdentity(freshClient(rng), room === 'program' ? 'program' : 'partner');
    if (free.length === 0) pool.push(identity);
    identity.busy = true;
    identity.uses++;
    return identity;
  };
  const release = (identity: Identity) => {
    identity.busy = false;
    // Kept small: its whole state goes out in catch-ups and the mutations start from it.
    if (identity.uses >= 150 || Y.getState(identity.doc.store, identity.client) > 3_000)
      identity.retired = true;
  };

  // Hostile sessions.
  const lastStateVector = new Map<string, Uint8Array>();
  const probe = (room: string) => syncMessage(SYNC_STEP1, lastStateVector.get(room) ?? new Uint8Array([0]));
  const roles: readonly (readonly [number, (rng: Rng) => Role])[] = [
    [34, () => ({ kind: 'writer', room: 'p1' })],
    [14, () => ({ kind: 'writer', room: 'p2' })],
    [12, () => ({ kind: 'writer', room: 'p3' })],
    [8, () => ({ kind: 'writer', room: 'program' })],
    [
      8,
      (rng) => {
        const reader = rng.int(READERS.length);
        return { kind: 'reader', reader, how: READERS[reader]!.how };
      },
    ],
    [
      12,
      (rng) => ({
        kind: 'unauthorized',
        room: rng.pick(['p1', 'p2', 'p3', 'program'] as const),
        how: rng.pick([
          'no token',
          'not a token',
          'signed with another secret',
          'expired',
          'a rep of another partner',
          'a rep of another program',
          'no such room',
        ]),
      }),
    ],
  ];

  // Tokens are signed once per user of a pool: signing is the fuzzer's costliest step, and a pool
  // of users keeps each under the per-user rates (sessions of one user share them).
  const signed = new Map<string, Promise<string>>();
  const tokenFor = async (
    rng: Rng,
    role: Role,
    index: number,
  ): Promise<{ token: string | undefined; room: string }> => {
    const userId = `x${index % 48}`;
    const pooled = (make: () => Promise<string>) => {
      const key = `${role.kind} ${roomOf(role)} ${role.kind === 'writer' ? '' : role.how} ${userId}`;
      let token = signed.get(key);
      if (!token) signed.set(key, (token = make()));
      return token;
    };
    const sign = (claims: TokenClaims, ttl: string | number = '2h', now?: number) =>
      pooled(() => signWith(claims, ttl, now));
    if (role.kind === 'reader')
      return { token: await sign(READERS[role.reader]!.claims(userId)), room: READERS[role.reader]!.room };
    const room = FUZZ_ROOMS[role.room];
    const partnerOf = (key: RoomKey) => (key === 'program' ? 'p1' : key);
    if (role.kind === 'writer')
      return {
        token: await sign(
          role.room === 'program' ? vendorClaims(userId) : repClaims(userId, partnerOf(role.room)),
        ),
        room,
      };
    switch (role.how) {
      case 'no token':
        return { token: undefined, room };
      case 'not a token':
        return { token: rng.pick(['x', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'bearer.x']), room };
      case 'signed with another secret':
        return {
          token: await pooled(() => signToken(repClaims(userId, 'p1'), rng.bytes(32), { ttl: '1h' })),
          room,
        };
      case 'expired':
        return {
          token: await sign(repClaims(userId, partnerOf(role.room)), 60, Date.now() - 3_600_000),
          room,
        };
      case 'a rep of another partner':
        return {
          token: await sign(repClaims(userId, role.room === 'p1' || role.room === 'program' ? 'p2' : 'p1')),
          room: role.room === 'program' ? FUZZ_ROOMS.p1 : room,
        };
      case 'a rep of another program':
        return { token: await sign(repClaims(userId, 'p1', 'prog2')), room };
      default:
        return {
          token: await sign(repClaims(userId, 'p1')),
          room: rng.pick([
            'program/prog1/partner',
            'program/prog1/partner/p1/x',
            'program/../prog1',
            'program/prog1/partner/%70%31',
            'x',
          ]),
        };
    }
  };

  const nextFrame = (
    rng: Rng,
    role: Role,
    record: SessionRecord,
    traffic: () => Traffic,
    sent: { valid: number },
    roots: readonly string[],
    corpus: () => NamedMessage[],
  ): Frame => {
    const kind = rng.weighted<FrameKind>([
      [22, 'valid'],
      [32, 'mutated'],
      [18, 'structured'],
      [6, 'poison'],
      [7, 'edge'],
      [12, 'random'],
      [1, 'text'],
    ]);
    switch (kind) {
      case 'valid': {
        if (roomOf(role) === FUZZ_ROOMS.program && rng.chance(0.1)) {
          const bytes = updateMessage(rollupsUpdate(rng, record.fresh));
          return {
            kind,
            bytes,
            what: () => 'an update into the rollups, which only the server may write',
            mustClose: role.kind === 'writer',
            validInOrder: false,
          };
        }
        const { valid, source } = traffic();
        const next = valid[sent.valid];
        if (next === undefined) {
          const bytes = source(rng);
          return {
            kind,
            bytes,
            what: () => 'one of its frames again, or their merge, state vector or presence',
            mustClose: false,
            validInOrder: false,
          };
        }
        sent.valid++;
        return {
          kind,
          bytes: next.bytes,
          what: () => `${next.what}, in order`,
          mustClose: false,
          validInOrder: true,
        };
      }
      case 'mutated': {
        const { source } = traffic();
        const base = source(rng);
        const { bytes, how } = mutate(rng, base, source(rng));
        const what = `${how.join(' + ')} of ${hex(base, 32)}`;
        return { kind, bytes, what: () => what, mustClose: false, validInOrder: false };
      }
      case 'structured': {
        // Its own client, or the session's identity (pooled: the room's doc does not gain a client per frame taken).
        const spec = structuredUpdate(rng, rng.chance(0.3) ? record.fresh : record.identity, roots);
        const step = rng.chance(0.8) ? SYNC_UPDATE : SYNC_STEP2;
        const describe = () =>
          `structured ${step === SYNC_UPDATE ? 'update' : 'sync step 2'} ${JSON.stringify(spec, (_key, value: unknown) => (value instanceof Uint8Array ? hex(value) : value)).slice(0, 400)}`;
        return {
          kind,
          bytes: syncMessage(step, encodeUpdate(spec)),
          what: describe,
          mustClose: false,
          validInOrder: false,
        };
      }
      case 'poison': {
        const named = rng.pick(corpus());
        return {
          kind,
          bytes: named.message,
          what: () => named.name,
          mustClose: role.kind === 'writer',
          validInOrder: false,
          clients: named.clients,
        };
      }
      case 'edge':
        return edgeFrame(rng);
      case 'random':
        return randomFrame(rng);
      case 'text': {
        const text = rng.pick(['hello', '{"type":"sync"}', '\u0000\u0002']);
        return { kind, bytes: text, what: () => 'a text frame', mustClose: true, validInOrder: false };
      }
    }
  };

  let stop = false;
  /** Unauthorized sockets waiting to be cut off. */
  const closing: Promise<void>[] = [];
  const runSession = async (index: number): Promise<void> => {
    // What a session sends follows from the seed and its index, and — for a writer — from the state
    // of the identity it draws; which frames of other sockets and which honest edits come in
    // between is up to timing (concurrency 1 replays a seed exactly).
    const rng = new Rng((options.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
    const role = rng.weighted(roles)(rng);
    const fresh = freshClient(rng);
    // A writer that waits for the server's sync step 1 continues a pooled identity (it then knows
    // what the server has of it); the others, sending before they are let in, use one of their own.
    const waits = role.kind === 'writer' ? rng.chance(0.8) : role.kind === 'reader' && rng.chance(0.5);
    const pooledIdentity = role.kind === 'writer' && waits ? acquire(role.room, rng) : undefined;
    const roomName = roomOf(role);
    const identity =
      pooledIdentity ??
      newIdentity(freshClient(rng), roomName === FUZZ_ROOMS.program ? 'program' : 'partner');
    const record: SessionRecord = {
      index,
      role,
      fresh,
      freshTaken: false,
      identity: identity.client,
      pooled: pooledIdentity !== undefined,
      identityTaken: false,
      frames: [],
    };
    sessions.push(record);
    report.sessions++;
    const roleName =
      role.kind === 'writer' ? `writer of ${FUZZ_ROOMS[role.room]}` : `${role.kind} (${role.how})`;
    report.sessionsByRole[roleName] = (report.sessionsByRole[roleName] ?? 0) + 1;
    const roots =
      roomName === FUZZ_ROOMS.program
        ? ['meta', 'partners', 'reps', 'staff', 'targets']
        : ['leads', 'deals', 'meta'];
    let corpus: NamedMessage[] | undefined;
    const namedPoison = () => (corpus ??= poisonCorpus(fresh));
    const { token, room } = await tokenFor(rng, role, index);
    // Mostly as the app connects (its subprotocol, the token as a second one); else as the stock
    // client does (the token in the query, no subprotocol, so no acknowledgements), or a mix.
    const how = rng.weighted([
      [5, 'app'],
      [4, 'stock'],
      [1, 'query and subprotocol'],
    ] as const);
    const query = how !== 'app' && token !== undefined ? `?token=${encodeURIComponent(token)}` : '';
    const socket = new RawSocket(
      socketUrl(target.origin(), room, query),
      how === 'app' ? bearerProtocols(token) : how === 'stock' ? [] : [SYNC_SUBPROTOCOL],
    );
    const freshBytes = varUint(fresh);
    const identityBytes = varUint(identity.client);
    const taintedAtStart = identity.tainted;
    let built: Traffic | undefined;
    const traffic = () =>
      (built ??= sessionTraffic(rng, identity, pooledIdentity ? socket.serverClock(identity.client) : 0));
    try {
      await until(
        [socket],
        () => socket.opened || socket.closure() !== undefined,
        timeoutMs,
        'a hostile socket to open',
      );
      if (!socket.opened) {
        fail(
          `a connection was refused at the upgrade during the fuzz (${socket.closure()?.code} ${socket.closure()?.reason}, ${socket.error}; ${roleName}, ${room})`,
        );
        return;
      }
      if (waits) {
        await until(
          [socket],
          () => socket.serverStateVector !== undefined || socket.closure() !== undefined,
          timeoutMs,
          "the server's sync step 1",
        );
        // An identity whose client the server has further than its doc went out in a taken mutation: retire it.
        if (
          pooledIdentity &&
          socket.serverClock(identity.client) > Y.getState(identity.doc.store, identity.client)
        )
          pooledIdentity.retired = true;
      }
      const limit =
        role.kind === 'unauthorized'
          ? rng.between(1, 3)
          : rng.weighted([
              [5, rng.between(1, 4)],
              [4, rng.between(5, 20)],
              [1, rng.between(21, 60)],
            ] as const);
      let onlyValidSoFar = true;
      const sent = { valid: 0 };
      for (let n = 0; n < limit && !stop && socket.closure() === undefined; n++) {
        const frame = nextFrame(rng, role, record, traffic, sent, roots, namedPoison);
        const frameIndex = ++report.framesSent;
        const kindStats = (report.framesByKind[frame.kind] ??= { sent: 0, taken: 0, closed: 0 });
        kindStats.sent++;
        const frameRecord: FrameRecord = {
          index: frameIndex,
          session: index,
          room: roomName,
          role: role.kind,
          kind: frame.kind,
          what: frame.what,
          head: frame.bytes.slice(0, 64),
          length: frame.bytes.length,
          validInOrder: frame.validInOrder,
          outcome: 'no answer',
        };
        frames.push(frameRecord);
        record.frames.push(frameRecord);
        if (frameIndex % honestEvery === 0) honestEdit();
        const answersBefore = socket.answers;
        socket.send(frame.bytes);
        if (typeof frame.bytes === 'string' || !isStep1Shaped(frame.bytes)) socket.send(probe(roomName));
        if (role.kind === 'unauthorized') {
          frameRecord.outcome = 'sent';
          continue;
        }
        try {
          await until(
            [socket],
            () => socket.answers > answersBefore || socket.closure() !== undefined,
            timeoutMs,
            'an answer or a close',
          );
        } catch {
          fail(
            `the server neither answered nor closed within ${timeoutMs} ms after ${describeFrame(frameRecord)}`,
          );
          break;
        }
        // The freshest state vector of the room makes the next probe's answer small.
        const latest = socket.savedBytes ?? socket.serverStateVector;
        if (latest) lastStateVector.set(roomName, latest);
        const closedNow = socket.closure();
        if (closedNow) {
          frameRecord.outcome = closedNow.code;
          kindStats.closed++;
          for (const id of frame.clients ?? [])
            if (!refusedPoison.has(id)) refusedPoison.set(id, frameRecord);
          break;
        }
        frameRecord.outcome = 'taken';
        kindStats.taken++;
        for (const id of frame.clients ?? []) takenPoison.add(id);
        if (typeof frame.bytes !== 'string') {
          if (containsBytes(frame.bytes, freshBytes)) record.freshTaken = true;
          if (containsBytes(frame.bytes, identityBytes)) {
            record.identityTaken = true;
            if (!frame.validInOrder) identity.tainted = true;
          }
        }
        if (role.kind === 'writer' && frame.mustClose)
          fail(
            `a writer's poisonous or malformed frame was taken, its socket left open: ${describeFrame(frameRecord)}`,
          );
        if (!frame.validInOrder) onlyValidSoFar = false;
      }
      const account = () => {
        const closed = socket.closure();
        if (!closed || closed.byClient) return;
        report.closedByCode[closed.code] = (report.closedByCode[closed.code] ?? 0) + 1;
        const last = record.frames.at(-1);
        if (role.kind === 'unauthorized') {
          if (!UNAUTHORIZED_CLOSE_CODES.has(closed.code))
            fail(
              `an unauthorized socket (${role.how}, ${room}) was closed with ${closed.code} "${closed.reason}", not 4401/4403: were its frames read?`,
            );
        } else if (!WRITER_CLOSE_CODES.has(closed.code)) {
          fail(
            `a ${role.kind} socket of ${room} was closed with ${closed.code} "${closed.reason}" (expected 1007, 4403 or 1008) after ${last ? describeFrame(last) : 'no frame'}`,
          );
        } else if (
          last &&
          last.validInOrder &&
          onlyValidSoFar &&
          !taintedAtStart &&
          role.kind === 'writer' &&
          closed.code !== 1008
        ) {
          fail(
            `a writer's valid update, sent in order after only valid ones, was refused (${closed.code} "${closed.reason}"): ${describeFrame(last)}`,
          );
        }
      };
      if (role.kind === 'unauthorized' && socket.closure() === undefined) {
        // A refused socket reads nothing more, not even the answer to its close: it ends when the
        // server cuts it off, a while later. Counted then; the next session need not wait for it.
        closing.push(
          until(
            [socket],
            () => socket.closure() !== undefined,
            timeoutMs,
            'an unauthorized socket to be closed',
          ).then(account, () => {
            fail(`an unauthorized socket (${role.how}, ${room}) was not closed within ${timeoutMs} ms`);
            socket.ws.terminate();
          }),
        );
        return;
      }
      account();
    } finally {
      if (pooledIdentity) release(pooledIdentity);
      else identity.doc.destroy();
      if (role.kind !== 'unauthorized') await socket.close(timeoutMs);
    }
  };

  // Health: /healthz answers, at the start and every so often.
  const healthy = async (when: string) => {
    try {
      const response = await fetch(`${target.origin()}/healthz`);
      if (response.status !== 200) fail(`/healthz answered ${response.status} ${when}`);
    } catch (error) {
      fail(`/healthz did not answer ${when}: ${(error as Error).message}`);
    }
  };
  await healthy('before the fuzz');

  let sessionIndex = 0;
  let nextHealth = 2_000;
  let nextProgress = 10_000;
  const worker = async () => {
    while (!stop && report.framesSent < options.frames) {
      await runSession(sessionIndex++);
      if (report.framesSent >= nextHealth) {
        nextHealth += 2_000;
        await healthy(`after ${report.framesSent} frames`);
      }
      if (report.framesSent >= nextProgress) {
        nextProgress += 10_000;
        progress(
          `${report.framesSent} frames, ${report.sessions} sessions, ${((Date.now() - started) / 1000) | 0} s; ${edits.length} honest edits, ${edits.filter((edit) => edit.relayed).length} relayed so far`,
        );
      }
      if (failures.length >= 50) stop = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  stop = true;
  await Promise.all(closing);
  for (const pool of Object.values(pools)) for (const identity of pool) identity.doc.destroy();
  await healthy('after the fuzz');

  // Every honest edit relayed to the other honest client of its room, and acknowledged as stored.
  report.honestEdits = edits.length;
  report.honestEditIds = edits.map((edit) => ({ room: FUZZ_ROOMS[edit.room], id: edit.id }));
  const allSaved = () => allHonest.every((client) => client.savedClock >= client.clock);
  await until(
    allHonest,
    () => pendingRelay.size === 0 && allSaved(),
    timeoutMs,
    'the honest edits to be relayed and acknowledged',
  ).catch(() => {});
  report.honestRelayed = edits.filter((edit) => edit.relayed).length;
  const missing = edits.filter((edit) => !edit.relayed);
  if (missing.length > 0) {
    const first = missing[0]!;
    const previous = edits
      .filter((edit) => edit.room === first.room && edit.relayed && edit.afterFrame <= first.afterFrame)
      .at(-1);
    const window = frames.filter(
      (frame) =>
        frame.room === FUZZ_ROOMS[first.room] &&
        frame.index >= (previous?.afterFrame ?? 0) &&
        frame.index <= first.afterFrame,
    );
    fail(
      `${missing.length} of ${edits.length} honest edits were never relayed to the other honest client; the first, ${first.id}, was made after frame #${first.afterFrame}` +
        (previous
          ? ` (the last one relayed in ${FUZZ_ROOMS[first.room]} was made after #${previous.afterFrame})`
          : '') +
        `. Frames to ${FUZZ_ROOMS[first.room]} in between${window.length > 60 ? ` (the last 60 of ${window.length})` : ''}:\n  ${window.slice(-60).map(describeFrame).join('\n  ')}`,
    );
  }
  for (const entry of honest) {
    const client = entry.client;
    if (client.savedClock < client.clock)
      fail(
        `${client.name}: the server acknowledged its items up to clock ${client.savedClock} of ${client.clock}`,
      );
    for (const close of client.serverCloses) {
      const before = frames.filter((frame) => frame.room === FUZZ_ROOMS[entry.room]).slice(-5);
      fail(
        `${client.name}'s socket was closed by the server with ${close.code} "${close.reason}" during the fuzz; the last frames to its room:\n  ${before.map(describeFrame).join('\n  ')}`,
      );
    }
    for (const error of client.applyErrors.slice(0, 5)) fail(error);
  }

  // Stored: each room's log loads, holds every honest edit, and nothing of what was refused.
  const honestClients = new Set(allHonest.map((client) => client.clientID));
  /** Clients that must be in no room's log nor any honest doc, with the session that sent them. */
  const forbidden = new Map<number, SessionRecord>();
  for (const session of sessions) {
    const writer = session.role.kind === 'writer';
    if (!writer || !session.freshTaken) forbidden.set(session.fresh, session);
    if (!session.pooled && (!writer || !session.identityTaken)) forbidden.set(session.identity, session);
  }
  /** A room's stored log: it decodes and loads, holds every honest edit of the room, and nothing of what was refused. */
  const storedCheck = async (room: string, when: string): Promise<void> => {
    let updates: Uint8Array[];
    try {
      updates = await target.storedUpdates(room);
    } catch (error) {
      return fail(`the stored log of ${room} could not be read ${when}: ${(error as Error).message}`);
    }
    const storedClients = new Set<number>();
    for (const [i, update] of updates.entries()) {
      try {
        const { structs, ds } = Y.decodeUpdate(update);
        for (const struct of structs) storedClients.add(struct.id.client);
        for (const client of ds.clients.keys()) storedClients.add(client);
      } catch (error) {
        fail(`stored update ${i} of ${room} does not decode ${when}: ${(error as Error).message}`);
      }
    }
    const honestHere = edits.filter((edit) => FUZZ_ROOMS[edit.room] === room);
    const doc = new Y.Doc();
    try {
      Y.applyUpdate(doc, Y.mergeUpdates(updates));
      if (doc._transaction !== null || doc._transactionCleanups.length > 0)
        fail(`the stored log of ${room} leaves a doc unable to emit updates ${when}`);
      const deals = doc.getMap('deals');
      const notStored = honestHere.filter((edit) => !deals.has(edit.id));
      if (notStored.length > 0)
        fail(
          `${notStored.length} honest edits of ${room} are not in its stored log ${when}, the first ${notStored[0]!.id} (made after frame #${notStored[0]!.afterFrame})`,
        );
      else if (when === 'after the fuzz') report.honestStored += honestHere.length;
    } catch (error) {
      fail(`the stored log of ${room} does not load ${when}: ${(error as Error).message}`);
    } finally {
      doc.destroy();
    }
    for (const client of storedClients) {
      if (honestClients.has(client)) continue;
      const session = forbidden.get(client);
      if (session) {
        fail(
          `client ${client} of a ${session.role.kind} session (${session.index}) none of whose frames carrying it was taken is in the stored log of ${room} ${when}; its frames:\n  ${session.frames.map(describeFrame).join('\n  ')}`,
        );
      }
      const poison = refusedPoison.get(client);
      if (poison && !takenPoison.has(client))
        fail(
          `client ${client} of a refused poisoning message is in the stored log of ${room} ${when}: ${describeFrame(poison)}`,
        );
    }
  };
  const readRooms = [
    ...new Set(sessions.flatMap((session) => (session.role.kind === 'reader' ? [session.role.reader] : []))),
  ].map((reader) => READERS[reader]!);
  const touched = [
    ...ROOM_KEYS.map((key) => FUZZ_ROOMS[key]),
    ...readRooms
      .map((reader) => reader.room)
      .filter((room) => !ROOM_KEYS.some((key) => FUZZ_ROOMS[key] === room)),
  ];
  for (const room of touched) await storedCheck(room, 'after the fuzz');
  for (const client of allHonest) {
    for (const id of client.doc.store.clients.keys()) {
      const session = forbidden.get(id);
      if (session)
        fail(
          `${client.name} was sent structs of client ${id} of session ${session.index}, none of whose frames carrying it was taken`,
        );
      const poison = refusedPoison.get(id);
      if (poison && !takenPoison.has(id))
        fail(
          `${client.name} was sent structs of client ${id} of a refused poisoning message: ${describeFrame(poison)}`,
        );
    }
  }

  // Restart: every room touched loads, and a new client sees every honest edit.
  for (const client of allHonest) await client.disconnect();
  try {
    await target.restart();
  } catch (error) {
    fail(`the server did not restart cleanly: ${(error as Error).message}`);
  }
  await healthy('after the restart');
  const checkerClaims = (room: string): TokenClaims => {
    const key = ROOM_KEYS.find((candidate) => FUZZ_ROOMS[candidate] === room);
    if (key === 'program') return vendorClaims('checker');
    if (key !== undefined) return repClaims('checker', key);
    return readRooms.find((reader) => reader.room === room)!.claims('checker');
  };
  for (const room of touched) {
    const checker = new SyncClient(`checker of ${room}`);
    checker.connect(socketUrl(target.origin(), room), bearerProtocols(await signWith(checkerClaims(room))));
    try {
      await until(
        [checker],
        () => checker.synced || checker.serverCloses.length > 0,
        timeoutMs,
        `${room} to load after the restart`,
      );
      if (checker.synced) {
        report.roomsLoadedAfterRestart.push(room);
        const missingAfter = edits.filter(
          (edit) => FUZZ_ROOMS[edit.room] === room && !checker.doc.getMap('deals').has(edit.id),
        );
        if (missingAfter.length > 0)
          fail(
            `after the restart, ${missingAfter.length} honest edits of ${room} are missing, the first ${missingAfter[0]!.id}`,
          );
      } else {
        const close = checker.serverCloses[0]!;
        // A read-only room this server does not have (an older room layout) refuses its readers: nothing to load.
        const notARoom = close.code === 4403 && !ROOM_KEYS.some((key) => FUZZ_ROOMS[key] === room);
        if (!notARoom)
          fail(
            `after the restart, ${room} does not load: its socket was closed with ${close.code} "${close.reason}"`,
          );
      }
      for (const error of checker.applyErrors.slice(0, 3)) fail(`after the restart: ${error}`);
    } catch (error) {
      fail(`after the restart: ${(error as Error).message}`);
    } finally {
      checker.destroy();
    }
    await storedCheck(room, 'after the restart');
  }
  for (const client of allHonest) client.destroy();
  report.durationMs = Date.now() - started;
  return report;
}

/** The report in a few lines, for a person. */
export function formatReport(report: FuzzReport): string {
  const kinds = Object.entries(report.framesByKind)
    .map(([kind, stats]) => `${kind} ${stats.sent} (taken ${stats.taken}, closed ${stats.closed})`)
    .join(', ');
  const codes = Object.entries(report.closedByCode)
    .map(([code, count]) => `${code}: ${count}`)
    .join(', ');
  return [
    `seed ${report.seed}: ${report.framesSent} frames in ${report.sessions} sessions, ${(report.durationMs / 1000).toFixed(1)} s`,
    `frames: ${kinds}`,
    `sessions: ${Object.entries(report.sessionsByRole)
      .map(([role, count]) => `${role} ${count}`)
      .join(', ')}`,
    `hostile sockets closed by the server, by code: ${codes || 'none'}`,
    `honest edits: ${report.honestEdits} made, ${report.honestRelayed} relayed, ${report.honestStored} stored`,
    `rooms loaded after the restart: ${report.roomsLoadedAfterRestart.join(', ') || 'none'}`,
    report.failures.length === 0
      ? 'no failures'
      : `${report.failures.length} failures:\n- ${report.failures.join('\n- ')}`,
  ].join('\n');
}

/** Guards that the fuzz did what it is for; each entry names one that did not hold. */
export function fuzzGuards(report: FuzzReport, frames: number): string[] {
  const problems: string[] = [];
  if (report.framesSent < frames) problems.push(`only ${report.framesSent} of ${frames} frames were sent`);
  const closedForInput = [...WRITER_CLOSE_CODES].reduce(
    (sum, code) => sum + (report.closedByCode[code] ?? 0),
    0,
  );
  if (closedForInput < frames / 4)
    problems.push(`only ${closedForInput} sockets were closed for bad input (1007/4403/1008)`);
  if ((report.closedByCode[4401] ?? 0) === 0) problems.push('no unauthorized socket was closed with 4401');
  const taken = Object.values(report.framesByKind).reduce((sum, stats) => sum + stats.taken, 0);
  if (taken < frames / 10)
    problems.push(`only ${taken} frames were taken: the sessions hardly got past their first frame`);
  for (const kind of ['valid', 'mutated', 'structured', 'poison', 'edge', 'random'] as const) {
    if ((report.framesByKind[kind]?.sent ?? 0) === 0) problems.push(`no ${kind} frame was sent`);
  }
  if ((report.framesByKind['valid']?.taken ?? 0) < frames / 20)
    problems.push(`only ${report.framesByKind['valid']?.taken ?? 0} valid frames were taken`);
  if (report.honestEdits < frames / 100) problems.push(`only ${report.honestEdits} honest edits were made`);
  for (const key of ROOM_KEYS)
    if (!report.roomsLoadedAfterRestart.includes(FUZZ_ROOMS[key]))
      problems.push(`${FUZZ_ROOMS[key]} did not load after the restart`);
  return problems;
}
