/**
 * The device's connection to one room of the sync server: the only code that touches y-websocket.
 * It keeps the room's Y.Doc in sync and says, as plain data, how the sync stands — offline,
 * connecting, syncing or synced, how many local changes the server does not have yet, when the
 * server last had all of them, and why the server refused the connection if it did (SPEC.md, C1–C9).
 *
 * No Svelte here: the app follows the state through `subscribe`. The WebSocket constructor and the
 * clock are injected, so tests drive a fake socket by hand and need no network and no fake timers.
 */
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import {
  BEARER_PREFIX,
  CLOSE_FORBIDDEN,
  CLOSE_UNAUTHORIZED,
  MESSAGE_SAVED,
  SYNC_SUBPROTOCOL,
} from './protocol';
import {
  countUnsent,
  memoryLedger,
  type ServerState,
  type StateVector,
  type SyncLedger,
} from './pending-changes';

export type SyncStatus = 'offline' | 'connecting' | 'syncing' | 'synced';
/** Why the server refused the connection: the app asks for a new sign-in, or says the data is not this account's. */
export type CloseReason = 'expired-token' | 'forbidden';

export interface SyncState {
  status: SyncStatus;
  /** Local changes the server does not have yet (always 0 for a read-only connection: C7). */
  pendingChanges: number;
  /** When the server last had every local change (epoch ms, from the injected clock); survives a reload with the ledger. */
  lastSyncedAt: number | undefined;
  closeReason: CloseReason | undefined;
}

export interface ConnectOptions {
  doc: Y.Doc;
  /** The sync endpoint, `ws(s)://<host>/sync`; the room name is appended as the path. */
  url: string;
  room: string;
  /** The signed token; offered as the subprotocol `bearer.<token>`, so it is never in a logged URL. */
  token: string;
  now: () => number;
  /** The WebSocket constructor (default: the global one). y-websocket uses only part of it; see the tests' fake. */
  WebSocket?: typeof WebSocket;
  /** Where the local changes and the server's state are kept (default: in memory, from now on). */
  ledger?: SyncLedger;
  /** A connection that may only read: the server drops its changes, so none is ever pending. */
  readOnly?: boolean;
  /** Whether the device has a network; when false the connection waits (C3). Default true. */
  online?: boolean;
}

export interface RoomConnection {
  readonly state: SyncState;
  /** Calls `listener` with the current state now and after every change of it; returns the unsubscribe. */
  subscribe(listener: (state: SyncState) => void): () => void;
  /** The device's network came or went (the browser's online/offline events). */
  setOnline(online: boolean): void;
  /** Tries to connect now instead of after the back-off; does nothing offline or after a refusal. */
  reconnect(): void;
  /** Closes the socket for good; the document and the ledger stay as they are. */
  destroy(): void;
}

/**
 * Longest wait between attempts while the server cannot be reached (y-websocket backs off from
 * 200 ms, doubling): a phone with signal but no server tries at most every 10 s — soon enough to
 * feel live when the server returns, rarely enough for the battery.
 */
const MAX_BACKOFF_MS = 10_000;

