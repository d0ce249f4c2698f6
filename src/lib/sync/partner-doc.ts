/**
 * A partner document: one Y.Doc per partner of a program (room `program/<programId>/partner/<partnerId>`)
 * holding that partner's leads and deals. This is the only module of the app that reads or writes
 * its Y types (the store and the sync connection handle its whole updates); the rules it follows
 * are numbered in SPEC.md (S1…) and the tests are named after them.
 *
 * Layout (S1): two top-level maps, `leads` and `deals`. In each, key `<id>` holds the record as
 * created (its JSON text), `<id>/<field>` holds a later edit of one field, and
 * `<id>/stage/<at>/<by>` holds one stage change of a deal, and `<id>/edit/<at>/<by>/<field>` one
 * field edit with the value it replaced (S13). A record is read as base + overrides + derived
 * stage. An in-memory index (id → which override and stage keys exist) is built once when
 * the document is opened and kept current by observing the two maps, so reading one record never
 * scans the map.
 *
 * Every mutating function takes its instants from its arguments: there is no clock in here.
 */
import * as Y from 'yjs';
import {
  DEFAULT_STAGE_PROBABILITY as DEFAULT_PROBABILITY,
  type Deal,
  type Lead,
  type Stage,
} from '../domain/schema';
import { validate, type Problem } from '../domain/validate';
import {
  DEAL_LOGGED_FIELDS,
  DEAL_OVERRIDE_FIELDS,
  DEAL_STAGE_FIELDS,
  EDIT_LOG_LIMIT,
  LEAD_LOGGED_FIELDS,
  LEAD_OVERRIDE_FIELDS,
  baseStageLog,
  concurrentLosers,
  editKey,
  editsToTrim,
  readEditEntry,
  toEditValue,
  type AlsoSet,
  type EditEntry,
  compareStageChanges,
  deriveDeal,
  deriveLead,
  deriveStageHistory,
  encodeStored,
  fieldKey,
  isClosedStage,
  malformedStageValues,
  parseKey,
  stageKey,
  withoutUndefined,
  type StageEntry,
  type SyncedKind,
} from './record-layout';

/**
 * Version of the layout described in SPEC.md. Written to `meta.schemaVersion` by every write
 * transaction of a client that finds it lower (S8); readers accept every older shape.
 */
export const PARTNER_DOC_SCHEMA_VERSION = 1;

/** The top-level types of the layout (S1); the server refuses a client's write to any other. */
export const PARTNER_DOC_ROOTS = ['leads', 'deals', 'meta'] as const;

/** The origin of every transaction made by the functions below, so listeners can tell local edits from remote ones. */
export const LOCAL_ORIGIN: unique symbol = Symbol('partner-doc local edit');

/**
 * Which extra keys one record has: its overridden fields (field → key) and its stage entry keys,
 * made on first use. Holding the map's own key strings lets lookups reuse their cached hashes.
 */
interface RecordExtras {
  fields?: Map<string, string>;
  stages?: Set<string>;
  /** Edit entry keys (S13). */
  edits?: Set<string>;
}

export interface RecordsChanged {
  leads: Set<string>;
  deals: Set<string>;
}

export type RecordsChangedListener = (changed: RecordsChanged, origin: unknown) => void;

export interface PartnerDoc {
  readonly doc: Y.Doc;
  /** Internal: the maps and the index. Everything outside src/lib/sync uses the functions below. */
  readonly maps: Readonly<Record<SyncedKind, Y.Map<unknown>>>;
  readonly meta: Y.Map<unknown>;
  readonly index: Readonly<Record<SyncedKind, Map<string, RecordExtras>>>;
  readonly listeners: Set<RecordsChangedListener>;
  /** Ids touched by the transaction in progress, collected by the map observers. */
  readonly pending: RecordsChanged;
  /** Stops observing the doc (the doc itself stays open). */
  readonly close: () => void;
}

/** A local write that would make a record invalid, or that names a record that is not there. */
export class PartnerDocError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(
      problems.length
        ? `${message}: ${problems.map((problem) => `${problem.field || 'record'}: ${problem.message}`).join(' ')}`
        : message,
    );
    this.name = 'PartnerDocError';
  }
}

// ---------------------------------------------------------------------------------------------
// Opening and the index

