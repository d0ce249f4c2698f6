/**
 * The sync endpoint: `ws(s)://HOST:PORT/sync/<room>`, speaking the y-websocket protocol so the stock
 * y-websocket 3.1 client connects. In order, for each socket:
 *
 * 1. At the upgrade: the path names a room under /sync/, the Origin (when a browser sends one) is
 *    this host or in ALLOWED_ORIGINS, and the address has a free connection slot.
 * 2. After the upgrade the socket is paused: nothing it sends is read until it is authorized, so an
 *    unauthenticated peer costs a few KB however large the frames it sends.
 * 3. The token (subprotocol `bearer.<token>` or `?token=`) is verified and not revoked — else close
 *    4401 — the room name, parsed once, is allowed by the ACL — else close 4403 — and the user has a
 *    free connection slot. Close codes rather than an HTTP 401 at the upgrade: the client retries
 *    forever after an HTTP error and stops on 4400–4499. A refused socket is cut off at once.
 * 4. The room's stored state is loaded before any message of the socket is answered.
 * 5. Messages are handled one at a time, within the connection's and the user's rates; a
 *    read-only socket's sync step 2 and updates are dropped; a writer's update goes through the
 *    room's checks (room.ts) and one that is refused closes that socket only.
 * 6. What the server says is stored, is: a sync step 2 answer and an acknowledgement are sent once
 *    everything they include is stored.
 * 7. Open sockets are checked about twice a second: an expired or revoked token closes its socket
 *    with 4401, which the app answers by signing in again, keeping its unsent changes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Access, TokenClaims } from '../auth/claims';
import type { RevocationList } from '../auth/revocations';
import type { TokenFacts } from '../auth/tokens';
import { parseRoom, type RoomName } from '../../src/lib/sync/rooms';
import type { RoomStorage } from '../storage/storage';
import {
  CLOSE_FORBIDDEN,
  CLOSE_INVALID,
  CLOSE_POLICY,
  CLOSE_TRY_LATER,
  CLOSE_UNAUTHORIZED,
  MESSAGE_AUTH,
  MESSAGE_AWARENESS,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SAVED,
  MESSAGE_SYNC,
  SYNC_SUBPROTOCOL,
} from '../../src/lib/sync/protocol';
import { Heartbeat } from './heartbeat';
import { DEFAULT_LIMITS, TokenBucket, type SyncLimits } from './limits';
import { Room, awarenessMessage, type RoomMember } from './room';
import type { UpdateRules } from './update-check';

export type TokenCheck = ({ ok: true } & TokenFacts) | { ok: false; reason: 'expired' | 'invalid' };

export interface SyncServerOptions {
  storage: RoomStorage;
  /** Verifies a token (signature, expiry, claims). */
  verifyToken: (token: string) => Promise<TokenCheck>;
  /** What the holder of `claims` may do in `room`. */
  roomAccess: (claims: TokenClaims, room: RoomName) => Access;
  /** What a writer's update may touch in `room` (its root types). */
  updateRules: (room: RoomName) => UpdateRules;
  /** Revoked tokens; checked at connect and, refreshed, on open sockets. */
  revocations?: RevocationList;
  /** How often open sockets' tokens are checked for expiry and revocation (default 500 ms). */
  sessionCheckMs?: number;
  /** Whether a room's whole state is encoded once for every client that has nothing (default true; the bench compares). */
  cacheWholeState?: boolean;
  /** The token a request carries, and whether it offered the app's subprotocol. */
  tokenFromRequest: (req: IncomingMessage) => { token: string | undefined; protocol?: string };
  /** Origins besides this host's own that may open sockets. */
  allowedOrigins: readonly string[];
  limits?: Partial<SyncLimits>;
  /** Called after each stored update (metrics, the rollup worker). */
  onStored?: (room: Room, update: Uint8Array, origin: unknown) => void;
  /** Called for each room as it is created, before its stored state is loaded (the channel worker watches program rooms). */
  onRoomOpened?: (room: Room) => void;
  /**
   * How long a room nobody uses stays loaded (default 30 s; 0: unloaded as soon as its updates are
   * stored). Phones in the field drop and reconnect often: each reload of a partner's room reads
   * its whole log and has the rollup worker fold every record again (about 1.5 s of this server's
   * CPU for 60,000 records), where a room kept loaded answers at once.
   */
  keepIdleRoomMs?: number;
  now?: () => number;
  /** One line per notable event; never given a token. */
  log?: (line: string) => void;
}

