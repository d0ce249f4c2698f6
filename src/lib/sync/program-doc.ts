/**
 * The program document: one Y.Doc per program (room `program/<programId>`) holding the program,
 * its partners, reps and vendor staff, the quarterly targets, and the KPI rollups that the server
 * folds from each partner's document. This is the only module that reads or writes the Y types of
 * the program's rooms (the store, the sync connection and the server handle their whole updates);
 * the rules it follows are numbered P1… in SPEC.md and the tests are named after them.
 *
 * Layout (P1): nine top-level maps — `meta`, `partners`, `reps`, `staff`, `targets`, `rollups`,
 * `rollupChunks`, `totals`, `benchmark`.
 * Directory entries and targets are JSON text, one value per entry. A partner's rollup (P5) is a
 * header object in `rollups` holding its buckets by month as bytes, and its buckets by day in one
 * `rollupChunks` entry per time chunk; `totals` holds the whole program's buckets by day, by
 * chunk. Nothing here reads the clock.
 */
import * as Y from 'yjs';
// The domain's id rule: never a '/', which separates the parts of a target key.
import {
  ID_PATTERN,
  isInstant,
  isTimeZone,
  QUARTER_PATTERN,
  type Partner,
  type Program,
  type ProgramDirectory,
  type Rep,
  type StaffMember,
  type Target,
  type TargetEntry,
} from '../domain/schema';
import { validate, validateStaffMember, validateTarget, type Problem } from '../domain/validate';
import {
  chunkOf,
  decodePackedRollup,
  encodePackedRollup,
  PackedRollupError,
  packRollup,
  packSeries,
  packSeriesChunks,
  unpackRollup,
  unpackSeries,
  type PackedSeries,
} from '../kpi/packed';
import { addRollup, emptyRollup, withoutReps, type Rollup } from '../kpi/buckets';
import { byMonth } from '../kpi/months';
import { monthStart } from '../kpi/calendar';
import { decodeBenchmark, encodeBenchmark, type Benchmark } from '../kpi/benchmark';
import type { Period } from '../kpi/calendar';

/** Version of the layout described in SPEC.md (P1–P9); written to `meta.schemaVersion` by every write (P8). */
export const PROGRAM_DOC_SCHEMA_VERSION = 1;

/**
 * What the buckets of a rollup entry mean (the derivation in kpi/buckets.ts). The server writes it
 * in every entry's header; a reader skips entries of a later version, which it might misread, until
 * it is updated (P6). Bump it together with any change to what a bucket counts.
 */
export const ROLLUP_ENTRY_VERSION = 2;

/** The origin of every transaction the functions below make, except rollup writes. */
export const PROGRAM_LOCAL_ORIGIN: unique symbol = Symbol('program-doc local edit');

/**
 * The origin of the server's own writes (P5, P7): rollups, and what it copies into the rooms only
 * it writes.
 */
export const ROLLUP_ORIGIN: unique symbol = Symbol('program-doc server rollup');

/** The name of the root map of rollup headers (P5). */
const ROLLUPS = 'rollups';
/** The name of the root map of rollup chunks (P5): `<partnerId>@<chunk>` → bytes. */
const ROLLUP_CHUNKS = 'rollupChunks';
/** The name of the root map of the program's buckets (P5): `<chunk>` → bytes, and `zone`. */
const TOTALS = 'totals';

/**
 * The top-level types a client may write (P1, P7): the server refuses a client's write to any
 * other; `rollups` are written only by the server, in rooms no client writes.
 */
export const PROGRAM_CLIENT_ROOTS = ['meta', 'partners', 'reps', 'staff', 'targets'] as const;

/**
 * A partner's rollup as the vendor's device reads it: its buckets by month (partner × channel; exact
 * for periods of whole months, kpi/months.ts) and when the partner last synced.
 */
export interface PartnerRollup {
  lastSyncAt: number;
  rollup: Rollup;
}

/**
 * The value of a `rollups` entry (P5): the header of a partner's rollup. Version 2 holds its
 * buckets by month (`months`) and names the chunks that hold them by day (`rollupChunks`);
 * version 1, an older server's, held every bucket by day in `bytes`, rep by rep.
 */
interface StoredRollup {
  version: number;
  tz: string;
  lastSyncAt: number;
  chunks?: number[];
  months?: Uint8Array;
  bytes?: Uint8Array;
}

/** The keys changed by one transaction, per map (`meta` as a flag). */
export interface ProgramChanged {
  meta: boolean;
  partners: Set<string>;
  reps: Set<string>;
  staff: Set<string>;
  targets: Set<string>;
  rollups: Set<string>;
  rollupChunks: Set<string>;
  totals: Set<string>;
  benchmark: Set<string>;
}

export type ProgramChangedListener = (changed: ProgramChanged, origin: unknown) => void;

type ListName =
  'partners' | 'reps' | 'staff' | 'targets' | 'rollups' | 'rollupChunks' | 'totals' | 'benchmark';

export interface ProgramDoc {
  readonly doc: Y.Doc;
  /** Internal: everything outside src/lib/sync uses the functions below. */
  readonly maps: Readonly<Record<'meta' | ListName, Y.Map<unknown>>>;
  readonly listeners: Set<ProgramChangedListener>;
  /** Stops observing the doc (the doc itself stays open). */
  readonly close: () => void;
}

