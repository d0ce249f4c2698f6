/**
 * The tabs of one device that have the same room open keep their documents equal through a
 * BroadcastChannel, offline too (SPEC.md, T1–T6). Each tab has its own Y.Doc over the one IndexedDB
 * log; without this, a second tab would show the first one's edits only after a reload, or after
 * they had gone round the server.
 *
 * Why not y-websocket's own BroadcastChannel (`disableBc: false`): it lives and dies with the
 * WebSocket (no channel while the device is offline or the server refused the token, exactly when
 * only the tabs can tell each other), it sends the whole document to every tab on each reconnect,
 * its channel is named by URL and room alone, and a tab applies another's change with the
 * provider as origin, like the server's: it would store it in the log a second time and not count
 * it as unsent. Here a tab applies another's change with `TAB_ORIGIN`, which the room log does not
 * store again (the tab that made it stores it) and the channel does not send on; the marks of unsent
 * changes and the server's acknowledgements travel with the updates, so every tab counts the same.
 *
 * Messages are plain objects (structured clone), versioned; anything else on the channel is ignored.
 * The BroadcastChannel constructor is injected: tests run two "tabs" in one process.
 */
import * as Y from 'yjs';
import {
  localChangeOf,
  readServerState,
  storeServerState,
  type LocalChange,
  type StoredServerState,
  type SyncLedger,
} from './pending-changes';

/** The origin of a transaction that applies another tab's update (T2). */
export const TAB_ORIGIN: unique symbol = Symbol('another tab of this device');

/** Bump when a message's meaning changes: a tab of another app version then ignores this one's. */
const TAB_PROTOCOL = 1;

type TabMessage =
  /** A tab that opens the room: its state vector, so the others send what it lacks (T4). */
  | { v: typeof TAB_PROTOCOL; type: 'hello'; from: string; stateVector: Uint8Array }
  /**
   * The answer to a hello, addressed to the tab that sent it: what it lacks, what this tab knows of
   * the server, and, when `stateVector` is given, this tab's state, for the newcomer to answer with
   * what this one lacks (without a state vector of its own: no third message).
   */
  | {
      v: typeof TAB_PROTOCOL;
      type: 'state';
      from: string;
      to: string;
      update?: Uint8Array;
      stateVector?: Uint8Array;
      localChanges: LocalChange[];
      serverState?: StoredServerState;
    }
  /** A local change (T1), with its mark. */
  | { v: typeof TAB_PROTOCOL; type: 'update'; from: string; update: Uint8Array; localChanges: LocalChange[] }
  /** The server acknowledged this state to one of the tabs (T3). */
  | { v: typeof TAB_PROTOCOL; type: 'saved'; from: string; serverState: StoredServerState };

export interface TabChannelOptions {
  doc: Y.Doc;
  /** One channel per database, signed-in person and room: `tabChannelName`. */
  name: string;
  /** The room's ledger (the store's): marks and acknowledgements of the other tabs go into it. */
  ledger: SyncLedger;
  /** The BroadcastChannel constructor (default: the global one; none: no channel, T6). */
  BroadcastChannel?: typeof BroadcastChannel;
}

export interface TabChannel {
  /**
   * The ledger to give the room's sync connection: the room's ledger, except that what the server
   * acknowledges to this tab is told to the others too (T3).
   */
  readonly ledger: SyncLedger;
  /** Leaves the channel; the document and the ledger stay as they are. */
  close(): void;
}

/**
 * The channel of one room for one signed-in person of one database (T5): tabs signed in as someone
 * else, or of another database (tests), never exchange anything.
 */