export interface SyncCounters {
  connections: number;
  roomsLoaded: number;
  updatesStored: number;
  bytesReceived: number;
  droppedReadOnly: number;
  updatesRefused: number;
  roomsBroken: number;
  compactions: number;
  compactionsFailed: number;
  closedByCode: Map<number, number>;
}

/**
 * What the server uses of a socket: a `ws` WebSocket has it all; tests connect in-memory ones
 * (`connect`), so that the same server code runs under schedules no real network gives at will.
 */
export interface SyncSocket {
  readonly OPEN: number;
  readonly readyState: number;
  send(message: Uint8Array, done?: (error?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
  /** Stops reading from the peer (until `resume`): what it sends meanwhile waits in its own buffers. */
  pause(): void;
  resume(): void;
  ping(): void;
  on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'pong', listener: () => void): this;
  once(event: 'close', listener: () => void): this;
}

/** Who connects to which room: what the upgrade request says, once read. */
export interface SyncRequest {
  token: string | undefined;
  /** The subprotocol the client offered and the server answered with, if any. */
  protocol?: string;
  address: string;
  /** The room name as given (parsed and checked by the server). */
  room: string;
}

/** A writer's sync handshake: done once its sync step 2 is applied; its updates that came early, meanwhile. */
interface Handshake {
  done: boolean;
  held: Uint8Array[];
  heldBytes: number;
}

/** An authorized socket: what its token said, for the checks on open sockets. */
interface Session extends TokenFacts {
  ws: SyncSocket;
}

export class SyncServer {
  readonly rooms = new Map<string, Room>();
  readonly counters: SyncCounters = {
    connections: 0,
    roomsLoaded: 0,
    updatesStored: 0,
    bytesReceived: 0,
    droppedReadOnly: 0,
    updatesRefused: 0,
    roomsBroken: 0,
    compactions: 0,
    compactionsFailed: 0,
    closedByCode: new Map(),
  };
  private readonly limits: SyncLimits;
  private readonly wss: WebSocketServer;
  private readonly perAddress = new Map<string, number>();
  /** Sockets of each address still waiting for their token to be checked. */
  private readonly unauthorizedPerAddress = new Map<string, number>();
  /** Each signed-in user's open sockets and the rates they share. */
  private readonly perUser = new Map<
    string,
    { sockets: number; messages: TokenBucket; bytes: TokenBucket }
  >();
  private readonly sessions = new Set<Session>();
  private readonly sessionChecker: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();
  private readonly heartbeat = new Heartbeat<SyncSocket>(PING_SLICES);
  /** Every open socket, real or in-memory. */
  private readonly sockets = new Set<SyncSocket>();
  private readonly pinger: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private closing = false;
  /** The rooms nobody uses, waiting to be unloaded (`keepIdleRoomMs`). */
  private readonly idleTimers = new Map<Room, NodeJS.Timeout>();

  constructor(private readonly options: SyncServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
    this.wss = syncSocketServer(this.limits);
    this.pinger = setInterval(() => this.heartbeat.tick(), this.heartbeat.tickMs(this.limits.pingIntervalMs));
    this.pinger.unref();
    this.sessionChecker = setInterval(
      () => void this.checkSessions(),
      options.sessionCheckMs ?? DEFAULT_SESSION_CHECK_MS,
    );
    this.sessionChecker.unref();
  }