/** A change of nothing, to add changes to. */
export function noProgramChange(): ProgramChanged {
  return {
    meta: false,
    partners: new Set(),
    reps: new Set(),
    staff: new Set(),
    targets: new Set(),
    rollups: new Set(),
    rollupChunks: new Set(),
    totals: new Set(),
    benchmark: new Set(),
  };
}

/** A write refused because its input is not valid, or because the document cannot take it. */
export class ProgramDocError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(
      problems.length
        ? `${message}: ${problems.map((problem) => `${problem.field || 'record'}: ${problem.message}`).join(' ')}`
        : message,
    );
    this.name = 'ProgramDocError';
  }
}

// ---------------------------------------------------------------------------------------------
// Opening and notifications

/** Wraps a Y.Doc — new, or loaded from storage — as a program document. Opening writes nothing. */
export function openProgramDoc(doc: Y.Doc = new Y.Doc()): ProgramDoc {
  const maps = {
    meta: doc.getMap<unknown>('meta'),
    partners: doc.getMap<unknown>('partners'),
    reps: doc.getMap<unknown>('reps'),
    staff: doc.getMap<unknown>('staff'),
    targets: doc.getMap<unknown>('targets'),
    rollups: doc.getMap<unknown>(ROLLUPS),
    rollupChunks: doc.getMap<unknown>(ROLLUP_CHUNKS),
    totals: doc.getMap<unknown>(TOTALS),
    benchmark: doc.getMap<unknown>('benchmark'),
  };
  const listeners = new Set<ProgramChangedListener>();
  const nameOf = new Map<unknown, 'meta' | ListName>(
    Object.entries(maps).map(([name, map]) => [map, name as 'meta' | ListName]),
  );
  // `transaction.changed` already names the changed keys of each root map: no observers needed.
  const afterTransaction = (transaction: Y.Transaction) => {
    if (listeners.size === 0) return;
    const changed = noProgramChange();
    let changedAny = false;
    for (const [type, keys] of transaction.changed) {
      const name = nameOf.get(type);
      if (name === undefined) continue;
      if (name === 'meta') {
        changed.meta = changedAny = true;
        continue;
      }
      for (const key of keys) {
        if (key === null) continue;
        changed[name].add(key);
        changedAny = true;
      }
    }
    if (!changedAny) return;
    for (const listener of [...listeners]) listener(changed, transaction.origin);
  };
  doc.on('afterTransaction', afterTransaction);
  return {
    doc,
    maps,
    listeners,
    close: () => {
      doc.off('afterTransaction', afterTransaction);
      listeners.clear();
    },
  };
}

/**
 * Calls `listener` after every transaction — local, remote, or the server's rollup writes
 * (origin ROLLUP_ORIGIN) — that changed a key of the program document, with the changed keys per
 * map (P9). Returns the unsubscribe function.
 */
export function onProgramChanged(pd: ProgramDoc, listener: ProgramChangedListener): () => void {
  pd.listeners.add(listener);
  return () => {
    pd.listeners.delete(listener);
  };
}

/** The layout version last written; 0 for a doc nobody has written to (P8). */
export function programDocSchemaVersion(pd: ProgramDoc): number {
  const version = pd.maps.meta.get('schemaVersion');
  return typeof version === 'number' ? version : 0;
}

function transact(pd: ProgramDoc, origin: symbol, write: () => void) {
  pd.doc.transact(() => {
    if (programDocSchemaVersion(pd) < PROGRAM_DOC_SCHEMA_VERSION)
      pd.maps.meta.set('schemaVersion', PROGRAM_DOC_SCHEMA_VERSION);
    write();
  }, origin);
}

// ---------------------------------------------------------------------------------------------
// Reading the directory

/** A stored entry as an object: JSON text (what this version writes) or a plain object (P2). */
function storedObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    !(parsed instanceof Uint8Array)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function readProgram(pd: ProgramDoc): Program | undefined {
  const result = validate('program', storedObject(pd.maps.meta.get('program')));
  return result.ok ? result.value : undefined;
}

/** Every partner that reads back valid, deleted ones included (with `deletedAt`), by id (P2). */
export function readPartners(pd: ProgramDoc): Partner[] {
  const partners: Partner[] = [];
  pd.maps.partners.forEach((value) => {
    const result = validate('partner', storedObject(value));
    if (result.ok) partners.push(result.value);
  });
  return partners.sort(byId);
}

/** Every rep and partner manager that reads back valid, deleted ones included, by id (P2). */
export function readReps(pd: ProgramDoc): Rep[] {
  const reps: Rep[] = [];
  pd.maps.reps.forEach((value) => {
    const result = validate('rep', storedObject(value));
    if (result.ok) reps.push(result.value);
  });
  return reps.sort(byId);
}

/** A stored staff member, or undefined when it does not read back valid. */
function asStaffMember(input: unknown): StaffMember | undefined {
  const result = validateStaffMember(storedObject(input));
  return result.ok ? result.value : undefined;
}

