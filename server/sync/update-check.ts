/**
 * The gate of a writer's update: decoded, bounded and placed before any document sees it (sync
 * SPEC R3, R4).
 *
 * Yjs trusts its input. Some malformed updates — an item whose content is "deleted, length 0",
 * lengths or clocks near 2^53 — make it throw inside its transaction cleanup and leave the
 * document unable to emit an update ever again (upstream yjs #723, #799); clocks past 2^53 make
 * its `clock + length` arithmetic lie; a deletion of clocks no one has written yet waits in the
 * document and deletes whatever the server writes there later; an item that names a neighbour
 * goes where that neighbour is, whatever parent the update says, and one between neighbours of two
 * types is linked into both. None of that is needed by an honest client, so all of it is refused
 * here, cheaply, and the room applies what passes straight to its document (room.ts). Whether
 * these rules foresee Yjs is tested against Yjs itself (test/unit/server/sync/update-check-yjs.test.ts);
 * should the document fail all the same, the room reloads from its log (R7).
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
 * Whether `update` (Yjs v1 encoding) may be applied to `doc`: it decodes as Yjs will read it (one
 * block per client), every struct and deletion is within the bounds above and has a non-zero
 * length, it builds on and deletes only what exists (in the doc, or in the update itself), nothing
 * of it would wait for structs the server does not have, it holds no sub-document, and everything
 * it inserts or deletes is in the room's own root types — where Yjs will put it, not where the
 * update says (placement below).
 */
export function checkUpdate(doc: Y.Doc, update: Uint8Array, rules: UpdateRules): UpdateCheck {
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  const blocks: number[] = (blocksRead = []);
  try {
    decoded = Y.decodeUpdateV2(update, BlockRecorder);
  } catch (error) {
    return { ok: false, reason: `not a Yjs update (${(error as Error).message})` };
  }
  // Yjs keeps only the last block of a client that has two: what it applied would not be what was checked.
  if (new Set(blocks).size < blocks.length)
    return { ok: false, reason: 'a client has two blocks of structs in one update' };
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
    // A skip is a gap Yjs steps over: it covers nothing, and what follows it must not need it.
    if (struct instanceof Y.Skip) continue;
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
    // Every root of every layout is a map: an item placed at a root without a key is a list item.
    if (typeof parent === 'string' && struct.parentSub === null)
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} is not a map entry of "${parent}"`,
      };
    if (struct.content instanceof Y.ContentDoc)
      return { ok: false, reason: `an item of client ${client} at clock ${clock} holds a sub-document` };
    if (struct.content instanceof Y.ContentAny && !plainValues(struct.content.arr))
      return {
        ok: false,
        reason: `an item of client ${client} at clock ${clock} holds an object with a "__proto__" key`,
      };
  }
  // What the items build on (their neighbours and parents) must exist, in the doc or the update.
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    for (const id of references(struct)) {
      // Yjs integrates a client's structs in clock order, taking what one builds on of its own
      // client to be there already: a reference forward throws inside its transaction.
      if (id.client === struct.id.client && id.clock >= struct.id.clock)
        return {
          ok: false,
          reason: `an item of client ${struct.id.client} at clock ${struct.id.clock} builds on its own later clock ${id.clock}`,
        };
      if (id.clock >= coveredOf(id.client))
        return {
          ok: false,
          reason: `an item of client ${struct.id.client} builds on clock ${id.clock} of client ${id.client}, which the server does not have`,
          ahead: true,
        };
    }
  }

  const placement = new Placement(doc, structs);
  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue;
    const place = placement.placeOf(struct);
    if (place === GARBAGE) continue;
    if (!('root' in place)) return place;
    if (!rules.roots.has(place.root))
      return {
        ok: false,
        reason: `an item of client ${struct.id.client} at clock ${struct.id.clock} writes into "${place.root}", which is not part of this room's layout`,
      };
    // Part of it the doc has already: Yjs then puts the rest right after the doc's item before it,
    // which must sit where the item goes (as it does when a device resends a merged change).
    const continued = placement.continuedPlace(struct);
    if (continued !== undefined && !samePlace(continued, place))
      return refusal(struct, 'continues an item of the server that sits elsewhere');
  }

  let inspected = 0;
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
      // What it deletes in the doc must be in the layout too (the update's own items are, above).
      const { outside, visited } = placement.rootOutsideIn(client, clock, len, rules.roots);
      // Ranges may overlap: how much of the doc one update has us look at is bounded.
      inspected += visited;
      if (inspected > 4 * MAX_STRUCTS)
        return { ok: false, reason: `its deletions cover more than ${4 * MAX_STRUCTS} structs` };
      if (outside !== undefined)
        return {
          ok: false,
          reason: `a deletion of client ${client} at clock ${clock} deletes from "${outside}", which is not part of this room's layout`,
        };
    }
  }
  return { ok: true, structs: structs.length };
}