  /** Takes an HTTP upgrade if it is for the sync endpoint; returns false for other paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return upgradeToSync(this.wss, req, socket, head, {
      closing: this.closing,
      allowedOrigins: this.options.allowedOrigins,
      tokenFromRequest: this.options.tokenFromRequest,
      log: this.log,
      connect: (ws, request) => this.connect(ws, request),
    });
  }

  /** Takes a socket that has just opened (the upgrade's, or an in-memory one) for `request.room`. */
  connect(ws: SyncSocket, request: SyncRequest): void {
    // Read nothing more until the token is checked (accept resumes it).
    ws.pause();
    const { address } = request;
    const open = this.perAddress.get(address) ?? 0;
    const waiting = this.unauthorizedPerAddress.get(address) ?? 0;
    if (
      this.closing ||
      open >= this.limits.connectionsPerAddress ||
      waiting >= this.limits.unauthorizedPerAddress
    ) {
      this.cutOff(
        ws,
        CLOSE_TRY_LATER,
        this.closing ? 'server shutting down' : 'too many connections from this address',
      );
      return;
    }
    this.perAddress.set(address, open + 1);
    this.sockets.add(ws);
    this.heartbeat.add(ws);
    ws.once('close', () => {
      decrement(this.perAddress, address);
      this.sockets.delete(ws);
      this.heartbeat.remove(ws);
    });
    this.accept(ws, request);
  }

  private accept(ws: SyncSocket, { token, protocol, address, room: roomName }: SyncRequest): void {
    this.counters.connections++;
    this.unauthorizedPerAddress.set(address, (this.unauthorizedPerAddress.get(address) ?? 0) + 1);
    let authorizing = true;
    const authorized = () => {
      if (authorizing) decrement(this.unauthorizedPerAddress, address);
      authorizing = false;
    };
    ws.once('close', authorized);
    // What a paused socket still delivers (the rest of what was read with the upgrade), and what it
    // sends while its room loads, waits here, bounded: a few messages of a few KB, a client's hello.
    const queue: Uint8Array[] = [];
    let queuedBytes = 0;
    let handle: ((message: Uint8Array) => Promise<void>) | undefined;
    let chain = Promise.resolve();
    const received = (data: Uint8Array) => {
      chain = chain
        .then(() => handle?.(data))
        .catch((error: unknown) => {
          if (error instanceof RefusedUpdate) {
            this.counters.updatesRefused++;
            this.log(`sync: refused an update to ${roomName}: ${error.message}`);
            return this.closeSocket(ws, CLOSE_INVALID, 'update refused');
          }
          if (error instanceof RoomUnavailable)
            return this.closeSocket(ws, CLOSE_TRY_LATER, 'room unavailable');
          this.log(
            `sync: closing a connection to ${roomName}: malformed message (${(error as Error).message})`,
          );
          this.closeSocket(ws, CLOSE_INVALID, 'malformed message');
        });
    };
    ws.on('error', (error) => this.log(`sync: socket error: ${error.message}`));
    ws.on('message', (data, isBinary) => {
      if (!isBinary || !(data instanceof Uint8Array))
        return this.closeSocket(ws, CLOSE_INVALID, 'text frames are not sync messages');
      const message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (handle) return received(message);
      // Until the socket is authorized and its room loaded, what it sends (its sync step 1) waits.
      queuedBytes += message.byteLength;
      if (queuedBytes > this.limits.unauthorizedBytes)
        return this.cutOff(ws, CLOSE_POLICY, 'too much sent before sign-in');
      queue.push(message);
    });
    ws.on('pong', () => this.heartbeat.pong(ws));
    ws.once('close', () => this.counters.connections--);

    void this.authorize(token, roomName).then(async (decision) => {
      if (ws.readyState !== ws.OPEN) return;
      if ('refuse' in decision) return this.cutOff(ws, decision.refuse, decision.reason);
      const user = this.userSlot(decision.facts.claims.userId);
      if (!user) return this.cutOff(ws, CLOSE_TRY_LATER, 'too many connections for this user');
      ws.once('close', () => this.releaseUserSlot(decision.facts.claims.userId));
      const session: Session = { ...decision.facts, ws };
      this.sessions.add(session);
      ws.once('close', () => this.sessions.delete(session));
      authorized();
      const room = this.room(decision.room);
      const member = this.member(ws, protocol === SYNC_SUBPROTOCOL);
      room.join(member);
      ws.once('close', () => this.leave(room, member));
      ws.resume();
      try {
        await room.loaded;
      } catch (error) {
        this.log(`sync: room ${roomName} could not be loaded: ${(error as Error).message}`);
        this.dropRoom(room);
        return this.closeSocket(ws, CLOSE_TRY_LATER, 'room unavailable');
      }
      if (ws.readyState !== ws.OPEN) return;
      const messages = new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, this.now());
      const bytes = new TokenBucket(
        this.limits.bytesPerSecond,
        this.limits.maxMessageBytes + this.limits.bytesPerSecond,
        this.now(),
      );
      const readOnly = decision.access === 'read';
      const handshake: Handshake = { done: false, held: [], heldBytes: 0 };
      handle = async (message) => {
        const now = this.now();
        if (ws.readyState !== ws.OPEN) return;
        const withinRates =
          messages.take(1, now) &&
          bytes.take(message.byteLength, now) &&
          user.messages.take(1, now) &&
          user.bytes.take(message.byteLength, now);
        if (!withinRates) {
          this.log(`sync: closing a connection to ${roomName}: too many messages`);
          return this.closeSocket(ws, CLOSE_POLICY, 'too many messages');
        }
        this.counters.bytesReceived += message.byteLength;
        await this.handleMessage(room, member, message, readOnly, decision.facts.claims, handshake);
      };
      // Our state first (sync step 1) and who is here, as the stock server does.
      member.send(syncStep1(room.doc));
      const present = [...room.awareness.getStates().keys()];
      if (present.length) member.send(awarenessMessage(room.awareness, present));
      for (const message of queue.splice(0)) received(message);
    });
  }