/** Every vendor staff member that reads back valid, deleted ones included, by id (P2). */
export function readStaff(pd: ProgramDoc): StaffMember[] {
  const staff: StaffMember[] = [];
  pd.maps.staff.forEach((value) => {
    const member = asStaffMember(value);
    if (member) staff.push(member);
  });
  return staff.sort(byId);
}

// ---------------------------------------------------------------------------------------------
// Seeding the directory

/** A new program's directory and the vendor's staff, as `initProgram` writes them. */
export interface ProgramSeed extends ProgramDirectory {
  staff: readonly StaffMember[];
}

function checked<T>(
  kind: string,
  id: unknown,
  result: { ok: true; value: T } | { ok: false; problems: Problem[] },
): T {
  if (!result.ok) throw new ProgramDocError(`The ${kind} ${String(id)} is not valid`, result.problems);
  return result.value;
}

/**
 * Writes a new program's directory in one transaction (the server's first start, tests). Every
 * entry is validated first and nothing is written unless all pass; a partner must belong to the
 * program, a rep to one of its partners, and user ids (reps and staff) must be unique. Refuses a
 * document that already has a program: a document is never recreated (P3).
 */
export function initProgram(pd: ProgramDoc, directory: ProgramSeed): void {
  if (pd.maps.meta.has('program'))
    throw new ProgramDocError(
      'This program document already has a program; a program document is never initialised twice',
    );
  const program = checked('program', directory.program.id, validate('program', directory.program));
  const partners = directory.partners.map((partner) =>
    checked('partner', partner.id, validate('partner', partner)),
  );
  const partnerIds = new Set<string>();
  for (const partner of partners) {
    if (partner.programId !== program.id)
      throw new ProgramDocError(
        `The partner ${partner.id} belongs to program ${partner.programId}, not ${program.id}`,
      );
    if (partnerIds.has(partner.id)) throw new ProgramDocError(`The partner id ${partner.id} appears twice`);
    partnerIds.add(partner.id);
  }
  const reps = directory.reps.map((rep) => checked('rep', rep.id, validate('rep', rep)));
  const userIds = new Set<string>();
  for (const rep of reps) {
    if (!partnerIds.has(rep.partnerId))
      throw new ProgramDocError(
        `The rep ${rep.id} works for ${rep.partnerId}, which is not a partner of this program`,
      );
    if (rep.role === 'vendor_manager')
      throw new ProgramDocError(`The rep ${rep.id} has the role vendor_manager: vendor managers are staff`);
    if (userIds.has(rep.id)) throw new ProgramDocError(`The user id ${rep.id} appears twice`);
    userIds.add(rep.id);
  }
  const staff = directory.staff.map((member) => {
    const result = validateStaffMember(member);
    if (!result.ok)
      throw new ProgramDocError(`The staff member ${String(member.id)} is not valid`, result.problems);
    if (userIds.has(member.id)) throw new ProgramDocError(`The user id ${member.id} appears twice`);
    userIds.add(member.id);
    return result.value;
  });
  transact(pd, PROGRAM_LOCAL_ORIGIN, () => {
    pd.maps.meta.set('program', JSON.stringify(program));
    for (const partner of partners) pd.maps.partners.set(partner.id, JSON.stringify(partner));
    for (const rep of reps) pd.maps.reps.set(rep.id, JSON.stringify(rep));
    for (const member of staff) pd.maps.staff.set(member.id, JSON.stringify(member));
  });
}

// ---------------------------------------------------------------------------------------------
// Targets (P4)

/**
 * Sets a partner's target for a quarter (`YYYY-Qn`), replacing the one there (P4): one key,
 * `<partnerId>/<quarter>`, so concurrent settings of one target resolve like any same-key write.
 * Throws a ProgramDocError, writing nothing, for a malformed quarter, an unknown partner, or
 * amounts that are not non-negative integers. Setting the value already there writes nothing.
 */
export function setTarget(pd: ProgramDoc, partnerId: string, quarter: string, target: Target): void {
  const problems: Problem[] = [];
  if (!QUARTER_PATTERN.test(quarter))
    problems.push({
      field: 'quarter',
      message: `Quarter must look like 2026-Q3 (got ${JSON.stringify(quarter)}).`,
    });
  if (!ID_PATTERN.test(partnerId))
    problems.push({ field: 'partnerId', message: `Partner id ${JSON.stringify(partnerId)} is not an id.` });
  else if (!pd.maps.partners.has(partnerId))
    problems.push({ field: 'partnerId', message: `There is no partner ${partnerId} in this program.` });
  const checked = validateTarget(target);
  if (!checked.ok) problems.push(...checked.problems);
  if (problems.length)
    throw new ProgramDocError(`The target of ${partnerId} for ${quarter} was not set`, problems);
  const key = `${partnerId}/${quarter}`;
  const text = JSON.stringify({
    revenue: target.revenue,
    deals: target.deals,
    setAt: target.setAt,
    setBy: target.setBy,
  });
  if (pd.maps.targets.get(key) === text) return;
  transact(pd, PROGRAM_LOCAL_ORIGIN, () => pd.maps.targets.set(key, text));
}