/**
 * Whether values decoded by lib0 are plain: an object whose key "__proto__" became its prototype
 * (a Uint8Array, say) makes Yjs throw when it encodes the update again, inside its transaction.
 */
function plainValues(values: readonly unknown[]): boolean {
  const waiting: unknown[] = [...values];
  while (waiting.length > 0) {
    const value = waiting.pop();
    if (value === null || typeof value !== 'object') continue;
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Uint8Array.prototype) continue;
    if (prototype === Array.prototype) waiting.push(...(value as unknown[]));
    else if (prototype === Object.prototype) waiting.push(...Object.values(value));
    else return false;
  }
  return true;
}

/** The clocks an item builds on: its neighbours when it was made, and its parent if it names one. */
function references(item: Y.Item): Y.ID[] {
  const ids: Y.ID[] = [];
  if (item.origin) ids.push(item.origin);
  if (item.rightOrigin) ids.push(item.rightOrigin);
  if (item.parent instanceof Y.ID) ids.push(item.parent);
  return ids;
}

/** Where BlockRecorder writes: set before each decoding (which is synchronous). */
let blocksRead: number[] = [];

/** A Yjs v1 decoder that records the client of every block of structs it reads, in order. */
class BlockRecorder extends Y.UpdateDecoderV1 {
  override readClient(): number {
    const client = super.readClient();
    blocksRead.push(client);
    return client;
  }
}

type Struct = Y.Item | Y.GC | Y.Skip;

/**
 * Where an item goes: the type it is in — a root by name, a nested type of the doc, or the item
 * of the update that holds a nested type made with it — its key there, and the root it is under.
 */
interface Place {
  root: string;
  parent: string | Y.AbstractType<unknown> | Y.Item;
  sub: string | null;
  /** 1 for an entry of a root, 2 inside a type that is such an entry, and so on. */
  depth: number;
}

/** How deep types may nest: the app's layouts keep plain values in root maps; Yjs's recursion fails past about 1,000. */
export const MAX_DEPTH = 32;

/**
 * `place` for `item`, unless the item is a live map entry of more than one value (a string of
 * several characters, several values): Y.Map#set writes one, and Yjs leaves the rest of a longer
 * one alive beside the key's value, where collecting the map later throws.
 */
function mapEntryOfOne(item: Y.Item, place: Place): Landing {
  // Deleted values of one key do merge into one item (a key set many times offline): nothing of it lives.
  if (place.sub !== null && item.length > 1 && !(item.content instanceof Y.ContentDeleted))
    return refusal(item, `is an entry "${place.sub}" of a map holding ${item.length} values`);
  return place;
}
/** What lands next to or in a GC struct becomes one: it writes nowhere. */
const GARBAGE = Symbol('garbage');
type Refusal = Extract<UpdateCheck, { ok: false }>;
type Landing = Place | typeof GARBAGE | Refusal;

const isRefusal = (landing: Landing): landing is Refusal => landing !== GARBAGE && !('root' in landing);

const samePlace = (one: Landing, other: Landing): boolean =>
  one !== GARBAGE &&
  other !== GARBAGE &&
  'root' in one &&
  'root' in other &&
  one.parent === other.parent &&
  one.sub === other.sub;

/**
 * Where the items of an update will go, found as Yjs finds it when it integrates them
 * (`Item.getMissing`): an item that names neither neighbour names its parent (a root by name, or
 * the item holding a nested type); one that has a neighbour inherits the neighbour's parent, and
 * beside a GC struct it becomes one itself. A neighbour or parent is in the doc, or is another item
 * of the update, whose place is found the same way. Honest items always sit between neighbours of
 * their own parent and key, so both neighbours must have the same place: Yjs would otherwise link
 * the item into two types at once.
 *
 * Yjs integrates a struct once what it builds on is integrated, and a client's structs in clock
 * order: a struct of the update depends on the items it names and on the struct before it of its
 * own client. If those dependencies go round in a circle, Yjs would leave the structs waiting
 * forever; such an update is refused.
 */
class Placement {
  private readonly rootNames = new Map<unknown, string>();
  private readonly byClient = new Map<number, Struct[]>();
  private readonly found = new Map<Struct, Landing>();

