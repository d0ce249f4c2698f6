/**
 * The record layout inside a partner document, without Yjs: how keys are named, and how a record
 * is derived from its base value, its field overrides and its stage entries (SPEC.md S1–S6).
 *
 * Kept free of Y types so the derivation rules can be read and tested on their own; partner-doc.ts
 * is the only module that moves values between these functions and a Y.Doc.
 */
import {
  DEAL_FIELDS,
  DEFAULT_STAGE_PROBABILITY,
  LEAD_FIELDS,
  STAGES,
  type Deal,
  type Lead,
  type LostReason,
  type Stage,
  type StageChange,
} from '../domain/schema';

/**
 * Separates a record id from the rest of a key. Ids (schema ID_PATTERN) may contain '.', ':' and
 * '-' but never '/', so the first '/' always ends the id — `<id>.<field>` would be ambiguous for an
 * id such as `D1.title`.
 */
export const KEY_SEPARATOR = '/';
/** Second part of a stage entry key: `<id>/stage/<at>/<by>`. */
export const STAGE_KEY_PART = 'stage';
/** Second part of an edit entry key: `<id>/edit/<at>/<by>/<field>` (S13). */
export const EDIT_KEY_PART = 'edit';

export type SyncedKind = 'lead' | 'deal';

/** One entry of a deal's stage log as stored: the change itself plus the fields that go with it. */
export interface StageEntry extends StageChange {
  probability: number;
  closedAt?: number;
  lostReason?: LostReason;
}

/** The fields that only ever come from the winning stage entry, never from a field override. */
export const DEAL_STAGE_FIELDS = ['stage', 'probability', 'closedAt', 'lostReason'] as const;
export type DealStageField = (typeof DEAL_STAGE_FIELDS)[number];

type LeadField = keyof typeof LEAD_FIELDS;
type DealField = keyof typeof DEAL_FIELDS;

/** Every field of a lead, in schema order (derived from the schema module, never written twice). */
export const LEAD_FIELD_NAMES = Object.keys(LEAD_FIELDS) as LeadField[];
export const DEAL_FIELD_NAMES = Object.keys(DEAL_FIELDS) as DealField[];
const LEAD_KNOWN: ReadonlySet<string> = new Set(LEAD_FIELD_NAMES);
const DEAL_KNOWN: ReadonlySet<string> = new Set(DEAL_FIELD_NAMES);

/** Fields a field override may set: everything but the id (and, for deals, the stage group and the log). */
export const LEAD_OVERRIDE_FIELDS: ReadonlySet<string> = new Set(
  LEAD_FIELD_NAMES.filter((field) => field !== 'id'),
);
export const DEAL_OVERRIDE_FIELDS: ReadonlySet<string> = new Set(
  DEAL_FIELD_NAMES.filter(
    (field) =>
      field !== 'id' && field !== 'stageLog' && !(DEAL_STAGE_FIELDS as readonly string[]).includes(field),
  ),
);

export type ParsedKey =
  | { part: 'base'; id: string }
  | { part: 'field'; id: string; field: string }
  | { part: 'stage'; id: string }
  | { part: 'edit'; id: string }
  /** A key of a shape this version does not know (written by a newer version): kept, not read. */
  | { part: 'unknown'; id: string };

export const fieldKey = (id: string, field: string) => `${id}${KEY_SEPARATOR}${field}`;
export const stageKey = (id: string, at: number, by: string) =>
  `${id}${KEY_SEPARATOR}${STAGE_KEY_PART}${KEY_SEPARATOR}${at}${KEY_SEPARATOR}${by}`;

export const editKey = (id: string, at: number, by: string, field: string) =>
  `${id}${KEY_SEPARATOR}${EDIT_KEY_PART}${KEY_SEPARATOR}${at}${KEY_SEPARATOR}${by}${KEY_SEPARATOR}${field}`;

export function parseKey(key: string): ParsedKey {
  const cut = key.indexOf(KEY_SEPARATOR);
  if (cut < 0) return { part: 'base', id: key };
  const id = key.slice(0, cut);
  const rest = key.slice(cut + 1);
  const next = rest.indexOf(KEY_SEPARATOR);
  if (next < 0) return { part: 'field', id, field: rest };
  const second = rest.slice(0, next);
  if (second === STAGE_KEY_PART) return { part: 'stage', id };
  if (second === EDIT_KEY_PART) return { part: 'edit', id };
  return { part: 'unknown', id };
}