export function connectRoom(options: ConnectOptions): RoomConnection {
  const { doc, room, token, now } = options;
  const readOnly = options.readOnly ?? false;
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  if (!Socket) throw new Error('connectRoom needs a WebSocket constructor (this runtime has none)');
  const ownLedger = options.ledger ? undefined : memoryLedger(doc);
  const ledger = options.ledger ?? ownLedger!;

  let online = options.online ?? true;
  let destroyed = false;
  /** The server refused (44xx): y-websocket stops, and so does this connection until it is replaced. */
  let refused = false;
  let closeReason: CloseReason | undefined;
  /**
   * The last attempt could not reach the server (its socket closed before it opened): the device
   * says it is offline while it keeps trying, whatever the browser's `navigator.onLine` claims (a
   * phone on a network without internet, a server that is down). Cleared when a socket opens, and
   * when the browser reports the network back or someone asks to reconnect (a fresh attempt).
   */
  let unreachable = false;
  /** What the server was last known to have: the ledger's, which the other tabs' acknowledgements also reach (T3). */
  const serverState = (): ServerState | undefined => ledger.serverState();
  const listeners = new Set<(state: SyncState) => void>();

  const provider = new WebsocketProvider(options.url, room, doc, {
    connect: false,
    protocols: [SYNC_SUBPROTOCOL, BEARER_PREFIX + token],
    WebSocketPolyfill: Socket,
    // The tabs of the device meet through their own channel (tab-channel.ts, SPEC T1–T6), which
    // works offline and keeps their counts of unsent changes equal; y-websocket's would not.
    disableBc: true,
    maxBackoffTime: MAX_BACKOFF_MS,
  });
  provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
    saved(Y.decodeStateVector(decoding.readVarUint8Array(decoder)));
  };

  const pendingNow = () => (readOnly ? 0 : countUnsent(ledger.localChanges(), serverState()?.stateVector));

  function statusOf(pendingChanges: number): SyncStatus {
    if (destroyed || refused || !online || unreachable || !provider.shouldConnect) return 'offline';
    if (!provider.wsconnected) return 'connecting';
    if (!provider.synced || pendingChanges > 0) return 'syncing';
    return 'synced';
  }

  function current(): SyncState {
    const pendingChanges = pendingNow();
    return {
      status: statusOf(pendingChanges),
      pendingChanges,
      lastSyncedAt: serverState()?.syncedAt,
      closeReason,
    };
  }

  let state = current();
  function changed(): void {
    // Synced until this moment (C4): the server had everything from this device, and this device
    // everything of the server's, up to now — also after an hour of edits that each synced.
    const known = serverState();
    if (state.status === 'synced' && statusOf(pendingNow()) !== 'synced' && known !== undefined)
      ledger.remember({ ...known, syncedAt: now() });
    const next = current();
    if (
      next.status === state.status &&
      next.pendingChanges === state.pendingChanges &&
      next.lastSyncedAt === state.lastSyncedAt &&
      next.closeReason === state.closeReason
    ) {
      return;
    }
    state = next;
    for (const listener of [...listeners]) listener(state);
  }

  /** The server says what it has stored (C2, C4). */
  function saved(stateVector: StateVector): void {
    const everythingSaved = readOnly || countUnsent(ledger.localChanges(), stateVector) === 0;
    ledger.remember({ stateVector, syncedAt: everythingSaved ? now() : serverState()?.syncedAt });
    changed();
  }

  provider.on('status', ({ status }) => {
    if (status === 'connected') unreachable = false;
    changed();
  });
  provider.on('sync', changed);
  provider.on('connection-close', () => {
    // Runs before y-websocket marks the socket closed: `wsconnected` still says whether it had opened.
    if (!provider.wsconnected) unreachable = true;
    changed();
  });
  provider.on('closed', ({ code }) => {
    refused = true;
    closeReason =
      code === CLOSE_UNAUTHORIZED ? 'expired-token' : code === CLOSE_FORBIDDEN ? 'forbidden' : undefined;
    changed();
  });
  const stopLedger = ledger.onLocalChange(changed);

  if (online) provider.connect();
  changed();

  return {
    get state() {
      return state;
    },
    subscribe(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
    setOnline(value) {
      online = value;
      unreachable = false;
      if (!destroyed && !refused) {
        if (online) provider.connect();
        else provider.disconnect();
      }
      changed();
    },
    reconnect() {
      if (destroyed || refused || !online) return;
      unreachable = false;
      if (provider.ws === null) provider.connect();
      changed();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      stopLedger();
      provider.destroy();
      // The provider made this awareness and does not stop its renewal timer.
      provider.awareness.destroy();
      ownLedger?.destroy();
      changed();
      listeners.clear();
    },
  };
}