export const tabChannelName = (database: string, userId: string, room: string) =>
  `partner-kpi/${database}/${userId}/${room}`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** A message of this protocol, or undefined (another version's, or not ours). */
function readMessage(data: unknown): TabMessage | undefined {
  if (!isObject(data) || data['v'] !== TAB_PROTOCOL || typeof data['from'] !== 'string') return undefined;
  const bytes = (key: string) => data[key] === undefined || data[key] instanceof Uint8Array;
  const marks =
    data['localChanges'] === undefined ||
    (Array.isArray(data['localChanges']) &&
      data['localChanges'].every(
        (mark) => isObject(mark) && Number.isInteger(mark['client']) && Number.isInteger(mark['clock']),
      ));
  if (!bytes('update') || !bytes('stateVector') || !marks) return undefined;
  switch (data['type']) {
    case 'hello':
      return data['stateVector'] instanceof Uint8Array ? (data as TabMessage) : undefined;
    case 'update':
      return data['update'] instanceof Uint8Array ? (data as TabMessage) : undefined;
    case 'state':
      return typeof data['to'] === 'string' ? (data as TabMessage) : undefined;
    case 'saved':
      return isObject(data['serverState']) ? (data as TabMessage) : undefined;
    default:
      return undefined;
  }
}

/** Whether a document at `mine` holds something one at `theirs` lacks (inserts; the layouts never only delete: C1). */
function hasMore(mine: Map<number, number>, theirs: Map<number, number>): boolean {
  for (const [client, clock] of mine) if ((theirs.get(client) ?? 0) < clock) return true;
  return false;
}

/**
 * Joins the room's channel: from now on, this tab's local changes go to the other tabs and theirs
 * come into `doc`; and it asks them at once for what they hold that this tab does not (T4). Open it
 * once the document is loaded from storage.
 */
export function openTabChannel(options: TabChannelOptions): TabChannel {
  const { doc, ledger } = options;
  const Channel = options.BroadcastChannel ?? globalThis.BroadcastChannel;
  const self = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const channel = Channel ? new Channel(options.name) : undefined;
  // Node's channels (tests) would keep the process alive while a room is open; browsers have no `unref`.
  (channel as (BroadcastChannel & { unref?: () => void }) | undefined)?.unref?.();
  let closed = false;

  function post(message: TabMessage): void {
    if (closed || !channel) return;
    try {
      channel.postMessage(message);
    } catch {
      // A closed or broken channel: the tabs still meet through the server.
    }
  }

  const shared: SyncLedger = {
    localChanges: () => ledger.localChanges(),
    serverState: () => ledger.serverState(),
    adopt: (known) => ledger.adopt(known),
    onLocalChange: (listener) => ledger.onLocalChange(listener),
    remember: (state) => {
      ledger.remember(state);
      post({ v: TAB_PROTOCOL, type: 'saved', from: self, serverState: storeServerState(state) });
    },
  };
  if (!channel) return { ledger: shared, close: () => {} };

  /** Applies another tab's update; a malformed one (another version's, a broken tab) changes nothing here. */
  function apply(update: Uint8Array | undefined): void {
    if (!update) return;
    try {
      Y.applyUpdate(doc, update, TAB_ORIGIN);
    } catch {
      // Yjs refused it: the server's copy will come with the next sync.
    }
  }

  function adoptFrom(
    localChanges: readonly LocalChange[] | undefined,
    serverState: StoredServerState | undefined,
  ): void {
    const state = serverState === undefined ? undefined : readServerState(serverState);
    ledger.adopt({ localChanges: localChanges ?? [], ...(state ? { serverState: state } : {}) });
  }

  const onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
    // Only what this tab made (T1): the server's updates reach every tab from the server, and
    // another tab's must not come back to it.
    if (origin === TAB_ORIGIN || !transaction.local) return;
    const mark = localChangeOf(transaction);
    post({ v: TAB_PROTOCOL, type: 'update', from: self, update, localChanges: mark ? [mark] : [] });
  };
  doc.on('update', onUpdate);

  channel.onmessage = (event: MessageEvent) => {
    const message = readMessage(event.data);
    if (!message || message.from === self || closed) return;
    switch (message.type) {
      case 'update':
        apply(message.update);
        adoptFrom(message.localChanges, undefined);
        return;
      case 'saved':
        adoptFrom(undefined, message.serverState);
        return;
      case 'hello': {
        const theirs = Y.decodeStateVector(message.stateVector);
        const mine = Y.decodeStateVector(Y.encodeStateVector(doc));
        const serverState = ledger.serverState();
        post({
          v: TAB_PROTOCOL,
          type: 'state',
          from: self,
          to: message.from,
          ...(hasMore(mine, theirs) ? { update: Y.encodeStateAsUpdate(doc, message.stateVector) } : {}),
          stateVector: Y.encodeStateVector(doc),
          localChanges: [...ledger.localChanges()],
          ...(serverState ? { serverState: storeServerState(serverState) } : {}),
        });
        return;
      }
      case 'state': {
        if (message.to !== self) return;
        apply(message.update);
        adoptFrom(message.localChanges, message.serverState);
        if (
          message.stateVector &&
          hasMore(Y.decodeStateVector(Y.encodeStateVector(doc)), Y.decodeStateVector(message.stateVector))
        ) {
          post({
            v: TAB_PROTOCOL,
            type: 'state',
            from: self,
            to: message.from,
            update: Y.encodeStateAsUpdate(doc, message.stateVector),
            localChanges: [...ledger.localChanges()],
          });
        }
        return;
      }
    }
  };

  post({ v: TAB_PROTOCOL, type: 'hello', from: self, stateVector: Y.encodeStateVector(doc) });

  return {
    ledger: shared,
    close() {
      if (closed) return;
      closed = true;
      doc.off('update', onUpdate);
      channel.onmessage = null;
      channel.close();
    },
  };
}