/**
 * The order of the stage log and the stage tie-break (S5): earlier `at` first; equal `at` ordered by
 * `by` in UTF-16 code-unit order (not localeCompare, which differs between devices).
 */
export function compareStageChanges(
  a: Pick<StageChange, 'at' | 'by'>,
  b: Pick<StageChange, 'at' | 'by'>,
): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

export const isClosedStage = (stage: unknown) => stage === 'won' || stage === 'lost';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A base value as stored: the record as JSON text (S1) — or, as written by the first drafts of this
 * layout and accepted for ever (S7), the record as a plain object. Undefined when it is neither.
 */
export function readStoredObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isRecord(value) ? value : undefined;
}

/** The stored form of a base value (S1): one string per record, decoded by Yjs in one step. */
export const encodeStored = (record: object): string => JSON.stringify(record);

const KNOWN_STAGES: ReadonlySet<unknown> = new Set(STAGES);

function defaultProbability(stage: unknown): number | undefined {
  return KNOWN_STAGES.has(stage) ? DEFAULT_STAGE_PROBABILITY[stage as Stage] : undefined;
}

/** A stored stage change, or undefined when it is not even shaped like one (counted by `malformedStageValues`, S9). */
function readStageChange(stored: unknown): StageChange | undefined {
  const value = readStoredObject(stored);
  if (!value) return undefined;
  const { stage, at, by } = value;
  if (typeof stage !== 'string' || typeof at !== 'number' || !Number.isFinite(at) || typeof by !== 'string')
    return undefined;
  return { stage: stage as Stage, at, by };
}

/**
 * A stored stage entry. Older shapes are accepted: an entry without `probability` gets the stage's
 * default (S7). Values are copied so callers never hold objects that live inside the Y.Doc.
 */
export function readStageEntry(stored: unknown): StageEntry | undefined {
  const value = readStoredObject(stored);
  const change = readStageChange(value);
  if (!change || !value) return undefined;
  const entry: StageEntry = {
    ...change,
    probability:
      typeof value['probability'] === 'number'
        ? value['probability']
        : (defaultProbability(change.stage) ?? Number.NaN),
  };
  if (value['closedAt'] !== undefined && value['closedAt'] !== null)
    entry.closedAt = value['closedAt'] as number;
  if (value['lostReason'] !== undefined && value['lostReason'] !== null)
    entry.lostReason = value['lostReason'] as LostReason;
  return entry;
}

/** The deal fields the stage log is derived from: those of a base value. */
interface StageSource {
  stage?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
  closedAt?: unknown;
  repId?: unknown;
  stageLog?: unknown;
}

