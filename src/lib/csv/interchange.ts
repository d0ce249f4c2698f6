/**
 * The CSV interchange files of kpi-spec.md: `leads.csv` and `deals.csv`.
 *
 * Import is all or nothing: a file with any bad line is refused whole, and the refusal lists
 * `file:line: what is wrong` for every bad line, so a person can fix the file in one pass. Columns
 * are derived from the schema module's field tables; the header may list them in any order.
 * Export writes numbers as numbers and guards text cells against spreadsheet formula injection.
 *
 * The formula guard (text, email and phone cells; see `guardText` and `unguardText`):
 * - A spreadsheet may start a cell at the start of ours or right after a `,` `;` tab, line feed or
 *   carriage return in it (a semicolon locale, a reader that ignores quotes, a line break). Each of
 *   those places is a *segment start*.
 * - A segment start *runs as a formula* when, after skipping blanks, invisible characters (Unicode
 *   white space, control and format characters such as U+200B, U+FEFF, U+2060, default-ignorable
 *   characters) and `"`, it reaches `=`, `+`, `-`, `@`, any of their compatibility forms (full-width
 *   `＝＋－＠`, small and super/subscript forms: whatever NFKC maps to them), the minus sign U+2212,
 *   a tab or a carriage return.
 * - Export puts one `'` at every segment start that runs as a formula or that begins with `'`
 *   itself, deciding from the last segment to the first (a `'` already put after a line break also
 *   stops the segment before it from running as a formula).
 * - Import removes the `'` at a segment start exactly when what follows it runs as a formula or
 *   begins with `'`: precisely the apostrophes export puts there. So export then import gives back
 *   every string byte for byte (`'=SUM(A1)` ⇄ `''=SUM(A1)`, `Acme;=1+1` ⇄ `Acme;'=1+1`), and an
 *   apostrophe a person typed before ordinary text (`Rock,'n roll`) is kept.
 */
import { parse } from 'csv-parse/browser/esm/sync';
import { stringify } from 'csv-stringify/browser/esm/sync';
import {
  DEAL_FIELDS,
  ID_PATTERN,
  LEAD_FIELDS,
  STAGES,
  isCurrency,
  type Deal,
  type FieldSpec,
  type Lead,
  type Stage,
  type StageChange,
} from '../domain/schema';
import { minorDigits, parseMajor } from '../domain/money';
import { validate } from '../domain/validate';
import { offsetMinutes } from '../kpi/calendar';

/**
 * The spec's columns (kpi-spec.md), as domain field names, in its order: files of every version
 * have them, so a file without one of them is refused. The CSV header is their snake_case form.
 */
export const LEAD_SPEC_COLUMNS = [
  'id',
  'partnerId',
  'repId',
  'createdAt',
  'channel',
  'status',
  'company',
  'contactName',
  'phone',
  'email',
  'qualifiedAt',
] as const satisfies readonly (keyof Lead)[];
export const DEAL_SPEC_COLUMNS = [
  'id',
  'partnerId',
  'repId',
  'leadId',
  'title',
  'channel',
  'amount',
  'currency',
  'stage',
  'probability',
  'createdAt',
  'expectedCloseAt',
  'closedAt',
  'lostReason',
] as const satisfies readonly (keyof Deal)[];

/**
 * Fields that are never a column. A deleted record counts nowhere (kpi-spec.md) and is left out of
 * files whole, so its `deletedAt` has nothing to say in one; every other field of the schema is
 * written, so that export then import gives back every record the app holds, field for field.
 */
export const NOT_IN_FILES: readonly string[] = ['deletedAt'];

/**
 * Every column of a file: the spec's first, then each other field of the schema's table in its
 * order (a field added to the schema is thus written and read without a change here). The added
 * columns may be missing from a file (an older version's): the field is then not in the file.
 */
function columnsOf(fields: Record<string, FieldSpec>, specColumns: readonly string[]): readonly string[] {
  const rest = Object.keys(fields).filter(
    (field) => !specColumns.includes(field) && !NOT_IN_FILES.includes(field),
  );
  return [...specColumns, ...rest];
}

export const LEAD_COLUMNS = columnsOf(LEAD_FIELDS, LEAD_SPEC_COLUMNS);
export const DEAL_COLUMNS = columnsOf(DEAL_FIELDS, DEAL_SPEC_COLUMNS);