  /** A slot for one more socket of `userId` with the rates all its sockets share, or undefined when it has none left. */
  private userSlot(userId: string) {
    let user = this.perUser.get(userId);
    if (!user) {
      const now = this.now();
      user = {
        sockets: 0,
        messages: new TokenBucket(this.limits.userMessagesPerSecond, this.limits.messageBurst, now),
        bytes: new TokenBucket(
          this.limits.userBytesPerSecond,
          this.limits.maxMessageBytes + this.limits.userBytesPerSecond,
          now,
        ),
      };
      this.perUser.set(userId, user);
    }
    if (user.sockets >= this.limits.connectionsPerUser) return undefined;
    user.sockets++;
    return user;
  }

  private releaseUserSlot(userId: string): void {
    const user = this.perUser.get(userId);
    if (!user) return;
    user.sockets--;
    // Forgetting an idle user's buckets also forgets what it spent: its next socket starts full,
    // like every new connection.
    if (user.sockets <= 0) this.perUser.delete(userId);
  }

  private async authorize(
    token: string | undefined,
    roomName: string,
  ): Promise<{ room: RoomName; access: Access; facts: TokenFacts } | { refuse: number; reason: string }> {
    if (!token) return { refuse: CLOSE_UNAUTHORIZED, reason: 'sign-in required' };
    const checked = await this.options.verifyToken(token);
    if (!checked.ok)
      return {
        refuse: CLOSE_UNAUTHORIZED,
        reason: checked.reason === 'expired' ? 'token expired' : 'invalid token',
      };
    if (this.options.revocations?.isRevoked(checked))
      return { refuse: CLOSE_UNAUTHORIZED, reason: 'token revoked' };
    const room = parseRoom(roomName);
    if (!room) return { refuse: CLOSE_FORBIDDEN, reason: 'no such room' };
    const access = this.options.roomAccess(checked.claims, room);
    if (access === 'none') return { refuse: CLOSE_FORBIDDEN, reason: 'room not allowed' };
    const { ok: _ok, ...facts } = checked;
    return { room, access, facts };
  }