const asInstant = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * The stage log a base value stands for, sorted by (at, by), and always ending in an entry of the
 * base's own stage (S5, S7). A base without a log (an older or imported shape) gets one entry: at
 * `closedAt` for a closed deal, else at `createdAt`. A log whose last entry is of another stage gets
 * one more entry for the base's stage, no earlier than the last one. `by` names whoever is credited
 * with a synthesised entry (the creator when writing, the deal's rep when reading an older shape).
 */
export function baseStageLog(base: StageSource, by: string, reuseEntries = false): StageChange[] {
  const log: StageChange[] = [];
  let sorted = true;
  if (Array.isArray(base.stageLog)) {
    for (const item of base.stageLog as unknown[]) {
      const read = readStageChange(item);
      if (!read) continue;
      // A base parsed from text belongs to the reader alone: its well-formed entries need no copy.
      const change = reuseEntries ? (item as StageChange) : read;
      const previous = log[log.length - 1];
      if (previous && compareStageChanges(previous, change) > 0) sorted = false;
      log.push(change);
    }
  }
  if (!sorted) log.sort(compareStageChanges);
  const last = log[log.length - 1];
  if (last && last.stage === base.stage) return log;
  const closedAt = isClosedStage(base.stage) ? asInstant(base.closedAt) : undefined;
  let at: number;
  if (!last) at = closedAt ?? asInstant(base.createdAt) ?? 0;
  else {
    at = Math.max(last.at, closedAt ?? asInstant(base.updatedAt) ?? last.at);
    if (at === last.at && by <= last.by) at += 1; // must sort after `last`, or it would not be the base's stage
  }
  log.push({ stage: (typeof base.stage === 'string' ? base.stage : '') as Stage, at, by });
  return log;
}

/** The stage entry a base value stands for: the last change of its log, with the base's stage fields. */
export function baseStageEntry(base: Record<string, unknown>, log: readonly StageChange[]): StageEntry {
  const last = log[log.length - 1];
  const entry: StageEntry = {
    stage: base['stage'] as Stage,
    at: last?.at ?? 0,
    by: last?.by ?? '',
    probability:
      typeof base['probability'] === 'number'
        ? base['probability']
        : (defaultProbability(base['stage']) ?? Number.NaN),
  };
  if (base['closedAt'] !== undefined && base['closedAt'] !== null)
    entry.closedAt = base['closedAt'] as number;
  if (base['lostReason'] !== undefined && base['lostReason'] !== null)
    entry.lostReason = base['lostReason'] as LostReason;
  return entry;
}

/** A field value as read: objects are copied so nothing returned aliases a value inside the doc. */
const copyValue = (value: unknown) =>
  typeof value === 'object' && value !== null ? structuredClone(value) : value;

function applyOverrides(
  record: Record<string, unknown>,
  overrides: Iterable<readonly [string, unknown]> | undefined,
  allowed: ReadonlySet<string>,
) {
  if (!overrides) return;
  for (const [field, value] of overrides) {
    if (!allowed.has(field)) continue; // a stage field (S4) or a newer version's field (S7): not read
    if (value === null || value === undefined) delete record[field];
    else record[field] = copyValue(value);
  }
}

/**
 * The object to return for a base value. A base parsed from JSON text is a fresh object only this
 * reader holds: when it has nothing but known fields (the normal case) it is returned as it is,
 * which halves the garbage made by reading every record. A base stored as an object lives inside
 * the doc and is always copied.
 */
function ownFields(
  fresh: boolean,
  base: Record<string, unknown>,
  names: readonly string[],
  known: ReadonlySet<string>,
): Record<string, unknown> {
  if (fresh) {
    let clean = true;
    for (const key in base) {
      const value = base[key];
      if (!known.has(key) || value === null || (typeof value === 'object' && key !== 'stageLog')) {
        clean = false;
        break;
      }
    }
    if (clean) return base;
  }
  return copyFields(base, names);
}

function copyFields(base: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const name of names) {
    const value = base[name];
    if (value !== undefined && value !== null) record[name] = copyValue(value);
  }
  return record;
}

/**
 * A lead = its base value with the field overrides applied (S2). Unknown fields are left out. The
 * result is returned as a Lead even when it does not validate: quarantine is the caller's call (S9).
 */
export function deriveLead(
  stored: unknown,
  overrides?: Iterable<readonly [string, unknown]>,
): Lead | undefined {
  const base = readStoredObject(stored);
  if (!base) return undefined;
  const record = ownFields(typeof stored === 'string', base, LEAD_FIELD_NAMES, LEAD_KNOWN);
  applyOverrides(record, overrides, LEAD_OVERRIDE_FIELDS);
  return record as unknown as Lead;
}

const DEAL_COPIED_FIELDS = DEAL_FIELD_NAMES.filter((field) => field !== 'stageLog');

/**
 * A deal = its base value, the field overrides, and the stage group of the winning stage entry —
 * the greatest by (at, by) among the base's own entry and the appended ones (S4, S5). `stageLog` is
 * the whole history sorted by (at, by). `updatedAt` is the latest of the base's, the override's,
 * `deletedAt` and every stage entry's `at` (S3).
 */