export const snakeCase = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * A file read whole, or why not. `fields` are the record fields the file has a column for: a
 * field of `LEAD_COLUMNS`/`DEAL_COLUMNS` not among them was not in the file (an older version's),
 * which is not the same as an empty cell (the field cleared). `derived[i]`: those of `fields` that
 * the line of `records[i]` left empty and the importer derived (a deal's `updatedAt`, say).
 */
export type ImportResult<T> =
  { ok: true; records: T[]; fields: string[]; derived: string[][] } | { ok: false; errors: string[] };

export interface ImportOptions<T> {
  /**
   * A rule of the importer's own (who may import the record: see app/transfer.service.ts), asked of
   * every record that is valid: a sentence saying why it is refused, or undefined. A refusal is a
   * bad line like any other, so the whole file is refused.
   */
  refuse?: (record: T) => string | undefined;
}

// ------------------------------------------------------------------------------------------------
// The formula guard (see the module comment for the rule)

/** After one of these a spreadsheet may start a new cell (or line) in the middle of ours. */
const SEPARATORS = new Set([',', ';', '\t', '\n', '\r']);
/** What a spreadsheet may trim, or a person not see, before a formula's first character; and `"`. */
const SKIPPED = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}\u2800"]$/u;
const MINUS_SIGN = '\u2212';

function isTrigger(char: string): boolean {
  return char === '\t' || char === '\r' || char === MINUS_SIGN || /^[=+\-@]/.test(char.normalize('NFKC'));
}

/** Where a spreadsheet may start a cell inside `text`: its start and right after each separator. */
function segmentStarts(text: string): number[] {
  const starts = [0];
  for (let index = 0; index < text.length; index++) if (SEPARATORS.has(text[index]!)) starts.push(index + 1);
  return starts;
}

/**
 * Whether `text` from `from` on runs as a formula: skipped characters, then a trigger. `guarded`
 * holds later segment starts that export puts a `'` at: the `'` ends the skipping there.
 */
function runsAsFormula(text: string, from: number, guarded?: ReadonlySet<number>): boolean {
  let index = from;
  while (index < text.length) {
    if (index !== from && guarded?.has(index)) return false;
    const char = String.fromCodePoint(text.codePointAt(index)!);
    if (isTrigger(char)) return true;
    if (!SKIPPED.test(char)) return false;
    index += char.length;
  }
  return false;
}

/** A text cell as exported: a `'` at each segment start that runs as a formula or begins with `'`. */
export function guardText(text: string): string {
  const starts = segmentStarts(text);
  const guarded = new Set<number>();
  // From the last segment to the first: what follows a start is then final when it is looked at.
  for (let k = starts.length - 1; k >= 0; k--) {
    const start = starts[k]!;
    if (text[start] === "'" || runsAsFormula(text, start, guarded)) guarded.add(start);
  }
  if (guarded.size === 0) return text;
  let out = '';
  let last = 0;
  for (const start of starts) {
    if (!guarded.has(start)) continue;
    out += `${text.slice(last, start)}'`;
    last = start;
  }
  return out + text.slice(last);
}

/** The inverse of `guardText`: drops the `'` at each segment start that export would have put there. */
export function unguardText(cell: string): string {
  const added = segmentStarts(cell).filter(
    (start) => cell[start] === "'" && (cell[start + 1] === "'" || runsAsFormula(cell, start + 1)),
  );
  if (added.length === 0) return cell;
  let out = '';
  let last = 0;
  for (const start of added) {
    out += cell.slice(last, start);
    last = start + 1;
  }
  return out + cell.slice(last);
}

// ------------------------------------------------------------------------------------------------
// Instants in files: ISO 8601 with an offset. A time without an offset is ambiguous and refused.

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(textValue: string): number | string {
  const match = ISO_INSTANT.exec(textValue);
  if (!match) return `"${textValue}" is not a date and time with offset (e.g. 2026-01-15T10:30:00+05:30)`;
  const [year, month, day, hour, minute, second] = match
    .slice(1, 7)
    .map((part) => Number(part ?? 0)) as number[];
  const millis = Number((match[7] ?? '0').padEnd(3, '0'));
  const utc = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis);
  const check = new Date(utc);
  if (
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day! ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return `"${textValue}" is not a real date and time`;
  }
  const zone = match[8]!;
  const offset =
    zone === 'Z'
      ? 0
      : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return utc - offset * 60_000;
}