function indexKey(index: Map<string, RecordExtras>, key: string, present: boolean): string {
  const parsed = parseKey(key);
  if (parsed.part === 'base' || parsed.part === 'unknown') return parsed.id;
  let extras = index.get(parsed.id);
  if (present) {
    if (!extras) index.set(parsed.id, (extras = {}));
    if (parsed.part === 'field') (extras.fields ??= new Map()).set(parsed.field, key);
    else if (parsed.part === 'edit') (extras.edits ??= new Set()).add(key);
    else (extras.stages ??= new Set()).add(key);
  } else if (extras) {
    // Only a foreign writer deletes map keys (S6), or a delete set that arrives before the item
    // that replaced the value (see the fuzz regression test); the index follows the map either way.
    // Edit entries are removed by the trimming of the log too (S13).
    if (parsed.part === 'field') extras.fields?.delete(parsed.field);
    else if (parsed.part === 'edit') extras.edits?.delete(key);
    else extras.stages?.delete(key);
    if (!extras.fields?.size && !extras.stages?.size && !extras.edits?.size) index.delete(parsed.id);
  }
  return parsed.id;
}

/**
 * Wraps a Y.Doc — new, or already loaded from storage — as a partner document. Opening writes
 * nothing (S8). Open each doc once and keep the result; `close()` detaches the observers.
 */
export function openPartnerDoc(doc: Y.Doc = new Y.Doc()): PartnerDoc {
  const maps = { lead: doc.getMap<unknown>('leads'), deal: doc.getMap<unknown>('deals') };
  const index = { lead: new Map<string, RecordExtras>(), deal: new Map<string, RecordExtras>() };
  for (const kind of ['lead', 'deal'] as const) {
    for (const key of maps[kind].keys()) if (key.includes('/')) indexKey(index[kind], key, true);
  }
  const pending: RecordsChanged = { leads: new Set(), deals: new Set() };
  const listeners = new Set<RecordsChangedListener>();
  const observer = (kind: SyncedKind) => (event: Y.YMapEvent<unknown>) => {
    const map = maps[kind];
    const changed = kind === 'lead' ? pending.leads : pending.deals;
    // keysChanged holds null for an item that is not a map entry (a malformed update): not a record.
    for (const key of event.keysChanged as Set<string | null>)
      if (typeof key === 'string') changed.add(indexKey(index[kind], key, map.has(key)));
  };
  const observeLeads = observer('lead');
  const observeDeals = observer('deal');
  maps.lead.observe(observeLeads);
  maps.deal.observe(observeDeals);
  // Observers run before 'afterTransaction', so the index is current when listeners read.
  const afterTransaction = (transaction: Y.Transaction) => {
    if (pending.leads.size === 0 && pending.deals.size === 0) return;
    const changed: RecordsChanged = { leads: new Set(pending.leads), deals: new Set(pending.deals) };
    pending.leads.clear();
    pending.deals.clear();
    for (const listener of [...listeners]) listener(changed, transaction.origin);
  };
  doc.on('afterTransaction', afterTransaction);
  return {
    doc,
    maps,
    meta: doc.getMap<unknown>('meta'),
    index,
    listeners,
    pending,
    close: () => {
      maps.lead.unobserve(observeLeads);
      maps.deal.unobserve(observeDeals);
      doc.off('afterTransaction', afterTransaction);
      listeners.clear();
    },
  };
}

/** The layout version last written to the doc; 0 for a doc nobody has written to yet (S8). */
export function docSchemaVersion(pd: PartnerDoc): number {
  const version = pd.meta.get('schemaVersion');
  return typeof version === 'number' ? version : 0;
}

function stampSchemaVersion(pd: PartnerDoc) {
  if (docSchemaVersion(pd) < PARTNER_DOC_SCHEMA_VERSION)
    pd.meta.set('schemaVersion', PARTNER_DOC_SCHEMA_VERSION);
}

/**
 * One local transaction (S10). When the caller already runs a transaction (several calls made one
 * with `doc.transact`), Yjs joins it, and that transaction's origin applies.
 */
function transact(pd: PartnerDoc, write: () => void) {
  pd.doc.transact(() => {
    stampSchemaVersion(pd);
    write();
  }, LOCAL_ORIGIN);
}