export function deriveDeal(
  stored: unknown,
  overrides?: Iterable<readonly [string, unknown]>,
  stageValues?: Iterable<unknown>,
): Deal | undefined {
  const base = readStoredObject(stored);
  if (!base) return undefined;
  const fresh = typeof stored === 'string';
  // Everything read from the base comes first: `record` may be the base object itself.
  const log = baseStageLog(base, typeof base['repId'] === 'string' ? base['repId'] : '', fresh);
  let winner = baseStageEntry(base, log);
  const baseUpdatedAt = asInstant(base['updatedAt']) ?? -Infinity;
  const record = ownFields(fresh, base, DEAL_COPIED_FIELDS, DEAL_KNOWN);
  applyOverrides(record, overrides, DEAL_OVERRIDE_FIELDS);
  let latest = Math.max(asInstant(record['updatedAt']) ?? -Infinity, baseUpdatedAt);
  if (stageValues) {
    let appended = false;
    for (const value of stageValues) {
      const entry = readStageEntry(value);
      if (!entry) continue;
      log.push({ stage: entry.stage, at: entry.at, by: entry.by });
      appended = true;
      // `>=`: an appended entry equal in (at, by) to the base's own sorts after it, so it wins here too.
      if (compareStageChanges(entry, winner) >= 0) winner = entry;
      if (entry.at > latest) latest = entry.at;
    }
    if (appended) log.sort(compareStageChanges);
  }
  record['stage'] = winner.stage;
  record['probability'] = winner.probability;
  if (winner.closedAt !== undefined) record['closedAt'] = winner.closedAt;
  else delete record['closedAt'];
  if (winner.lostReason !== undefined) record['lostReason'] = winner.lostReason;
  else delete record['lostReason'];
  const deletedAt = asInstant(record['deletedAt']);
  if (deletedAt !== undefined && deletedAt > latest) latest = deletedAt;
  if (latest > -Infinity) record['updatedAt'] = latest;
  record['stageLog'] = log;
  return record as unknown as Deal;
}

/**
 * The whole stage history of a deal as full entries, sorted by (at, by); the last one is the winner.
 * Entries of the base's log before its last one were recorded without their fields: they get the
 * stage's default probability and, for a closed stage, `closedAt` = `at`.
 */
export function deriveStageHistory(
  stored: unknown,
  stageValues?: Iterable<unknown>,
): StageEntry[] | undefined {
  const base = readStoredObject(stored);
  if (!base) return undefined;
  const log = baseStageLog(base, typeof base['repId'] === 'string' ? base['repId'] : '');
  const entries: StageEntry[] = log.slice(0, -1).map((change) => ({
    ...change,
    probability: defaultProbability(change.stage) ?? Number.NaN,
    ...(isClosedStage(change.stage) ? { closedAt: change.at } : {}),
  }));
  entries.push(baseStageEntry(base, log));
  for (const value of stageValues ?? []) {
    const entry = readStageEntry(value);
    if (entry) entries.push(entry);
  }
  return entries.sort(compareStageChanges);
}

/** Stage entries that cannot be read at all: ignored by `deriveDeal`, reported for quarantine (S9). */
export function malformedStageValues(stageValues: Iterable<unknown>): number {
  let count = 0;
  for (const value of stageValues) if (!readStageEntry(value)) count += 1;
  return count;
}

/** A plain object without undefined values (lib0 would store them, and JSON has no undefined). */
export function withoutUndefined<T extends object>(record: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// The edit log (S13)

/** A field value as an edit entry holds it: a primitive, null when absent or cleared. */
export type EditValue = string | number | boolean | null;

/**
 * One field edit of a record, as written in the same transaction as the override (S13): who set
 * which field to what, when, and the value they saw before (`base`).
 */
export interface EditEntry {
  field: string;
  value: EditValue;
  base: EditValue;
  at: number;
  by: string;
}

/** A value another edit set at the same time as the one that holds the field, which it lost (S3, S13). */
export interface AlsoSet {
  field: string;
  value: EditValue;
  by: string;
  at: number;
}

/**
 * The most edit entries a record keeps (S13): the oldest beyond it are removed by the write that
 * adds one. A conflict older than this many later edits of the record is no longer shown. Sixteen
 * lets a record be edited field by field in one sitting (a deal form has six such fields, a
 * lead's seven) and a conflict still be seen a few sittings later, at ~120 bytes an entry.
 */
export const EDIT_LOG_LIMIT = 16;

/** Fields whose edits are logged: the overrides, but for `updatedAt` (derived, S3) and `deletedAt` (S6). */
export const LEAD_LOGGED_FIELDS: ReadonlySet<string> = new Set(
  [...LEAD_OVERRIDE_FIELDS].filter((field) => field !== 'deletedAt'),
);
export const DEAL_LOGGED_FIELDS: ReadonlySet<string> = new Set(
  [...DEAL_OVERRIDE_FIELDS].filter((field) => field !== 'deletedAt' && field !== 'updatedAt'),
);

const isEditValue = (value: unknown): value is EditValue =>
  value === null ||
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value));

