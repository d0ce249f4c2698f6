/**
 * The first gate of a writer's update: decoded and bounded before any document sees it.
 *
 * Yjs trusts its input. Some malformed updates — an item whose content is "deleted, length 0",
 * lengths or clocks near 2^53 — make it throw inside its transaction cleanup and leave the
 * document unable to emit an update ever again (upstream yjs #723, #799); clocks past 2^53 make
 * its `clock + length` arithmetic lie; a deletion of clocks no one has written yet waits in the
 * document and deletes whatever the server writes there later. None of that is needed by an honest
 * client, so all of it is refused here, cheaply, before the update is tried on the room's scratch
 * copy (room.ts), which catches what no list of rules foresees.
 */
import * as Y from 'yjs';

/**
 * Client ids are 32-bit: Yjs makes them with `random.uint32()`. A larger one is not a Yjs client.
 */
export const MAX_CLIENT_ID = 0xffff_ffff;
/**
 * A client's clock counts every item it ever inserted (a map entry, a character). 2^40 is a
 * thousand times what a device writing all day for decades reaches, and far enough below 2^53 that
 * any sum of two bounded values stays exact.
 */
export const MAX_CLOCK = 2 ** 40;
/**
 * Structs in one update. A long-offline device's first sync of 60,000 records and their edits is
 * a few hundred thousand; a message is bounded in bytes anyway (limits.ts), this bounds the work.
 */
export const MAX_STRUCTS = 2_000_000;

/**
 * `ahead`: the update builds on, or deletes, changes the server does not have (yet). From an honest
 * client that happens only before its sync handshake is done (its step 2 brings what is missing);
 * after it, such an update is refused like any other.
 */
export type UpdateCheck = { ok: true; structs: number } | { ok: false; reason: string; ahead?: true };

export interface UpdateRules {
  /** The root types a client may write into (the room's layout); anything else is refused. */
  roots: ReadonlySet<string>;
}

const isClient = (client: number) => Number.isSafeInteger(client) && client >= 0 && client <= MAX_CLIENT_ID;
const isClock = (clock: number) => Number.isSafeInteger(clock) && clock >= 0 && clock < MAX_CLOCK;
const isId = (id: Y.ID | null) => id === null || (isClient(id.client) && isClock(id.clock));

/**
 * Whether `update` (Yjs v1 encoding) may be tried on `doc`: it decodes, every struct and deletion
 * is within the bounds above and has a non-zero length, it inserts only into the allowed roots and
 * no sub-document, and it deletes only what exists (in the doc, or in the update itself).
 */