  private async handleMessage(
    room: Room,
    member: RoomMember,
    message: Uint8Array,
    readOnly: boolean,
    claims: TokenClaims,
    handshake: Handshake,
  ): Promise<void> {
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    switch (type) {
      case MESSAGE_SYNC: {
        const step = decoding.readVarUint(decoder);
        if (step === syncProtocol.messageYjsSyncStep1) {
          const answer = room.syncStep2Answer(decoding.readVarUint8Array(decoder), {
            cache: this.options.cacheWholeState !== false,
          });
          const stateVector = Y.encodeStateVector(room.doc);
          // The doc may hold updates of this turn not stored yet: answer once they are.
          try {
            await room.whenStored();
          } catch {
            throw new RoomUnavailable();
          }
          member.send(answer);
          member.saved(stateVector);
          return;
        }
        if (step !== syncProtocol.messageYjsSyncStep2 && step !== syncProtocol.messageYjsUpdate)
          throw new Error(`unknown sync step ${step}`);
        const update = decoding.readVarUint8Array(decoder);
        if (readOnly) {
          this.counters.droppedReadOnly++;
          return;
        }
        const completes = step === syncProtocol.messageYjsSyncStep2 && !handshake.done;
        // The step 2 that completes the handshake goes in with the updates held until then, as one
        // update: what is refused then is refused whole, and nothing of it is stored (R5).
        const releasing = completes && handshake.held.length > 0;
        const applied = releasing ? mergedOrUndefined([update, ...handshake.held]) : update;
        if (applied === undefined)
          throw new RefusedUpdate(
            `user ${claims.userId}: its sync step 2 and the updates before it do not merge`,
          );
        const outcome = room.applyUpdate(applied, member);
        if (!outcome.ok && outcome.ahead && !handshake.done && !releasing) {
          // A device sends its edits as soon as its socket opens, before the handshake brings what
          // they build on (its sync step 2): held until then, within one message's worth of bytes.
          handshake.heldBytes += update.byteLength;
          if (handshake.heldBytes > this.limits.maxMessageBytes)
            throw new RefusedUpdate(`user ${claims.userId}: too much sent before its sync step 2`);
          handshake.held.push(update);
          return;
        }
        if (!outcome.ok) throw new RefusedUpdate(`user ${claims.userId}: ${outcome.reason}`);
        if (completes) {
          handshake.done = true;
          handshake.held = [];
        }
        return;
      }
      case MESSAGE_AWARENESS: {
        const presence = decoding.readVarUint8Array(decoder);
        // Presence is relayed to everyone in the room: a reader (a vendor manager in a partner room)
        // sends none, and a writer's is a few hundred bytes.
        if (readOnly) return;
        if (presence.byteLength > MAX_PRESENCE_BYTES)
          throw new Error(`presence of ${presence.byteLength} bytes (at most ${MAX_PRESENCE_BYTES})`);
        awarenessProtocol.applyAwarenessUpdate(room.awareness, presence, member);
        return;
      }
      case MESSAGE_QUERY_AWARENESS:
        member.send(awarenessMessage(room.awareness, [...room.awareness.getStates().keys()]));
        return;
      case MESSAGE_AUTH:
        return;
      default:
        throw new Error(`unknown message type ${type}`);
    }
  }