/** A field's value as an edit entry holds it; undefined for a value no override could hold (an object). */
export function toEditValue(value: unknown): EditValue | undefined {
  if (value === undefined) return null;
  return isEditValue(value) ? value : undefined;
}

/**
 * A stored edit entry of a record of `kind`, or undefined when it is not one (a foreign or corrupt
 * writer's: ignored, S9): a logged field, primitive values, a finite instant, an id-like author.
 */
export function readEditEntry(stored: unknown, kind: SyncedKind): EditEntry | undefined {
  const value = readStoredObject(stored);
  if (!value) return undefined;
  const { field, at, by } = value;
  const logged = kind === 'lead' ? LEAD_LOGGED_FIELDS : DEAL_LOGGED_FIELDS;
  if (typeof field !== 'string' || !logged.has(field)) return undefined;
  if (
    typeof at !== 'number' ||
    !Number.isFinite(at) ||
    typeof by !== 'string' ||
    by === '' ||
    by.includes(KEY_SEPARATOR)
  )
    return undefined;
  const entryValue = value['value'] === undefined ? null : value['value'];
  const base = value['base'] === undefined ? null : value['base'];
  if (!isEditValue(entryValue) || !isEditValue(base)) return undefined;
  return { field, value: entryValue, base, at, by };
}

/** The order of the edit log: by (at, by, field), `by` and `field` in UTF-16 code-unit order (S5's reason). */
export function compareEdits(
  a: Pick<EditEntry, 'at' | 'by' | 'field'>,
  b: Pick<EditEntry, 'at' | 'by' | 'field'>,
): number {
  const byStage = compareStageChanges(a, b);
  if (byStage !== 0) return byStage;
  return a.field < b.field ? -1 : a.field > b.field ? 1 : 0;
}

/**
 * Which of a record's edit entries to remove so that `limit` are left: the oldest by (at, by,
 * field), and every entry that cannot be read (S13). The same set on every replica that has the
 * same entries; replicas that trimmed different sets concurrently end with the union removed.
 */
export function editsToTrim<K>(
  entries: readonly { key: K; entry: EditEntry | undefined }[],
  limit = EDIT_LOG_LIMIT,
): K[] {
  const unreadable = entries.filter((item) => !item.entry).map((item) => item.key);
  const readable = entries
    .filter((item): item is { key: K; entry: EditEntry } => item.entry !== undefined)
    .sort((a, b) => compareEdits(a.entry, b.entry));
  return [...unreadable, ...readable.slice(0, Math.max(0, readable.length - limit)).map((item) => item.key)];
}

/**
 * The values that lost a concurrent edit of a field (S13). For each field, the entry that holds
 * the current value (the latest by (at, by) whose value it is) was made from some `base`; every
 * other entry made from that same base, with another value, that no later entry was made from
 * (nobody saw it), lost to it: two people edited the field from the same value, and Yjs kept one (S3). A
 * later edit made from the current value hides the conflict: someone saw the winner and moved on.
 * Returned sorted by (at, by, field).
 */
export function concurrentLosers(
  entries: readonly EditEntry[],
  current: Readonly<Record<string, unknown>>,
): AlsoSet[] {
  const byField = new Map<string, EditEntry[]>();
  for (const entry of entries) {
    const list = byField.get(entry.field);
    if (list) list.push(entry);
    else byField.set(entry.field, [entry]);
  }
  const losers: AlsoSet[] = [];
  for (const [field, list] of byField) {
    const now = toEditValue(current[field]);
    if (now === undefined) continue;
    let holder: EditEntry | undefined;
    for (const entry of list)
      if (entry.value === now && (!holder || compareEdits(entry, holder) > 0)) holder = entry;
    if (!holder) continue;
    // Seen: an entry made from this value later (by the clock of whoever made it: a device whose
    // clock is behind may hide a conflict, never invent one).
    const seen = (loser: EditEntry) =>
      list.some((entry) => entry.base === loser.value && entry.at >= loser.at && entry !== loser);
    const shown = new Set<string>();
    for (const entry of list) {
      if (entry.base !== holder.base || entry.value === now || seen(entry)) continue;
      const key = `${entry.by}\n${JSON.stringify(entry.value)}`;
      if (shown.has(key)) continue; // one person setting one value twice (two devices): one line
      shown.add(key);
      losers.push({ field, value: entry.value, by: entry.by, at: entry.at });
    }
  }
  return losers.sort(compareEdits);
}