/** An instant as ISO 8601 in `tz` with its offset there: what a person in that zone reads. */
export function formatInstant(instant: number, tz: string): string {
  // An offset in files is whole minutes; a few zones had one with seconds before 1972
  // (Africa/Monrovia: -00:44:30). Rounded, it still names the same instant, only a local time
  // some seconds off.
  const offset = Math.round(offsetMinutes(tz, instant));
  const local = new Date(instant + offset * 60_000).toISOString();
  const millis = instant % 1000 === 0 ? '' : local.slice(19, 23);
  const sign = offset < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${local.slice(0, 19)}${millis}${sign}${hours}:${minutes}`;
}

// ------------------------------------------------------------------------------------------------
// Import

interface LineError {
  line: number;
  message: string;
}

interface ParsedLine {
  line: number;
  cells: Record<string, string>;
}

/**
 * The lines of a file as cells by column name, and the columns it has; `errors` holds lines that
 * could not even be split. `required` columns must be there, the rest of `columns` may be.
 */
function readTable(
  text: string,
  fileName: string,
  required: readonly string[],
  columns: readonly string[],
): { rows: ParsedLine[]; errors: LineError[]; names: string[] } | { fatal: string } {
  let records: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    // With info and raw, csv-parse returns { record, info, raw } per line; its types only know string[][].
    records = parse(text, {
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    return { fatal: `${fileName}:${line}: not a valid CSV file: ${(error as Error).message}` };
  }
  const header = records[0];
  const expected = columns.map(snakeCase);
  if (!header)
    return {
      fatal: `${fileName}:1: the file is empty; its first line must be the header: ${expected.join(',')}`,
    };
  const names = header.record.map((name) => name.trim());
  const problems: string[] = [];
  const missing = required.map(snakeCase).filter((name) => !names.includes(name));
  const unknown = names.filter((name) => !expected.includes(name));
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (missing.length) problems.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (unknown.length)
    problems.push(
      `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`,
    );
  if (repeated.length)
    problems.push(`repeated column${repeated.length > 1 ? 's' : ''} ${repeated.join(', ')}`);
  if (problems.length)
    return { fatal: `${fileName}:1: ${problems.join('; ')} (expected header: ${expected.join(',')})` };

  const rows: ParsedLine[] = [];
  const errors: LineError[] = [];
  const lineOf = startLines(text);
  lineOf(header.raw);
  for (const { record, info, raw } of records.slice(1)) {
    const line = lineOf(raw) ?? info.lines;
    if (record.length !== names.length) {
      errors.push({ line, message: `has ${record.length} cells, the header has ${names.length}` });
      continue;
    }
    const cells: Record<string, string> = {};
    names.forEach((name, index) => (cells[name] = record[index] ?? ''));
    rows.push({ line, cells });
  }
  return { rows, errors, names };
}

/**
 * The line each record starts on, records asked in file order by their raw text: the line breaks
 * before it counted as a spreadsheet counts them (CRLF, LF or a lone CR is one), since csv-parse's
 * own count is off for CRLF files — what Windows spreadsheets and Python's csv module write.
 * Undefined for a text it cannot find (then csv-parse's count stands).
 */
function startLines(text: string): (raw: string) => number | undefined {
  let start = 0;
  let from = 0;
  let line = 1;
  return (raw) => {
    const at = text.indexOf(raw, from);
    if (at < 0) return undefined;
    // From the previous record's start, which is never inside a CRLF, to this one's.
    line += text.slice(start, at).match(/\r\n|\n|\r/g)?.length ?? 0;
    start = at;
    from = at + raw.length;
    return line;
  };
}

type Cell = { value: unknown } | { error: string };

const converted = (result: number | string): Cell =>
  typeof result === 'number' ? { value: result } : { error: result };

/**
 * A deal's stage history in one cell: its entries oldest first, separated by ` | `, each
 * `stage instant by` (`prospecting 2026-01-05T10:00:00+05:30 r1 | won 2026-02-04T10:00:00+05:30 r1`).
 * None of the three parts can hold a blank or a `|` (stages are words, instants ISO 8601, `by` an
 * id), and an entry starts with a stage's letter, so a spreadsheet never runs it as a formula.
 */
export const STAGE_LOG_SEPARATOR = ' | ';

function formatStageLog(log: readonly StageChange[], tz: string): string {
  return log
    .map((change) => `${change.stage} ${formatInstant(change.at, tz)} ${change.by}`)
    .join(STAGE_LOG_SEPARATOR);
}

function parseStageLog(cell: string): Cell {
  const log: StageChange[] = [];
  const entries = cell.split('|');
  for (const [index, entry] of entries.entries()) {
    const where = `entry ${index + 1} "${entry.trim()}"`;
    const parts = entry.trim().split(/\s+/);
    if (parts.length !== 3)
      return { error: `${where} is not "stage date-and-time by" (e.g. won 2026-02-04T10:00:00+05:30 r1)` };
    const [stage, at, by] = parts as [string, string, string];
    if (!(STAGES as readonly string[]).includes(stage))
      return { error: `${where}: "${stage}" is not a stage (${STAGES.join(', ')})` };
    const instant = parseInstant(at);
    if (typeof instant === 'string') return { error: `${where}: ${instant}` };
    if (!ID_PATTERN.test(by)) return { error: `${where}: "${by}" is not a person's id` };
    log.push({ stage: stage as Stage, at: instant, by });
  }
  return { value: log };
}