/** Every target that reads back valid, by partner then quarter; malformed keys and values are left out (P4). */
export function readTargets(pd: ProgramDoc): TargetEntry[] {
  const targets: TargetEntry[] = [];
  pd.maps.targets.forEach((value, key) => {
    const parts = key.split('/');
    const [partnerId, quarter] = parts;
    if (
      parts.length !== 2 ||
      !partnerId ||
      !quarter ||
      !ID_PATTERN.test(partnerId) ||
      !QUARTER_PATTERN.test(quarter)
    )
      return;
    const target = validateTarget(storedObject(value));
    if (target.ok) targets.push({ partnerId, quarter, ...target.value });
  });
  return targets.sort((a, b) =>
    a.partnerId !== b.partnerId
      ? a.partnerId < b.partnerId
        ? -1
        : 1
      : a.quarter < b.quarter
        ? -1
        : a.quarter > b.quarter
          ? 1
          : 0,
  );
}

// ---------------------------------------------------------------------------------------------
// Rollups (P5–P7)

export type RollupWrite = {
  /** When the partner's document last changed on the server: how fresh these figures are. */
  lastSyncAt: number;
  /** The zone the buckets were folded in; the program's time zone when not given. */
  tz?: string;
} & (
  | {
      rollup: Rollup;
      /** The only days whose buckets may differ from the last write into this document; all when not given. */ days?: Iterable<number>;
    }
  | { series: readonly PackedSeries[] }
);

/** The key of one chunk of a partner's rollup in `rollupChunks`. */
const chunkKey = (partnerId: string, chunk: number) => `${partnerId}@${chunk}`;
/** The key of `totals` that names the zone of its buckets. */
const TOTALS_ZONE = 'zone';
/** The ids the program's buckets are counted under in `totals`. */
const PROGRAM_TOTAL = { partnerId: '', repId: '' };

const sameBytes = (a: unknown, b: Uint8Array | undefined) =>
  a instanceof Uint8Array && b !== undefined && a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Whether two stored values are the same: JSON values and bytes, compared in depth. */