  constructor(
    private readonly doc: Y.Doc,
    structs: readonly Struct[],
  ) {
    for (const [name, type] of doc.share) this.rootNames.set(type, name);
    for (const struct of structs) {
      const own = this.byClient.get(struct.id.client);
      if (own) own.push(struct);
      else this.byClient.set(struct.id.client, [struct]);
    }
  }

  /**
   * Where `item` (of the update) lands. Iterative: an item's place may hang on a long chain of
   * others in the update (a key set many times offline), too deep for recursion.
   */
  placeOf(item: Y.Item): Landing {
    const known = this.found.get(item);
    if (known !== undefined) return known;
    // Most items build only on what is placed already: no search.
    if (this.waitingFor(item).length === 0) return this.settle(item);
    const onPath = new Set<Struct>();
    const stack: Struct[] = [item];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (this.found.has(top)) {
        stack.pop();
        continue;
      }
      const waiting = this.waitingFor(top);
      if (waiting.length === 0) {
        this.settle(top);
        onPath.delete(top);
        stack.pop();
        continue;
      }
      onPath.add(top);
      for (const struct of waiting) {
        if (onPath.has(struct))
          return refusal(top, 'builds on structs of the update that wait for it in turn');
        stack.push(struct);
      }
    }
    return this.found.get(item)!;
  }

  /**
   * The first root outside `allowed` that the doc's items of client `client` from `clock` on
   * (`len` clocks, those the doc has) belong to, if any: what deleting them would change.
   */
  rootOutsideIn(
    client: number,
    clock: number,
    len: number,
    allowed: ReadonlySet<string>,
  ): { outside: string | undefined; visited: number } {
    const structs = this.doc.store.clients.get(client);
    const end = Math.min(clock + len, Y.getState(this.doc.store, client));
    let visited = 0;
    if (!structs || clock >= end) return { outside: undefined, visited };
    for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
      const struct = structs[index]!;
      if (struct.id.clock >= end) break;
      visited++;
      if (!(struct instanceof Y.Item) || struct.deleted) continue;
      const { root } = this.placeInDoc(struct);
      if (!allowed.has(root)) return { outside: root, visited };
    }
    return { outside: undefined, visited };
  }

  /**
   * For an item of the update that the doc has in part: the place of the doc's struct just before
   * the rest of it (GARBAGE if that is not an item). Undefined for an item the doc has none of.
   */
  continuedPlace(item: Y.Item): Landing | undefined {
    const state = Y.getState(this.doc.store, item.id.client);
    if (item.id.clock >= state || item.id.clock + item.length <= state) return undefined;
    const before = Y.getItem(this.doc.store, Y.createID(item.id.client, state - 1)) as Struct;
    return before instanceof Y.Item ? this.placeInDoc(before) : GARBAGE;
  }

  private settle(struct: Struct): Landing {
    const landing = this.land(struct);
    this.found.set(struct, landing);
    return landing;
  }

  /** The structs of the update that `struct` waits for and that have no place yet: the one before it of its client, and those it names. */
  private waitingFor(struct: Struct): Struct[] {
    const waiting: Struct[] = [];
    const add = (client: number, clock: number) => {
      const other = this.inUpdate(client, clock);
      if (other !== undefined && !this.found.has(other)) waiting.push(other);
    };
    // The struct before it in its client's block, even one the doc has: Yjs goes through a block
    // in order, and checks what each struct builds on, known or not.
    const before = this.beforeInBlock(struct);
    if (before !== undefined && !this.found.has(before)) waiting.push(before);
    if (!(struct instanceof Y.Item)) return waiting;
    if (struct.origin) add(struct.origin.client, struct.origin.clock);
    if (struct.rightOrigin) add(struct.rightOrigin.client, struct.rightOrigin.clock);
    if (struct.parent instanceof Y.ID) add(struct.parent.client, struct.parent.clock);
    return waiting;
  }

  private beforeInBlock(struct: Struct): Struct | undefined {
    const structs = this.byClient.get(struct.id.client)!;
    let low = 0;
    let high = structs.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const clock = structs[middle]!.id.clock;
      if (clock < struct.id.clock) low = middle + 1;
      else if (clock > struct.id.clock) high = middle - 1;
      else return middle > 0 ? structs[middle - 1] : undefined;
    }
    return undefined;
  }

  /** Where `struct` lands, once everything of the update it waits for has its place. */
  private land(struct: Struct): Landing {
    if (struct instanceof Y.GC) return GARBAGE;
    if (struct instanceof Y.Skip) return SKIPPED;
    const item = struct;
    if (item.origin !== null || item.rightOrigin !== null) {
      const left = item.origin && this.at(item.origin);
      const right = item.rightOrigin && this.at(item.rightOrigin);
      if (left && isRefusal(left)) return left;
      if (right && isRefusal(right)) return right;
      if (left === GARBAGE || right === GARBAGE) return GARBAGE;
      if (left && right && !samePlace(left, right))
        return refusal(item, 'sits between neighbours of two different places');
      if (item.origin && item.rightOrigin && Y.compareIDs(item.origin, item.rightOrigin))
        return refusal(item, 'has the same item on its left and its right');
      const place = (left ?? right) as Place;
      // A map entry is set after the key's last value, with nothing on its right (Y.Map#set).
      if (place.sub !== null && item.rightOrigin !== null)
        return refusal(item, `is an entry "${place.sub}" of a map with an item on its right`);
      return mapEntryOfOne(item, place);
    }
    if (typeof item.parent === 'string')
      return mapEntryOfOne(item, { root: item.parent, parent: item.parent, sub: item.parentSub, depth: 1 });
    if (!(item.parent instanceof Y.ID)) return refusal(item, 'has neither neighbours nor a parent');
    const holder = this.structAt(item.parent);
    // A type deleted meanwhile (its content collected): Yjs collects what is written into it.
    if (holder instanceof Y.GC || (holder instanceof Y.Item && holder.content instanceof Y.ContentDeleted))
      return GARBAGE;
    if (!(holder instanceof Y.Item) || !(holder.content instanceof Y.ContentType))
      return refusal(item, 'names as its parent an item that holds no type');
    const holderPlace = this.at(item.parent);
    if (holderPlace === GARBAGE || !('root' in holderPlace)) return holderPlace;
    // Yjs deletes and collects nested types recursively: a chain of thousands overflows its stack.
    if (holderPlace.depth >= MAX_DEPTH) return refusal(item, `nests types deeper than ${MAX_DEPTH} levels`);
    const type = this.isInDoc(item.parent) ? holder.content.type : holder;
    return mapEntryOfOne(item, {
      root: holderPlace.root,
      parent: type,
      sub: item.parentSub,
      depth: holderPlace.depth + 1,
    });
  }

  /** Where the struct holding `id` lands (a struct of the doc, or an item of the update already placed). */
  private at(id: Y.ID): Landing {
    const struct = this.structAt(id);
    if (struct instanceof Y.GC) return GARBAGE;
    if (struct === undefined || struct instanceof Y.Skip)
      return {
        ok: false,
        reason: `an item builds on clock ${id.clock} of client ${id.client}, which nothing holds`,
        ahead: true,
      };
    if (this.isInDoc(id)) return this.placeInDoc(struct);
    return this.found.get(struct) ?? refusal(struct, 'was not placed');
  }

  /** Where an item of the doc is: its parent (a root by name), its key, its root. */
  private placeInDoc(item: Y.Item): Place {
    let depth = 1;
    let top = item.parent;
    while (top instanceof Y.AbstractType && top._item !== null) {
      top = top._item.parent;
      depth++;
    }
    const root = (top instanceof Y.AbstractType && this.rootNames.get(top)) || '(a type that is not a root)';
    const parent = item.parent instanceof Y.AbstractType && item.parent._item === null ? root : item.parent;
    return { root, parent: parent as Place['parent'], sub: item.parentSub, depth };
  }

  private isInDoc(id: Y.ID): boolean {
    return id.clock < Y.getState(this.doc.store, id.client);
  }

  /** The struct holding `id`: the doc's where the doc has that clock (Yjs keeps its own), else the update's. */
  private structAt(id: Y.ID): Struct | undefined {
    if (this.isInDoc(id)) return Y.getItem(this.doc.store, id) as Y.Item | Y.GC;
    return this.inUpdate(id.client, id.clock);
  }

  /** The struct of the update holding that clock, unless the doc has it. */
  private inUpdate(client: number, clock: number): Struct | undefined {
    if (clock < Y.getState(this.doc.store, client)) return undefined;
    const structs = this.byClient.get(client);
    if (!structs) return undefined;
    let low = 0;
    let high = structs.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const struct = structs[middle]!;
      if (clock < struct.id.clock) high = middle - 1;
      else if (clock >= struct.id.clock + struct.length) low = middle + 1;
      else return struct;
    }
    return undefined;
  }
}

/** Placed in a skip: what builds on it would wait for clocks nobody sent. */
const SKIPPED: Refusal = { ok: false, reason: 'an item builds on clocks the update skips', ahead: true };

function refusal(struct: Struct, what: string): Refusal {
  return { ok: false, reason: `an item of client ${struct.id.client} at clock ${struct.id.clock} ${what}` };
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