/** Minor units as a decimal in major units, exactly (no floating point): 1250050 INR → "12500.50". */
function formatMinor(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Converts one cell of a field to its domain value, or says why it cannot. */
function cellValue(spec: FieldSpec, raw: string, row: Record<string, string>): Cell {
  switch (spec.kind) {
    case 'instant':
      return converted(parseInstant(raw.trim()));
    case 'money': {
      const currency = row['currency']?.trim() ?? '';
      if (!isCurrency(currency)) return { error: 'cannot be read without a valid currency' };
      // As many decimals as the currency has minor units: 2 for INR, 0 for JPY, 3 for KWD.
      return converted(parseMajor(raw, currency, minorDigits(currency)));
    }
    case 'percent':
      return /^\d+$/.test(raw.trim())
        ? { value: Number(raw.trim()) }
        : { error: `"${raw}" is not a whole number from 0 to 100` };
    case 'text':
    case 'email':
    case 'phone':
      return { value: unguardText(raw) };
    case 'stageLog':
      return parseStageLog(raw);
    case 'id':
    case 'enum':
    case 'currency':
    case 'timeZone':
    case 'stageProbabilities':
      return { value: raw.trim() };
  }
}

/** A value object for `validate`, from the cells of one line; conversion errors are kept by field. */
function recordFromCells(
  fields: Record<string, FieldSpec>,
  columns: readonly string[],
  cells: Record<string, string>,
  derived: readonly string[],
): { record: Record<string, unknown>; conversionErrors: Map<string, string> } {
  const record: Record<string, unknown> = {};
  const conversionErrors = new Map<string, string>();
  for (const field of columns) {
    const spec = fields[field]!;
    const raw = cells[snakeCase(field)] ?? '';
    if (raw.trim() === '') {
      if (!spec.optional && !derived.includes(field))
        conversionErrors.set(field, `${snakeCase(field)} is required but empty`);
      continue;
    }
    const cell = cellValue(spec, raw, cells);
    if ('error' in cell) conversionErrors.set(field, `${snakeCase(field)} ${cell.error}`);
    else record[field] = cell.value;
  }
  return { record, conversionErrors };
}

interface FileKind<T> {
  kind: 'lead' | 'deal';
  fields: Record<string, FieldSpec>;
  required: readonly string[];
  columns: readonly string[];
  /** Required fields that a line may leave empty (or a file leave out): `complete` gives them. */
  derived: readonly string[];
  complete: (record: Record<string, unknown>) => Record<string, unknown>;
  options: ImportOptions<T>;
}

function importFile<T extends { id: string }>(
  text: string,
  fileName: string,
  file: FileKind<T>,
): ImportResult<T> {
  const table = readTable(text, fileName, file.required, file.columns);
  if ('fatal' in table) return { ok: false, errors: [table.fatal] };
  const present = file.columns.filter((field) => table.names.includes(snakeCase(field)));
  const errors: LineError[] = [...table.errors];
  const records: T[] = [];
  const derived: string[][] = [];
  const firstLineOfId = new Map<string, number>();
  for (const { line, cells } of table.rows) {
    const { record, conversionErrors } = recordFromCells(file.fields, present, cells, file.derived);
    const messages = [...conversionErrors.values()];
    const filled = file.derived.filter((field) => present.includes(field) && record[field] === undefined);
    const result = validate(file.kind, file.complete(record));
    if (!result.ok) {
      for (const problem of result.problems) {
        const field = problem.field.split('.')[0] ?? '';
        if (conversionErrors.has(field)) continue; // already said why, in the file's terms
        messages.push(`${field ? snakeCase(field) + ': ' : ''}${problem.message}`);
      }
    }
    const id = cells['id']?.trim() ?? '';
    const firstLine = firstLineOfId.get(id);
    if (id && firstLine !== undefined) messages.push(`duplicate id "${id}" (first on line ${firstLine})`);
    else if (id) firstLineOfId.set(id, line);
    const refusal =
      result.ok && messages.length === 0 ? file.options.refuse?.(result.value as unknown as T) : undefined;
    if (refusal) messages.push(refusal);
    if (messages.length) errors.push({ line, message: messages.join('; ') });
    else if (result.ok) {
      records.push(result.value as unknown as T);
      derived.push(filled);
    }
  }
  if (errors.length === 0) return { ok: true, records, fields: present, derived };
  errors.sort((a, b) => a.line - b.line);
  return { ok: false, errors: errors.map(({ line, message }) => `${fileName}:${line}: ${message}`) };
}

export function importLeadsCsv(
  text: string,
  fileName = 'leads.csv',
  options: ImportOptions<Lead> = {},
): ImportResult<Lead> {
  return importFile<Lead>(text, fileName, {
    kind: 'lead',
    fields: LEAD_FIELDS,
    required: LEAD_SPEC_COLUMNS,
    columns: LEAD_COLUMNS,
    derived: [],
    complete: (record) => record,
    options,
  });
}

/**
 * A deal's `updatedAt` is its `updated_at` cell. Files of the first version have no such column,
 * and a person adding a line may leave it empty: it is then the last thing the line tells of the
 * deal (its close, or else its creation), so that importing the same file twice gives the same
 * records.
 */
export function importDealsCsv(
  text: string,
  fileName = 'deals.csv',
  options: ImportOptions<Deal> = {},
): ImportResult<Deal> {
  return importFile<Deal>(text, fileName, {
    kind: 'deal',
    fields: DEAL_FIELDS,
    required: DEAL_SPEC_COLUMNS,
    columns: DEAL_COLUMNS,
    derived: ['updatedAt'],
    complete: (record) => {
      if (record['updatedAt'] !== undefined) return record;
      const closedAt = typeof record['closedAt'] === 'number' ? record['closedAt'] : undefined;
      const createdAt = typeof record['createdAt'] === 'number' ? record['createdAt'] : undefined;
      return { ...record, updatedAt: closedAt ?? createdAt ?? 0 };
    },
    options,
  });
}

// ------------------------------------------------------------------------------------------------
// Export

function exportCell(spec: FieldSpec, value: unknown, tz: string, currency: string): string | number {
  if (value === undefined || value === null) return '';
  switch (spec.kind) {
    case 'instant':
      return formatInstant(value as number, tz);
    case 'money':
      return formatMinor(value as number, currency);
    case 'percent':
      return value as number;
    case 'text':
    case 'email':
    case 'phone':
      return guardText(String(value));
    case 'stageLog':
      return formatStageLog(value as StageChange[], tz);
    case 'id':
    case 'enum':
    case 'currency':
    case 'timeZone':
    case 'stageProbabilities':
      return String(value);
  }
}

function exportFile<T extends object>(
  records: Iterable<T>,
  fields: Record<string, FieldSpec>,
  columns: readonly string[],
  tz: string,
): string {
  const rows: (string | number)[][] = [columns.map(snakeCase)];
  for (const record of records) {
    const values = record as Record<string, unknown>;
    if (values['deletedAt'] !== undefined) continue; // a deleted record counts nowhere, files included
    const currency = typeof values['currency'] === 'string' ? values['currency'] : 'INR';
    rows.push(columns.map((field) => exportCell(fields[field]!, values[field], tz, currency)));
  }
  // A carriage return alone is a line break to a spreadsheet too: quote it like a line feed.
  return stringify(rows, { record_delimiter: '\n', quoted_match: /\r/ });
}

/** leads.csv text for these leads (deleted ones left out), instants written in time zone `tz`. */
export function exportLeadsCsv(leads: Iterable<Lead>, tz = 'UTC'): string {
  return exportFile(leads, LEAD_FIELDS, LEAD_COLUMNS, tz);
}

/** deals.csv text for these deals (deleted ones left out), amounts in major units. */
export function exportDealsCsv(deals: Iterable<Deal>, tz = 'UTC'): string {
  return exportFile(deals, DEAL_FIELDS, DEAL_COLUMNS, tz);
}