/**
 * Runs several of this module's writes as one transaction with origin LOCAL_ORIGIN (S10): one
 * update and one notification, each write reading the writes before it. So the store makes one
 * change of a lead's conversion (its deal and its status) or of an import without driving a Yjs
 * transaction itself. A write that throws leaves those before it in the document (Yjs has no
 * rollback): check everything first, as the store does.
 */
export function writeTogether(pd: PartnerDoc, writes: () => void): void {
  pd.doc.transact(writes, LOCAL_ORIGIN);
}

/**
 * Sets an override or stage key and indexes it at once: the observers only run when the
 * transaction ends, and a later call inside the same outer transaction must read this write.
 */
function setExtraKey(pd: PartnerDoc, kind: SyncedKind, key: string, value: unknown) {
  pd.maps[kind].set(key, value);
  indexKey(pd.index[kind], key, true);
}

/** Who makes a field edit, and when: what its edit entries say (S13). */
export interface EditBy {
  by: string;
  at: number;
}

/**
 * Writes one edit entry per logged field of an edit, beside its overrides, then removes the
 * record's oldest entries beyond EDIT_LOG_LIMIT (S13). Must run inside the edit's transaction.
 */
function logEdits(
  pd: PartnerDoc,
  kind: SyncedKind,
  id: string,
  edit: EditBy,
  fields: readonly string[],
  before: Record<string, unknown>,
  after: Record<string, unknown>,
) {
  const logged = kind === 'lead' ? LEAD_LOGGED_FIELDS : DEAL_LOGGED_FIELDS;
  for (const field of fields) {
    const value = toEditValue(after[field]);
    const base = toEditValue(before[field]);
    if (!logged.has(field) || value === undefined || base === undefined) continue;
    setExtraKey(
      pd,
      kind,
      editKey(id, edit.at, edit.by, field),
      encodeStored({ field, value, base, at: edit.at, by: edit.by } satisfies EditEntry),
    );
  }
  const keys = pd.index[kind].get(id)?.edits;
  if (!keys || keys.size <= EDIT_LOG_LIMIT) return;
  const map = pd.maps[kind];
  for (const key of editsToTrim(
    [...keys].map((key) => ({ key, entry: readEditEntry(map.get(key), kind) })),
  )) {
    map.delete(key);
    indexKey(pd.index[kind], key, false);
  }
}

/**
 * Calls `listener` after every transaction — local (origin LOCAL_ORIGIN) or remote (the origin the
 * provider passed to Y.applyUpdate) — that touched at least one record key, with the ids whose
 * derived record may have changed (S10). Returns the unsubscribe function.
 */