  private member(ws: SyncSocket, acknowledges: boolean): RoomMember {
    return {
      close: (code, reason) => this.closeSocket(ws, code, reason),
      send: (message) => {
        if (ws.readyState === ws.OPEN)
          ws.send(message, (error) => error && this.log(`sync: send failed: ${error.message}`));
      },
      saved: (stateVector) => {
        if (!acknowledges || ws.readyState !== ws.OPEN) return;
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SAVED);
        encoding.writeVarUint8Array(encoder, stateVector);
        ws.send(encoding.toUint8Array(encoder));
      },
    };
  }

  /** The loaded room of that name, loading it when it is not. */
  room(name: RoomName): Room {
    let room = this.rooms.get(name.name);
    if (!room) {
      room = new Room(name, this.options.storage, this.options.updateRules(name), {
        stored: (stored, update, origin) => {
          this.counters.updatesStored++;
          this.options.onStored?.(stored, update, origin);
        },
        failed: (failed, error) => {
          // Its clients keep their changes and send them again when they reconnect to a room loaded afresh.
          this.log(
            `sync: room ${failed.name.name} cannot store updates, reloading it: ${(error as Error).message}`,
          );
          this.dropRoom(failed);
        },
        broken: (broken, reason) => {
          this.counters.roomsBroken++;
          this.log(
            `sync: room ${broken.name.name} failed to apply an update its checks passed (${reason}); reloading it from storage`,
          );
          this.dropRoom(broken);
        },
        compacted: (compacted, problem) => {
          if (problem === undefined) return void this.counters.compactions++;
          this.counters.compactionsFailed++;
          this.log(`sync: room ${compacted.name.name} not compacted, its log is kept: ${problem}`);
        },
      });
      this.rooms.set(name.name, room);
      this.counters.roomsLoaded = this.rooms.size;
      this.options.onRoomOpened?.(room);
    }
    return room;
  }

  /**
   * Runs `use` on the room of that name once its stored state is loaded, keeping it loaded
   * meanwhile, and unloads it afterwards if nobody else uses it (the server's own writers).
   */
  async withRoom<T>(name: RoomName, use: (room: Room) => T | Promise<T>): Promise<T> {
    const room = this.room(name);
    const release = room.hold();
    try {
      await room.loaded;
      return await use(room);
    } finally {
      release();
      this.unloadIfIdle(room);
    }
  }

  private leave(room: Room, member: RoomMember): void {
    room.leave(member);
    this.unloadIfIdle(room);
  }

  /** Unloads a room nobody uses once its updates are stored and it has stayed unused for `keepIdleRoomMs`. */
  unloadIfIdle(room: Room): void {
    if (!room.idle) return;
    clearTimeout(this.idleTimers.get(room));
    this.idleTimers.delete(room);
    const unload = () => {
      this.idleTimers.delete(room);
      void room.settled().then(
        () => {
          if (!room.idle || this.rooms.get(room.name.name) !== room) return;
          this.rooms.delete(room.name.name);
          this.counters.roomsLoaded = this.rooms.size;
          room.destroy();
        },
        (error: unknown) =>
          this.log(`sync: room ${room.name.name} not unloaded: ${(error as Error).message}`),
      );
    };
    const keep = this.options.keepIdleRoomMs ?? DEFAULT_KEEP_IDLE_ROOM_MS;
    if (keep <= 0) return unload();
    // Whoever comes back meanwhile makes the room busy again: the timer then finds it so and leaves
    // it; their leaving starts a new wait.
    const timer = setTimeout(unload, keep);
    timer.unref();
    this.idleTimers.set(room, timer);
  }

  /**
   * Drops a room whose doc cannot be trusted (or could not be loaded): its connections are closed
   * with a code after which clients reconnect, and the next connection loads it from storage.
   */
  private dropRoom(room: Room): void {
    if (this.rooms.get(room.name.name) !== room) return;
    this.rooms.delete(room.name.name);
    this.counters.roomsLoaded = this.rooms.size;
    clearTimeout(this.idleTimers.get(room));
    this.idleTimers.delete(room);
    for (const member of [...room.members.keys()]) member.close(CLOSE_TRY_LATER, 'room reloading');
    void room.settled().then(
      () => room.destroy(),
      () => room.destroy(),
    );
  }

  /** Closes expired and revoked sessions; runs every `sessionCheckMs`, and when a test calls it. */
  checkSessions(): Promise<void> {
    this.sweeping = this.sweeping.then(async () => {
      try {
        await this.options.revocations?.refresh();
      } catch (error) {
        this.log(`sync: could not read revocations: ${(error as Error).message}`);
      }
      const now = this.now();
      for (const session of this.sessions) {
        const reason =
          session.expiresAt <= now
            ? 'token expired'
            : this.options.revocations?.isRevoked(session)
              ? 'token revoked'
              : undefined;
        if (reason === undefined) continue;
        this.sessions.delete(session);
        this.closeSocket(session.ws, CLOSE_UNAUTHORIZED, reason);
      }
    });
    return this.sweeping;
  }

  private closeSocket(ws: SyncSocket, code: number, reason: string): void {
    this.counters.closedByCode.set(code, (this.counters.closedByCode.get(code) ?? 0) + 1);
    ws.close(code, reason);
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => ws.terminate(), 5_000).unref();
  }

  /** Closes a socket that was never authorized: it is paused, so it is cut off once the close frame is out. */
  private cutOff(ws: SyncSocket, code: number, reason: string): void {
    this.counters.closedByCode.set(code, (this.counters.closedByCode.get(code) ?? 0) + 1);
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CUT_OFF_AFTER_MS).unref();
  }

  /** Stops taking sockets, closes the open ones (clients reconnect later) and stores everything. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    clearInterval(this.sessionChecker);
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    for (const ws of this.sockets) {
      ws.close(1001, 'server shutting down');
      // A socket still paused for its token check must read the peer's answer to close.
      ws.resume();
    }
    await Promise.all([...this.rooms.values()].map((room) => room.settled()));
    for (const room of this.rooms.values()) room.destroy();
    this.rooms.clear();
    this.wss.close();
  }
}

/** See SyncServerOptions.keepIdleRoomMs. */
export const DEFAULT_KEEP_IDLE_ROOM_MS = 30_000;
/** Revocation takes effect on open sockets within a second: checked twice as often. */
export const DEFAULT_SESSION_CHECK_MS = 500;
/** Open sockets are pinged a slice at a time: with the default interval (25 s), a slice a second. */
const PING_SLICES = 25;
/** A device's presence (its user and cursor) is a few hundred bytes; far more is not presence. */
const MAX_PRESENCE_BYTES = 16 * 1024;
/** Long enough for a refused socket's close frame to leave; the peer's answer is not waited for. */
const CUT_OFF_AFTER_MS = 250;