function sameStored(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array)
    return a instanceof Uint8Array && sameBytes(a, b as Uint8Array);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Object.is(a, b);
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) =>
    sameStored((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/** A rollup's bytes, the same for the same buckets however they were added up: series by key, days in order. */
function encodeCompact(rollup: Rollup): Uint8Array {
  const series = packRollup(rollup).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return encodePackedRollup(series.map(inDayOrder), { compact: true });
}

/** A packed series with its rows in day order. */
function inDayOrder(series: PackedSeries): PackedSeries {
  if (series.days.every((day, i) => i === 0 || series.days[i - 1]! < day)) return series;
  const unpacked = unpackSeries(series);
  return packSeries(
    unpacked,
    [...unpacked.days.values()].sort((a, b) => a.day - b.day),
    series.key,
  );
}

/** The rollup of encoded bytes; throws a PackedRollupError when they cannot be read. */
function decodedRollup(tz: string, bytes: unknown, what: string): Rollup {
  if (!(bytes instanceof Uint8Array)) throw new PackedRollupError(`${what} has no bytes`);
  try {
    return unpackRollup(tz, decodePackedRollup(bytes));
  } catch (error) {
    if (error instanceof PackedRollupError) throw new PackedRollupError(`${what}: ${error.message}`);
    throw error;
  }
}

/** A partner's buckets by day without its reps, packed by chunk (only the chunks `wanted`, when given). */
function dayChunks(rollup: Rollup, wanted?: ReadonlySet<number>): Map<number, Uint8Array> {
  const byChunk = new Map<number, PackedSeries[]>();
  for (const series of withoutReps(rollup, wanted && ((day) => wanted.has(chunkOf(day)))).series.values()) {
    for (const packed of packSeriesChunks(series)) {
      const chunk = chunkOf(packed.days[0]!);
      let list = byChunk.get(chunk);
      if (!list) byChunk.set(chunk, (list = []));
      list.push(packed);
    }
  }
  return new Map(
    [...byChunk].map(([chunk, series]) => [
      chunk,
      encodePackedRollup(series.sort((a, b) => (a.key < b.key ? -1 : 1)).map(inDayOrder), { compact: true }),
    ]),
  );
}

/**
 * The partner's buckets by month as stored (`months`), with the months of `days` made again from
 * `rollup`; undefined when the stored ones cannot be read (then all are made again).
 */
function monthsUpdated(months: unknown, rollup: Rollup, days: ReadonlySet<number>): Rollup | undefined {
  let stored: Rollup;
  try {
    stored = decodedRollup(rollup.tz, months, 'the buckets by month');
  } catch (error) {
    if (error instanceof PackedRollupError) return undefined;
    throw error;
  }
  const touched = new Set([...days].map(monthStart));
  for (const series of stored.series.values()) for (const month of touched) series.days.delete(month);
  addRollup(stored, byMonth(withoutReps(rollup, (day) => touched.has(monthStart(day)))), 1);
  for (const [key, series] of stored.series) if (series.days.size === 0) stored.series.delete(key);
  return stored;
}

/**
 * Writes a partner's rollup (P5), for the server alone, into the room of days (`rollups/days`,
 * P7): its reps summed away (the vendor keeps partner × channel), its buckets by day in chunks of
 * CHUNK_DAYS days, of which only those whose bytes differ are written, the program's totals of
 * those chunks changed by the difference, and the header with its buckets by month. One
 * transaction of origin ROLLUP_ORIGIN: the totals always equal the sum of the partners' chunks.
 * Returns the chunks whose totals changed. Throws a ProgramDocError for a series of another
 * partner (it would be counted twice), a bad `lastSyncAt`, or no time zone to record.
 */
export function writeRollup(pd: ProgramDoc, partnerId: string, write: RollupWrite): Set<number> {
  if (!ID_PATTERN.test(partnerId))
    throw new ProgramDocError(`Partner id ${JSON.stringify(partnerId)} is not an id`);
  if (!isInstant(write.lastSyncAt))
    throw new ProgramDocError(
      `The rollup of ${partnerId} needs lastSyncAt as an instant (epoch milliseconds), not ${String(write.lastSyncAt)}`,
    );
  const tz = write.tz ?? ('rollup' in write ? write.rollup.tz : undefined) ?? readProgram(pd)?.timeZone;
  if (tz === undefined || !isTimeZone(tz))
    throw new ProgramDocError(
      `The rollup of ${partnerId} has no valid time zone: the program document has no program and none was given`,
    );
  const rollup = 'rollup' in write ? write.rollup : unpackRollup(tz, [...write.series]);
  const stranger = [...rollup.series.values()].find((series) => series.partnerId !== partnerId);
  if (stranger)
    throw new ProgramDocError(
      `The rollup of ${partnerId} holds a series of ${stranger.partnerId} (${stranger.repId}, ${stranger.channel})`,
    );
  const header = storedObject(pd.maps.rollups.get(partnerId));
  const before =
    header?.['version'] === ROLLUP_ENTRY_VERSION && Array.isArray(header['chunks'])
      ? (header['chunks'] as number[])
      : [];
  // The totals count this partner's stored chunks only when they are of the totals' zone.
  const counted = header?.['tz'] === tz && pd.maps.totals.get(TOTALS_ZONE) === tz;
  // Told which days changed since the last write (in this zone), only their chunks and months are made again.
  const changedDays =
    'rollup' in write && write.days !== undefined && counted ? new Set(write.days) : undefined;
  const wanted = changedDays && new Set([...changedDays].map(chunkOf));
  const chunks = dayChunks(rollup, wanted);
  const writes: (() => void)[] = [];
  const changed = new Set<number>();
  let rebuild = pd.maps.totals.get(TOTALS_ZONE) !== tz;
  for (const chunk of wanted ?? new Set([...before, ...chunks.keys()])) {
    const key = chunkKey(partnerId, chunk);
    const old = pd.maps.rollupChunks.get(key);
    const bytes = chunks.get(chunk);
    const same = sameBytes(old, bytes) || (old === undefined && bytes === undefined);
    if (same && counted) continue;
    changed.add(chunk);
    if (!same)
      writes.push(
        bytes ? () => pd.maps.rollupChunks.set(key, bytes) : () => pd.maps.rollupChunks.delete(key),
      );
    if (rebuild) continue;
    try {
      const stored = pd.maps.totals.get(String(chunk));
      const total =
        stored === undefined ? emptyRollup(tz) : decodedRollup(tz, stored, `the totals of chunk ${chunk}`);
      if (counted && old !== undefined)
        addRollup(total, decodedRollup(tz, old, `chunk ${chunk} of ${partnerId}`), -1, PROGRAM_TOTAL);
      if (bytes)
        addRollup(total, decodedRollup(tz, bytes, `chunk ${chunk} of ${partnerId}`), 1, PROGRAM_TOTAL);
      writes.push(
        total.series.size
          ? () => pd.maps.totals.set(String(chunk), encodeCompact(total))
          : () => pd.maps.totals.delete(String(chunk)),
      );
    } catch (error) {
      // Something stored does not decode: the totals are summed again from every partner's chunks.
      if (!(error instanceof PackedRollupError)) throw error;
      rebuild = true;
    }
  }
  const kept = wanted ? before.filter((chunk) => !wanted.has(chunk)) : [];
  const months =
    (changedDays && monthsUpdated(header?.['months'], rollup, changedDays)) ?? byMonth(withoutReps(rollup));
  const stored: StoredRollup = {
    version: ROLLUP_ENTRY_VERSION,
    tz,
    lastSyncAt: write.lastSyncAt,
    chunks: [...kept, ...chunks.keys()].sort((a, b) => a - b),
    months: encodeCompact(months),
  };
  if (!sameStored(header, stored)) writes.push(() => pd.maps.rollups.set(partnerId, stored));
  if (rebuild) writes.push(() => rebuildTotals(pd, tz));
  applyWrites(pd, writes);
  if (rebuild) pd.maps.totals.forEach((_value, key) => key !== TOTALS_ZONE && changed.add(Number(key)));
  return changed;
}

/**
 * Makes `totals` the sum of the chunks of every partner folded in zone `tz` (the zone changed, or
 * the totals were never kept); partners folded in another zone wait for their next fold.
 */
function rebuildTotals(pd: ProgramDoc, tz: string): void {
  const totals = new Map<number, Rollup>();
  pd.maps.rollups.forEach((value, partnerId) => {
    const header = storedObject(value);
    if (
      header?.['tz'] !== tz ||
      header['version'] !== ROLLUP_ENTRY_VERSION ||
      !Array.isArray(header['chunks'])
    )
      return;
    for (const chunk of header['chunks'] as number[]) {
      let days: Rollup;
      try {
        days = decodedRollup(
          tz,
          pd.maps.rollupChunks.get(chunkKey(partnerId, chunk)),
          `chunk ${chunk} of ${partnerId}`,
        );
      } catch (error) {
        if (error instanceof PackedRollupError) continue; // never written so by this server; the partner's next fold replaces it
        throw error;
      }
      let total = totals.get(chunk);
      if (!total) totals.set(chunk, (total = emptyRollup(tz)));
      addRollup(total, days, 1, PROGRAM_TOTAL);
    }
  });
  pd.maps.totals.forEach((_value, key) => {
    if (key !== TOTALS_ZONE && !totals.has(Number(key))) pd.maps.totals.delete(key);
  });
  for (const [chunk, total] of totals) pd.maps.totals.set(String(chunk), encodeCompact(total));
  pd.maps.totals.set(TOTALS_ZONE, tz);
}

/**
 * Makes `figures` — the vendor's rollups room (P7) — hold what the vendor reads of `days`: the
 * program's settings, every partner's header (its buckets by month) and the program's totals; not
 * the partners' chunks by day. Only `partnerIds` and `chunks` when given (what one fold changed),
 * otherwise everything, deleting what `days` does not hold. Writes only what differs, in one
 * transaction of origin ROLLUP_ORIGIN; says whether it wrote.
 */
export function projectFigures(
  days: ProgramDoc,
  figures: ProgramDoc,
  only?: { partnerIds: Iterable<string>; chunks: Iterable<number> },
): boolean {
  const writes: (() => void)[] = plannedWrites(
    figures,
    'meta',
    programEntry(days),
    (key) => key === 'schemaVersion',
  );
  const copy = (map: 'rollups' | 'totals', key: string) => {
    const value = days.maps[map].get(key);
    if (value === undefined) {
      if (figures.maps[map].has(key)) writes.push(() => figures.maps[map].delete(key));
    } else if (!sameStored(figures.maps[map].get(key), value)) {
      writes.push(() => figures.maps[map].set(key, value));
    }
  };
  if (only) {
    for (const partnerId of only.partnerIds) copy('rollups', partnerId);
    for (const chunk of only.chunks) copy('totals', String(chunk));
    copy('totals', TOTALS_ZONE);
  } else {
    for (const map of ['rollups', 'totals'] as const) {
      for (const key of new Set([...days.maps[map].keys(), ...figures.maps[map].keys()])) copy(map, key);
    }
    writes.push(...plannedWrites(figures, 'rollupChunks', new Map()));
  }
  return applyWrites(figures, writes);
}

export type RollupProblemListener = (partnerId: string, reason: string) => void;

/** What `readRollups` decoded last time: each partner's stored value and what it read from it, in the zone it read them in. */
export interface RollupReadCache {
  zone?: string | undefined;
  entries: Map<string, { value: unknown; read: PartnerRollup | string }>;
}

function readRollupEntry(
  value: unknown,
  partnerId: string,
  programTz: string | undefined,
): PartnerRollup | string {
  if (typeof value !== 'object' || value === null) return 'the entry is not a rollup object';
  const entry = value as Partial<Record<keyof StoredRollup, unknown>>;
  const { version, tz, lastSyncAt, months, bytes } = entry;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    return `the entry has no valid version (${JSON.stringify(version)})`;
  if (version > ROLLUP_ENTRY_VERSION)
    return `the entry was written by a newer server (rollup version ${version}; this app reads up to ${ROLLUP_ENTRY_VERSION})`;
  if (typeof tz !== 'string' || !isTimeZone(tz))
    return `the entry has no valid time zone (${JSON.stringify(tz)})`;
  if (programTz !== undefined && tz !== programTz)
    return `the buckets are in ${tz} but the program is in ${programTz}; waiting for the server to fold them again`;
  if (!isInstant(lastSyncAt)) return `the entry has no valid lastSyncAt (${JSON.stringify(lastSyncAt)})`;
  let rollup: Rollup;
  try {
    // Version 1 (an older server's): every day, rep by rep. Its days give the same figures.
    rollup = decodedRollup(
      tz,
      version === 1 ? bytes : months,
      version === 1 ? 'the entry' : 'the buckets by month',
    );
  } catch (error) {
    if (error instanceof PackedRollupError) return error.message;
    throw error;
  }
  const stranger = [...rollup.series.values()].find((one) => one.partnerId !== partnerId);
  if (stranger) return `it holds a series of another partner (${seriesKeyOf(stranger)})`;
  return { lastSyncAt, rollup };
}

const seriesKeyOf = (series: { partnerId: string; repId: string; channel: string }) =>
  `${series.partnerId}|${series.repId}|${series.channel}`;

/**
 * Every partner's rollup by month, by partner id (P6). An entry that cannot be read — not
 * decodable, of a later version, in another time zone than the program's — is left out, not
 * thrown on, and reported to `onProblem` with the reason; the other partners' figures still show.
 * `cache` (kept by the caller between reads) spares decoding the entries that did not change.
 */
export function readRollups(
  pd: ProgramDoc,
  onProblem?: RollupProblemListener,
  cache?: RollupReadCache,
): Map<string, PartnerRollup> {
  const programTz = readProgram(pd)?.timeZone;
  const rollups = new Map<string, PartnerRollup>();
  if (cache && cache.zone !== programTz) {
    cache.entries.clear();
    cache.zone = programTz;
  }
  for (const partnerId of cache?.entries.keys() ?? [])
    if (!pd.maps.rollups.has(partnerId)) cache!.entries.delete(partnerId);
  pd.maps.rollups.forEach((value, partnerId) => {
    const cached = cache?.entries.get(partnerId);
    const read =
      cached && cached.value === value ? cached.read : readRollupEntry(value, partnerId, programTz);
    cache?.entries.set(partnerId, { value, read });
    if (typeof read === 'string') onProblem?.(partnerId, read);
    else rollups.set(partnerId, read);
  });
  return rollups;
}

/**
 * The whole program's buckets by day (P6), under partner and rep id '' — exact for any period — or
 * why they cannot be read: none kept yet, kept in another zone than the program's (the server
 * folds again), a chunk that does not decode.
 */
export function readTotals(pd: ProgramDoc): { rollup: Rollup } | { problem: string } {
  const zone = pd.maps.totals.get(TOTALS_ZONE);
  const programTz = readProgram(pd)?.timeZone;
  if (typeof zone !== 'string' || !isTimeZone(zone))
    return { problem: 'the server has not folded any partner yet' };
  if (programTz !== undefined && zone !== programTz)
    return {
      problem: `the totals are in ${zone} but the program is in ${programTz}; waiting for the server to fold them again`,
    };
  const totals = emptyRollup(zone);
  try {
    pd.maps.totals.forEach((bytes, key) => {
      if (key === TOTALS_ZONE) return;
      addRollup(totals, decodedRollup(zone, bytes, `the totals of chunk ${key}`), 1, PROGRAM_TOTAL);
    });
  } catch (error) {
    if (error instanceof PackedRollupError) return { problem: error.message };
    throw error;
  }
  return { rollup: totals };
}

/**
 * Brings the rollup entries an older server wrote (version 1, whole, in the vendor's room
 * `figures`) into the room of days `days` in the current layout, keeping their sync instant, and
 * says how many. An entry that cannot be read is left as it is (P6 reports it) until the
 * partner's next fold replaces it.
 */
export function upgradeRollups(figures: ProgramDoc, days: ProgramDoc): number {
  const programTz = readProgram(figures)?.timeZone ?? readProgram(days)?.timeZone;
  let upgraded = 0;
  for (const [partnerId, value] of [...figures.maps.rollups.entries()]) {
    if (storedObject(value)?.['version'] !== 1 || days.maps.rollups.has(partnerId)) continue;
    const read = readRollupEntry(value, partnerId, programTz);
    if (typeof read === 'string') continue;
    writeRollup(days, partnerId, { lastSyncAt: read.lastSyncAt, rollup: read.rollup });
    upgraded++;
  }
  return upgraded;
}

// ---------------------------------------------------------------------------------------------
// The rooms only the server writes (P7): copies of parts of the program document

type EntryMap =
  'meta' | 'partners' | 'reps' | 'targets' | 'rollups' | 'rollupChunks' | 'totals' | 'benchmark';

/** Makes `map` of `to` hold exactly `wanted` (raw values, compared as JSON); returns whether anything differed. */
function plannedWrites(
  to: ProgramDoc,
  map: EntryMap,
  wanted: ReadonlyMap<string, unknown>,
  keep: (key: string) => boolean = () => false,
): (() => void)[] {
  const target = to.maps[map];
  const writes: (() => void)[] = [];
  target.forEach((_value, key) => {
    if (!wanted.has(key) && !keep(key)) writes.push(() => target.delete(key));
  });
  for (const [key, value] of wanted) {
    if (JSON.stringify(target.get(key)) !== JSON.stringify(value)) writes.push(() => target.set(key, value));
  }
  return writes;
}

function applyWrites(to: ProgramDoc, writes: (() => void)[]): boolean {
  if (writes.length === 0) return false;
  transact(to, ROLLUP_ORIGIN, () => {
    for (const write of writes) write();
  });
  return true;
}

/** The program's settings as stored (`meta.program`), for a copy; undefined before the program exists. */
function programEntry(program: ProgramDoc): Map<string, unknown> {
  const value = program.maps.meta.get('program');
  return new Map(value === undefined ? [] : [['program', value]]);
}

/**
 * Makes `view` — the channel room of partner `partnerId` — hold exactly what that partner may read
 * of `program` (P7): the program's settings, the partner's own entry, its people and its targets;
 * no other partner's anything, no staff, no rollups. Writes only what differs, in one transaction
 * of origin ROLLUP_ORIGIN, and says whether it wrote. Keys it does not hold any more are deleted:
 * only the server writes this document, so no one's offline edit can be lost that way.
 */
export function projectPartnerView(program: ProgramDoc, view: ProgramDoc, partnerId: string): boolean {
  const partner = program.maps.partners.get(partnerId);
  const reps = new Map<string, unknown>();
  program.maps.reps.forEach((value, id) => {
    if (storedObject(value)?.['partnerId'] === partnerId) reps.set(id, value);
  });
  const targets = new Map<string, unknown>();
  program.maps.targets.forEach((value, key) => {
    if (key.startsWith(`${partnerId}/`)) targets.set(key, value);
  });
  return applyWrites(view, [
    ...plannedWrites(view, 'meta', programEntry(program), (key) => key === 'schemaVersion'),
    ...plannedWrites(view, 'partners', new Map(partner === undefined ? [] : [[partnerId, partner]])),
    ...plannedWrites(view, 'reps', reps),
    ...plannedWrites(view, 'targets', targets),
    ...plannedWrites(view, 'rollups', new Map()),
    ...plannedWrites(view, 'rollupChunks', new Map()),
    ...plannedWrites(view, 'totals', new Map()),
  ]);
}

/**
 * Copies the program's settings into `rollupsDoc` (the rollups room, P7), where `readRollups`
 * checks each entry's zone against them. Writes only when they differ; says whether it wrote.
 */
export function copyProgramSettings(program: ProgramDoc, rollupsDoc: ProgramDoc): boolean {
  return applyWrites(
    rollupsDoc,
    plannedWrites(rollupsDoc, 'meta', programEntry(program), (key) => key === 'schemaVersion'),
  );
}

/**
 * Moves the rollups an older server wrote into the program document to `rollupsDoc` (keeping an
 * entry already there, which is newer), then deletes them from the program document: only the
 * server ever wrote that map. Says how many entries the program document held.
 */
export function moveRollups(program: ProgramDoc, rollupsDoc: ProgramDoc): number {
  const held = [...program.maps.rollups.entries()];
  if (held.length === 0) return 0;
  applyWrites(
    rollupsDoc,
    held
      .filter(([partnerId]) => !rollupsDoc.maps.rollups.has(partnerId))
      .map(
        ([partnerId, value]) =>
          () =>
            rollupsDoc.maps.rollups.set(partnerId, value),
      ),
  );
  applyWrites(
    program,
    held.map(
      ([partnerId]) =>
        () =>
          program.maps.rollups.delete(partnerId),
    ),
  );
  return held.length;
}

/** The partners whose channel a change of the program document touches (P7): each changed key's partner; all of them for `meta`. */
export function partnersTouched(
  program: ProgramDoc,
  changed: ProgramChanged,
  repPartners: Map<string, string>,
): Set<string> | 'all' {
  if (changed.meta) return 'all';
  const touched = new Set<string>(changed.partners);
  for (const key of changed.targets) touched.add(key.split('/')[0]!);
  for (const repId of changed.reps) {
    // A rep moved to another partner leaves the old partner's channel too.
    const before = repPartners.get(repId);
    if (before !== undefined) touched.add(before);
    const now = storedObject(program.maps.reps.get(repId))?.['partnerId'];
    if (typeof now === 'string') {
      touched.add(now);
      repPartners.set(repId, now);
    }
  }
  return touched;
}

/** Which partner each rep works for, as the program document says now (for `partnersTouched`). */
export function repPartnersOf(program: ProgramDoc): Map<string, string> {
  const repPartners = new Map<string, string>();
  program.maps.reps.forEach((value, repId) => {
    const partnerId = storedObject(value)?.['partnerId'];
    if (typeof partnerId === 'string') repPartners.set(repId, partnerId);
  });
  return repPartners;
}

// ---------------------------------------------------------------------------------------------
// The program benchmark (V1): in a partner's channel, by period

/** The key of a period's benchmark: its first and end days (`2026-12-01..2027-01-01`) and zone. */
export function benchmarkKey(period: Period): string {
  return `${period.from}..${period.to} ${period.tz}`;
}

/**
 * Makes a partner's channel hold exactly these periods' benchmarks (the server's, V1): each as
 * JSON text under `benchmarkKey`, written only when it differs; periods no longer published go.
 * Says whether it wrote.
 */
export function writeBenchmarks(pd: ProgramDoc, benchmarks: readonly Benchmark[]): boolean {
  const wanted = new Map<string, unknown>(
    benchmarks.map((benchmark) => [
      benchmarkKey(benchmark.period),
      JSON.stringify(encodeBenchmark(benchmark)),
    ]),
  );
  return applyWrites(pd, plannedWrites(pd, 'benchmark', wanted));
}

/** The published benchmark of exactly this period, or undefined (none, or one this app cannot read). */
export function readBenchmark(pd: ProgramDoc, period: Period): Benchmark | undefined {
  const value = pd.maps.benchmark.get(benchmarkKey(period));
  return value === undefined ? undefined : decodeBenchmark(value);
}