export function onRecordsChanged(pd: PartnerDoc, listener: RecordsChangedListener): () => void {
  pd.listeners.add(listener);
  return () => {
    pd.listeners.delete(listener);
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

function fieldOverrides(
  map: Y.Map<unknown>,
  extras: RecordExtras | undefined,
): [string, unknown][] | undefined {
  if (!extras?.fields?.size) return undefined;
  const overrides: [string, unknown][] = [];
  for (const [field, key] of extras.fields) overrides.push([field, map.get(key)]);
  return overrides;
}

function stageValues(map: Y.Map<unknown>, extras: RecordExtras | undefined): unknown[] | undefined {
  if (!extras?.stages?.size) return undefined;
  const values: unknown[] = [];
  for (const key of extras.stages) values.push(map.get(key));
  return values;
}

/** An id never contains the key separator: anything else names an override or stage key, not a record. */
const isRecordId = (id: string) => !id.includes('/');

/** The ids of the records of a kind that the doc holds, for reading them a few at a time (readAll reads all at once). */
export function recordIds(pd: PartnerDoc, kind: SyncedKind): string[] {
  const ids: string[] = [];
  for (const key of pd.maps[kind].keys()) if (isRecordId(key)) ids.push(key);
  return ids;
}

export function readLead(pd: PartnerDoc, id: string): Lead | undefined {
  if (!isRecordId(id)) return undefined;
  const map = pd.maps.lead;
  return deriveLead(map.get(id), fieldOverrides(map, pd.index.lead.get(id)));
}

/** The deal with its stage group from the winning stage entry and its whole `stageLog`, sorted by (at, by). */
export function readDeal(pd: PartnerDoc, id: string): Deal | undefined {
  if (!isRecordId(id)) return undefined;
  const map = pd.maps.deal;
  const extras = pd.index.deal.get(id);
  return deriveDeal(map.get(id), fieldOverrides(map, extras), stageValues(map, extras));
}

/**
 * The full stage entries of a deal (with the probability, closedAt and lostReason of each change),
 * sorted by (at, by); the last one is the deal's current stage. Undefined when there is no such deal.
 */
export function readStageHistory(pd: PartnerDoc, id: string): StageEntry[] | undefined {
  if (!isRecordId(id)) return undefined;
  const map = pd.maps.deal;
  return deriveStageHistory(map.get(id), stageValues(map, pd.index.deal.get(id)));
}

/**
 * Every record of the document, deleted ones included (they carry `deletedAt`), in no particular
 * order. Records whose edits arrived before the record itself are left out until it arrives (S9).
 */
export function readAll(pd: PartnerDoc): { leads: Lead[]; deals: Deal[] } {
  const leads: Lead[] = [];
  const deals: Deal[] = [];
  const leadMap = pd.maps.lead;
  const dealMap = pd.maps.deal;
  leadMap.forEach((value, key) => {
    if (key.includes('/')) return;
    const lead = deriveLead(value, fieldOverrides(leadMap, pd.index.lead.get(key)));
    if (lead) leads.push(lead);
  });
  dealMap.forEach((value, key) => {
    if (key.includes('/')) return;
    const extras = pd.index.deal.get(key);
    const deal = deriveDeal(value, fieldOverrides(dealMap, extras), stageValues(dealMap, extras));
    if (deal) deals.push(deal);
  });
  return { leads, deals };
}

/**
 * The values that lost a concurrent edit of a field of this record to the value it has (S13): who
 * set which field to what, and when, sorted by (at, by, field). Empty for a record without edit
 * entries (every record written before them). A value that is not valid for its field (a foreign
 * writer's) is left out.
 */
export function readAlsoSet(pd: PartnerDoc, kind: SyncedKind, id: string): AlsoSet[] {
  const extras = pd.index[kind].get(id);
  if (!extras?.edits?.size) return [];
  const record = kind === 'lead' ? readLead(pd, id) : readDeal(pd, id);
  if (!record) return [];
  const map = pd.maps[kind];
  const entries: EditEntry[] = [];
  for (const key of extras.edits) {
    const entry = readEditEntry(map.get(key), kind);
    if (entry) entries.push(entry);
  }
  const fields = record as unknown as Record<string, unknown>;
  return concurrentLosers(entries, fields).filter((loser) => {
    const next: Record<string, unknown> = { ...fields };
    if (loser.value === null) delete next[loser.field];
    else next[loser.field] = loser.value;
    const result = validate(kind, next);
    return result.ok || !result.problems.some((problem) => problem.field === loser.field);
  });
}

/** The ids of the records that have edit entries (S13), from the index: no scan of the doc. */
export function recordsWithEdits(pd: PartnerDoc): RecordsChanged {
  const ids = (kind: SyncedKind) =>
    new Set([...pd.index[kind]].filter(([, extras]) => extras.edits?.size).map(([id]) => id));
  return { leads: ids('lead'), deals: ids('deal') };
}

// ---------------------------------------------------------------------------------------------
// Quarantine (S9)

const ORPHAN_MESSAGE =
  'Edits of this record arrived before the record itself; it stays hidden until the record arrives.';

/**
 * Why a record as read would not pass validation, or [] when it would. The app keeps a record with
 * problems out of forms and KPIs (quarantine) and shows these messages; the record itself is still
 * returned by the read functions and converges like any other.
 */
export function recordProblems(pd: PartnerDoc, kind: SyncedKind, id: string): Problem[] {
  const map = pd.maps[kind];
  const base = isRecordId(id) ? map.get(id) : undefined;
  const extras = pd.index[kind].get(id);
  if (base === undefined)
    return [{ field: '', message: extras ? ORPHAN_MESSAGE : 'There is no such record.' }];
  const record = kind === 'lead' ? readLead(pd, id) : readDeal(pd, id);
  if (!record)
    return [
      {
        field: '',
        message: 'The stored record cannot be read (it is neither a JSON object nor JSON text of one).',
      },
    ];
  const result = validate(kind, record);
  const problems = result.ok ? [] : [...result.problems];
  if (kind === 'deal') {
    const malformed = malformedStageValues(stageValues(map, extras) ?? []);
    if (malformed > 0)
      problems.push({
        field: 'stageLog',
        message: `${malformed} stage change(s) could not be read and were ignored.`,
      });
  }
  return problems;
}

/**
 * Every record with problems, and every set of edits whose record has not arrived. Validates every
 * record: it costs about as much as reading them all again (figures in docs/benchmarks.md), so call
 * it at start-up or in the background, and `recordProblems` for the ids a change notification names.
 */
export function findRecordProblems(pd: PartnerDoc): { kind: SyncedKind; id: string; problems: Problem[] }[] {
  const found: { kind: SyncedKind; id: string; problems: Problem[] }[] = [];
  for (const kind of ['lead', 'deal'] as const) {
    const map = pd.maps[kind];
    map.forEach((_value, key) => {
      if (key.includes('/')) return;
      const problems = recordProblems(pd, kind, key);
      if (problems.length) found.push({ kind, id: key, problems });
    });
    for (const id of pd.index[kind].keys())
      if (!map.has(id)) found.push({ kind, id, problems: [{ field: '', message: ORPHAN_MESSAGE }] });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Writing

const problemKey = (problem: Problem) => `${problem.field}\n${problem.message}`;

/**
 * A local write may not introduce a problem (S9): the record it leads to must validate, or have no
 * problem the current record does not already have (so a quarantined record can still be repaired
 * field by field). Returns the record to take the written values from (trimmed when valid).
 */
function checkWrite(kind: SyncedKind, id: string, current: object, next: object): Record<string, unknown> {
  const after = validate(kind, next);
  if (after.ok) return after.value as unknown as Record<string, unknown>;
  const before = validate(kind, current);
  const known = new Set(before.ok ? [] : before.problems.map(problemKey));
  const introduced = after.problems.filter((problem) => !known.has(problemKey(problem)));
  if (introduced.length) throw new PartnerDocError(`The ${kind} ${id} was not changed`, introduced);
  return next as Record<string, unknown>;
}

/** Whether the doc has a record of this id, as a base or as edits waiting for their base (S11). */
export function hasRecord(pd: PartnerDoc, kind: SyncedKind, id: string): boolean {
  // Edits without a base mean another device created this id.
  return pd.maps[kind].has(id) || pd.index[kind].has(id);
}

function assertNew(pd: PartnerDoc, kind: SyncedKind, id: string) {
  // Ids must be unique (S11).
  if (hasRecord(pd, kind, id)) throw new PartnerDocError(`A ${kind} with id ${id} already exists`);
}

function validLead(lead: Lead): Lead {
  const result = validate('lead', lead);
  if (!result.ok) throw new PartnerDocError(`The lead ${String(lead.id)} was not created`, result.problems);
  return withoutUndefined(result.value);
}

/** The base value of a new deal: validated, with its stage log ending in its own stage (S5). */
function validDealBase(deal: Deal, by: string): Deal {
  const first = validate('deal', deal);
  if (!first.ok) throw new PartnerDocError(`The deal ${String(deal.id)} was not created`, first.problems);
  const withLog = validate('deal', { ...first.value, stageLog: baseStageLog(first.value, by) });
  if (!withLog.ok) throw new PartnerDocError(`The deal ${String(deal.id)} was not created`, withLog.problems);
  return withoutUndefined(withLog.value);
}

/** Creates a lead whole, in one transaction (S2). Throws a PartnerDocError when it does not validate or its id is taken. */
export function createLead(pd: PartnerDoc, lead: Lead): void {
  const base = validLead(lead);
  assertNew(pd, 'lead', base.id);
  transact(pd, () => pd.maps.lead.set(base.id, encodeStored(base)));
}

/**
 * Creates a deal whole, in one transaction, with its stage log in the base value: the given
 * `stageLog` (sorted), plus an entry for the deal's stage by `by` when the log does not end in it —
 * at `createdAt` for a new open deal, at `closedAt` for one created closed (S5).
 */
export function createDeal(pd: PartnerDoc, deal: Deal, by: string): void {
  const base = validDealBase(deal, by);
  assertNew(pd, 'deal', base.id);
  transact(pd, () => pd.maps.deal.set(base.id, encodeStored(base)));
}

/**
 * Creates many records in one transaction (an import, the demo program): every record is checked
 * first and nothing is written unless all pass.
 */
export function createRecords(
  pd: PartnerDoc,
  records: { leads?: readonly Lead[]; deals?: readonly Deal[] },
  by: string,
): void {
  const leads = (records.leads ?? []).map(validLead);
  const deals = (records.deals ?? []).map((deal) => validDealBase(deal, by));
  const seen = { lead: new Set<string>(), deal: new Set<string>() };
  for (const [kind, list] of [
    ['lead', leads],
    ['deal', deals],
  ] as const) {
    for (const record of list) {
      assertNew(pd, kind, record.id);
      if (seen[kind].has(record.id)) throw new PartnerDocError(`The ${kind} id ${record.id} appears twice`);
      seen[kind].add(record.id);
    }
  }
  transact(pd, () => {
    for (const lead of leads) pd.maps.lead.set(lead.id, encodeStored(lead));
    for (const deal of deals) pd.maps.deal.set(deal.id, encodeStored(deal));
  });
}

function applyChanges(
  current: object,
  changes: object,
  allowed: ReadonlySet<string>,
  kind: SyncedKind,
  id: string,
) {
  const next: Record<string, unknown> = { ...current };
  const fields: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    if (field === 'id') {
      if (value !== id) throw new PartnerDocError(`The id of ${kind} ${id} cannot change`);
      continue;
    }
    if (!allowed.has(field)) continue;
    fields.push(field);
    if (value === undefined) delete next[field];
    else next[field] = value;
  }
  return { next, fields };
}

/**
 * Writes one override key per field whose value differs from the record as read (S2): a field
 * given as `undefined` is cleared (the override holds null). Nothing is written when nothing changes.
 * With `edit` (who, when: a lead has no `updatedAt` to say it), each changed field also gets an edit
 * entry (S13).
 */
export function updateLead(pd: PartnerDoc, id: string, changes: Partial<Lead>, edit?: EditBy): void {
  const current = readLead(pd, id);
  if (!current) throw new PartnerDocError(`There is no lead ${id}`);
  const { next, fields } = applyChanges(current, changes, LEAD_OVERRIDE_FIELDS, 'lead', id);
  for (const field of Object.keys(changes))
    if (field !== 'id' && !LEAD_OVERRIDE_FIELDS.has(field))
      throw new PartnerDocError(`A lead has no field ${field}`);
  const checked = checkWrite('lead', id, current, next);
  const currentFields = current as unknown as Record<string, unknown>;
  const writes = fields.filter((field) => checked[field] !== currentFields[field]);
  if (writes.length === 0) return;
  transact(pd, () => {
    for (const field of writes) setExtraKey(pd, 'lead', fieldKey(id, field), checked[field] ?? null);
    if (edit) logEdits(pd, 'lead', id, edit, writes, currentFields, checked);
  });
}

/**
 * Field changes become overrides as for leads. A change of the stage group (stage, probability,
 * closedAt, lostReason) appends one stage entry by `by` at `changes.updatedAt` holding the whole
 * group (S4, S5); fields of the group not given follow the stage: a new stage gets its default
 * probability, closedAt = the change's instant when it closes the deal, none when it reopens it,
 * and no lost reason unless it is lost. `updatedAt` is required.
 *
 * If the device's clock is behind the winning entry, the entry is written 1 ms after it instead,
 * so that the change the person just made is the one shown (S5). Each changed field also gets an
 * edit entry by `by` at `changes.updatedAt` (S13).
 */
export function updateDeal(pd: PartnerDoc, id: string, changes: Partial<Deal>, by: string): void {
  const current = readDeal(pd, id);
  const history = readStageHistory(pd, id);
  const winner = history?.[history.length - 1];
  if (!current || !winner) throw new PartnerDocError(`There is no deal ${id}`);
  if ('stageLog' in changes)
    throw new PartnerDocError(
      `The stage history of deal ${id} is append-only: change its stage, probability, closedAt or lostReason instead`,
    );
  for (const field of Object.keys(changes)) {
    if (
      field !== 'id' &&
      !DEAL_OVERRIDE_FIELDS.has(field) &&
      !(DEAL_STAGE_FIELDS as readonly string[]).includes(field)
    )
      throw new PartnerDocError(`A deal has no field ${field}`);
  }
  const at = changes.updatedAt;
  if (typeof at !== 'number') throw new PartnerDocError(`A change of deal ${id} needs its updatedAt`);

  const { next, fields } = applyChanges(current, changes, DEAL_OVERRIDE_FIELDS, 'deal', id);
  let entry: StageEntry | undefined;
  if (DEAL_STAGE_FIELDS.some((field) => field in changes)) {
    const stage: Stage = changes.stage ?? current.stage;
    const stageChanged = stage !== current.stage;
    const entryAt = compareStageChanges({ at, by }, winner) > 0 ? at : winner.at + 1;
    const candidate = withoutUndefined<StageEntry>({
      stage,
      at: entryAt,
      by,
      probability: changes.probability ?? (stageChanged ? DEFAULT_PROBABILITY[stage] : current.probability),
      closedAt:
        'closedAt' in changes
          ? changes.closedAt
          : isClosedStage(stage)
            ? stageChanged
              ? entryAt
              : current.closedAt
            : undefined,
      lostReason:
        'lostReason' in changes
          ? changes.lostReason
          : stage === 'lost' && !stageChanged
            ? current.lostReason
            : undefined,
    });
    const same =
      candidate.stage === current.stage &&
      candidate.probability === current.probability &&
      candidate.closedAt === current.closedAt &&
      candidate.lostReason === current.lostReason;
    if (!same) entry = candidate;
  }
  for (const field of DEAL_STAGE_FIELDS) {
    const value = entry ? entry[field] : current[field];
    if (value === undefined) delete next[field];
    else next[field] = value;
  }
  const updatedAt = Math.max(current.updatedAt, at, entry?.at ?? -Infinity);
  next['updatedAt'] = updatedAt;
  next['stageLog'] = entry
    ? [...(current.stageLog ?? []), { stage: entry.stage, at: entry.at, by }]
    : current.stageLog;
  const checked = checkWrite('deal', id, current, next);
  const currentFields = current as unknown as Record<string, unknown>;
  const writes = fields.filter((field) => field !== 'updatedAt' && checked[field] !== currentFields[field]);
  // The entry's `at` already counts towards updatedAt (S3): an override is only needed beyond it.
  const writeUpdatedAt = updatedAt > current.updatedAt && updatedAt > (entry?.at ?? -Infinity);
  if (writes.length === 0 && !entry && !writeUpdatedAt) return;
  transact(pd, () => {
    for (const field of writes) setExtraKey(pd, 'deal', fieldKey(id, field), checked[field] ?? null);
    if (writeUpdatedAt) setExtraKey(pd, 'deal', fieldKey(id, 'updatedAt'), updatedAt);
    if (entry) setExtraKey(pd, 'deal', stageKey(id, entry.at, entry.by), encodeStored(entry));
    logEdits(pd, 'deal', id, { by, at }, writes, currentFields, checked);
  });
}

/**
 * Marks a record deleted: an override of `deletedAt` (and `updatedAt` for a deal), never a map
 * delete (S6). Deleting a deleted record changes nothing (the first deletion's instant stays).
 */
export function deleteRecord(pd: PartnerDoc, kind: SyncedKind, id: string, at: number): void {
  const current = kind === 'lead' ? readLead(pd, id) : readDeal(pd, id);
  if (!current) throw new PartnerDocError(`There is no ${kind} ${id}`);
  if (current.deletedAt !== undefined) return;
  const next: Record<string, unknown> = { ...current, deletedAt: at };
  const updatedAt = 'updatedAt' in current ? Math.max(current.updatedAt, at) : undefined;
  if (updatedAt !== undefined) next['updatedAt'] = updatedAt;
  checkWrite(kind, id, current, next);
  transact(pd, () => {
    setExtraKey(pd, kind, fieldKey(id, 'deletedAt'), at);
    if (updatedAt !== undefined && 'updatedAt' in current && updatedAt > current.updatedAt)
      setExtraKey(pd, kind, fieldKey(id, 'updatedAt'), updatedAt);
  });
}
