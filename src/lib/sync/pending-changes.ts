/**
 * What the server has of this device's changes (SPEC.md, rules C1–C4): each local change is
 * remembered as the point its Yjs transaction reached in this device's client clock, and the
 * server's state vector (from its acknowledgements) says which of those points it has. A change is
 * unsent while the server's clock for its client is below that point.
 *
 * The ledger keeps both across a reload: the store writes each change's point into the update row
 * that holds it and the last acknowledged server state into its settings (partner-store.ts); the
 * in-memory ledger below is the same thing for a document that is not stored (and for tests).
 */
import type * as Y from 'yjs';

/** A Yjs state vector: client id → the number of items of that client (the next clock). */
export type StateVector = ReadonlyMap<number, number>;

/** One local change: its transaction left client `client` at clock `clock` (exclusive end). */
export interface LocalChange {
  client: number;
  clock: number;
}

/** What the server was last known to have. */
export interface ServerState {
  /** The room's state vector as the server last acknowledged it. */
  stateVector: StateVector;
  /** When the server last had every local change (epoch ms), if ever. */
  syncedAt: number | undefined;
}

/** The same, as kept in IndexedDB (plain data). */
export interface StoredServerState {
  stateVector: [number, number][];
  syncedAt?: number;
}

/**
 * The change a transaction made, when it was made on this device and inserted anything. A change
 * that only deletes has no point in the clock and is not counted (C1); the partner document never
 * makes one (its deletions are `deletedAt` overrides, which insert).
 */
export function localChangeOf(transaction: Y.Transaction): LocalChange | undefined {
  if (!transaction.local) return undefined;
  const client = transaction.doc.clientID;
  const clock = transaction.afterState.get(client) ?? 0;
  if (clock <= (transaction.beforeState.get(client) ?? 0)) return undefined;
  return { client, clock };
}

export function isOnServer(change: LocalChange, stateVector: StateVector | undefined): boolean {
  return (stateVector?.get(change.client) ?? 0) >= change.clock;
}

/** How many of `changes` the server does not have, by its state vector (C2). */
export function countUnsent(changes: Iterable<LocalChange>, stateVector: StateVector | undefined): number {
  let unsent = 0;
  for (const change of changes) if (!isOnServer(change, stateVector)) unsent++;
  return unsent;
}

export function storeServerState(state: ServerState): StoredServerState {
  return {
    stateVector: [...state.stateVector],
    ...(state.syncedAt === undefined ? {} : { syncedAt: state.syncedAt }),
  };
}

/** Reads a stored server state; anything malformed reads as "nothing known" (every change unsent). */
export function readServerState(value: unknown): ServerState | undefined {
  const stored = value as Partial<StoredServerState> | undefined;
  if (!stored || !Array.isArray(stored.stateVector)) return undefined;
  const entries = stored.stateVector.filter(
    (entry): entry is [number, number] =>
      Array.isArray(entry) && Number.isInteger(entry[0]) && Number.isInteger(entry[1]),
  );
  return {
    stateVector: new Map(entries),
    syncedAt: typeof stored.syncedAt === 'number' ? stored.syncedAt : undefined,
  };
}

/**
 * Where a connection finds the device's local changes and keeps what the server has. The store's
 * ledger survives a reload (C3); `memoryLedger` does not.
 */
export interface SyncLedger {
  /** The local changes the server was not known to have at the last acknowledgement (and any since). */
  localChanges(): readonly LocalChange[];
  /** What the server was last known to have. */
  serverState(): ServerState | undefined;
  /** Keeps the server's latest state (the last acknowledgement wins) and forgets the changes it has. */
  remember(state: ServerState): void;
  /**
   * Takes in what another tab of this device knows of the same room (SPEC T3): the marks of its
   * local changes (unsent ones are this device's as much as that tab's) and the server state it was
   * acknowledged. Calls the `onLocalChange` listeners when the count may have changed.
   */
  adopt(known: KnownElsewhere): void;
  /** Calls `listener` after each new local change, and after `adopt`. */
  onLocalChange(listener: () => void): () => void;
}

/** What another tab of the device knows of a room's unsent changes (SyncLedger.adopt). */
export interface KnownElsewhere {
  localChanges?: readonly LocalChange[];
  serverState?: ServerState;
}

/**
 * A ledger's changes and server state with what another tab knows added (SPEC T3). The server's
 * state only grows, so two acknowledgements combine clock by clock (the larger); `syncedAt` is the
 * later one's when nothing is unsent after the merge, else it stays. A mark is added once, unless
 * the server has it. `changed`: whether the result differs from what was given.
 */
export function mergeKnown(
  changes: readonly LocalChange[],
  state: ServerState | undefined,
  known: KnownElsewhere,
): { localChanges: LocalChange[]; serverState: ServerState | undefined; changed: boolean } {
  let serverState = state;
  let changed = false;
  if (known.serverState) {
    const stateVector = new Map(state?.stateVector ?? []);
    for (const [client, clock] of known.serverState.stateVector) {
      if ((stateVector.get(client) ?? 0) < clock) {
        stateVector.set(client, clock);
        changed = true;
      }
    }
    serverState = { stateVector, syncedAt: state?.syncedAt };
  }
  const seen = new Set(changes.map((change) => `${change.client}:${change.clock}`));
  const localChanges = changes.filter((change) => !isOnServer(change, serverState?.stateVector));
  for (const change of known.localChanges ?? []) {
    const key = `${change.client}:${change.clock}`;
    if (seen.has(key) || isOnServer(change, serverState?.stateVector)) continue;
    seen.add(key);
    localChanges.push({ client: change.client, clock: change.clock });
    changed = true;
  }
  const theirs = known.serverState?.syncedAt;
  if (
    serverState &&
    theirs !== undefined &&
    localChanges.length === 0 &&
    theirs > (serverState.syncedAt ?? -Infinity)
  ) {
    serverState = { ...serverState, syncedAt: theirs };
    changed = true;
  }
  return { localChanges, serverState, changed: changed || localChanges.length !== changes.length };
}

/** A ledger in memory: records the document's local changes from now on. */
export function memoryLedger(
  doc: Y.Doc,
  initial: { localChanges?: LocalChange[]; serverState?: ServerState } = {},
): SyncLedger & { destroy(): void } {
  let changes = [...(initial.localChanges ?? [])];
  let known = initial.serverState;
  const listeners = new Set<() => void>();
  const onTransaction = (transaction: Y.Transaction) => {
    const change = localChangeOf(transaction);
    if (!change) return;
    changes.push(change);
    for (const listener of listeners) listener();
  };
  doc.on('afterTransaction', onTransaction);
  return {
    localChanges: () => changes,
    serverState: () => known,
    remember(state) {
      known = state;
      changes = changes.filter((change) => !isOnServer(change, state.stateVector));
    },
    adopt(elsewhere) {
      const merged = mergeKnown(changes, known, elsewhere);
      changes = merged.localChanges;
      known = merged.serverState;
      if (merged.changed) for (const listener of listeners) listener();
    },
    onLocalChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy: () => doc.off('afterTransaction', onTransaction),
  };
}