export function checkUpdate(doc: Y.Doc, update: Uint8Array, rules: UpdateRules): UpdateCheck {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch (error) {
    return { ok: false, reason: `not a Yjs update (${(error as Error).message})` };
  }
  const { structs, ds } = decoded;
  if (structs.length > MAX_STRUCTS)
    return { ok: false, reason: `${structs.length} structs in one update (at most ${MAX_STRUCTS})` };

  // How far each client's clocks are covered, by the doc and then by this update's structs in a row.
  const covered = new Map<number, number>();
  const coveredOf = (client: number) => covered.get(client) ?? Y.getState(doc.store, client);
  for (const struct of structs) {
    const { client, clock } = struct.id;
    if (!isClient(client)) return { ok: false, reason: `client id ${client} is not a 32-bit client id` };
    if (!Number.isSafeInteger(struct.length) || struct.length < 1)
      return {
        ok: false,
        reason: `a struct of client ${client} at clock ${clock} has length ${struct.length}`,
      };
    if (!isClock(clock) || clock + struct.length > MAX_CLOCK)
      return {
        ok: false,
        reason: `a struct of client ${client} reaches clock ${clock} + ${struct.length}, past ${MAX_CLOCK}`,
      };
    if (clock > coveredOf(client))
      return {
        ok: false,
        reason: `client ${client} jumps from clock ${coveredOf(client)} to ${clock}`,
        ahead: true,
      };
    covered.set(client, Math.max(coveredOf(client), clock + struct.length));
    if (!(struct instanceof Y.Item)) continue;
    if (!isId(struct.origin) || !isId(struct.rightOrigin))
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} has an origin out of bounds`,
      };
    const parent: unknown = struct.parent;
    if (parent instanceof Y.ID && !isId(parent))
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} has a parent out of bounds`,
      };
    if (typeof parent === 'string' && !rules.roots.has(parent))
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} writes into "${parent}", which is not part of this room's layout`,
      };
    // Every root of every layout is a map: an item placed at a root without a key is a list item.
    if (typeof parent === 'string' && struct.parentSub === null)
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} is not a map entry of "${parent}"`,
      };
    if (struct.content instanceof Y.ContentDoc)
      return { ok: false, reason: `an item of client ${client} at clock ${clock} holds a sub-document` };
  }
  // What the items build on (their neighbours and parents) must exist, in the doc or the update.
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    for (const id of [
      struct.origin,
      struct.rightOrigin,
      struct.parent instanceof Y.ID ? struct.parent : null,
    ]) {
      if (id !== null && id.clock >= coveredOf(id.client))
        return {
          ok: false,
          reason: `an item of client ${struct.id.client} builds on clock ${id.clock} of client ${id.client}, which the server does not have`,
          ahead: true,
        };
    }
  }

  for (const [client, deletions] of ds.clients) {
    if (!isClient(client))
      return { ok: false, reason: `a deletion names client id ${client}, not a 32-bit client id` };
    for (const { clock, len } of deletions) {
      if (!Number.isSafeInteger(len) || len < 1 || !isClock(clock) || clock + len > MAX_CLOCK)
        return { ok: false, reason: `a deletion of client ${client} at clock ${clock} has length ${len}` };
      // Honest clients delete only what they have, and they have only what the server sent them or
      // what they send with it. A deletion ahead of that would wait and take someone's later write.
      if (clock + len > coveredOf(client))
        return {
          ok: false,
          reason: `a deletion of client ${client} reaches clock ${clock + len}, which the server does not have (state ${coveredOf(client)})`,
          ahead: true,
        };
    }
  }
  return { ok: true, structs: structs.length };
}

/**
 * The root types a transaction changed, by name: where its items went and what it deleted,
 * whatever the update said about parents (an item with an origin inherits its neighbour's).
 */
export function rootsChanged(doc: Y.Doc, transaction: Y.Transaction): Set<string> {
  const names = new Map<unknown, string>();
  for (const [name, type] of doc.share) names.set(type, name);
  const roots = new Set<string>();
  for (const type of transaction.changed.keys()) {
    let root = type;
    while (root._item !== null && root._item.parent instanceof Y.AbstractType) root = root._item.parent;
    roots.add(names.get(root) ?? '(a type that is not a root)');
  }
  return roots;
}

/**
 * Applies `update` to `doc` and says what went wrong, if anything: it threw, or it left the
 * document with a transaction that was never cleaned up — the state in which a Yjs document never
 * emits `update` again (yjs #723, #799).
 */
export function applyChecked(doc: Y.Doc, update: Uint8Array, origin: unknown): string | undefined {
  try {
    Y.applyUpdate(doc, update, origin);
  } catch (error) {
    return `applying it threw: ${(error as Error).message}`;
  }
  if (doc._transaction !== null || doc._transactionCleanups.length > 0)
    return 'it left the document unable to emit updates';
  return undefined;
}

/** A fresh document holding exactly `doc`'s state (pending structs included), or why it cannot be made. */
export function copyDoc(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc({ gc: doc.gc });
  const problem = applyChecked(copy, Y.encodeStateAsUpdate(doc), null);
  if (problem) throw new Error(`the document cannot be copied: ${problem}`);
  return copy;
}