class RefusedUpdate extends Error {}

class RoomUnavailable extends Error {}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

function syncStep1(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(encoder, doc);
  return encoding.toUint8Array(encoder);
}

/**
 * The `ws` server that upgrades sync sockets: messages bounded, the app's subprotocol answered, no
 * compression (the messages are Yjs binary; socket-bridge.ts frames them itself, uncompressed).
 */
export function syncSocketServer(limits: Pick<SyncLimits, 'maxMessageBytes'>): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: limits.maxMessageBytes,
    // Answer with the app's subprotocol when offered; never echo the bearer token.
    handleProtocols: (protocols) => (protocols.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
  });
}

const PATH_PREFIX = '/sync/';

/**
 * Step 1 of the sync endpoint (see the top of this file): takes an HTTP upgrade whose path is under
 * /sync/ — returns false for other paths — refuses it while the server closes or when its Origin is
 * not allowed, and hands the opened socket to `connect` with what the request said.
 */
export function upgradeToSync(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  how: Pick<SyncServerOptions, 'allowedOrigins' | 'tokenFromRequest'> & {
    closing: boolean;
    log: (line: string) => void;
    /** `socket` is the upgraded connection itself, under `ws` (socket-bridge.ts writes framed messages to it). */
    connect: (ws: WebSocket, request: SyncRequest, socket: Duplex) => void;
  },
): boolean {
  const path = (req.url ?? '').split('?')[0]!;
  if (!path.startsWith(PATH_PREFIX)) return false;
  socket.on('error', (error) => how.log(`sync: socket error before upgrade: ${error.message}`));
  if (how.closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
  if (!originAllowed(req, how.allowedOrigins)) return refuseUpgrade(socket, 403, 'Forbidden');
  const address = req.socket.remoteAddress ?? 'unknown';
  const { token, protocol } = how.tokenFromRequest(req);
  wss.handleUpgrade(req, socket, head, (ws) =>
    how.connect(
      ws,
      {
        token,
        ...(protocol ? { protocol } : {}),
        address,
        room: path.slice(PATH_PREFIX.length),
      },
      socket,
    ),
  );
  return true;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): true {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return true;
}

function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  // Browsers always send an Origin; other clients (tests, the bench, a native app) may not, and
  // could forge one anyway: the token, not the Origin, is what keeps them out.
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** One update of `updates`, or undefined if Yjs cannot merge them (a hostile one among them). */
function mergedOrUndefined(updates: Uint8Array[]): Uint8Array | undefined {
  try {
    return Y.mergeUpdates(updates);
  } catch {
    return undefined;
  }
}
