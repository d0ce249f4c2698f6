/**
 * Validation of records against the schema module. It reports every problem at once, each with the
 * field it concerns, a sentence a person understands and a code that says the same without words,
 * so a form can show all of them next to their fields (in the interface's language) and an importer
 * can list all of them per line.
 */
import * as v from 'valibot';
import {
  FIELDS,
  ID_PATTERN,
  INVARIANTS,
  isInstant,
  problemKindOf,
  schemas,
  type FieldSpec,
  type ProblemCode,
  type ProblemParams,
  type RecordKind,
  type RecordTypes,
  type StaffMember,
  type Target,
} from './schema';

export type { ProblemCode, ProblemParams } from './schema';

export interface Problem {
  /** The field the problem is about (dotted path for nested values), or '' for the record as a whole. */
  field: string;
  /** The English sentence, naming the field: what the CSV importer and the CLI print. */
  message: string;
  /**
   * What is wrong, for a sentence in another language (src/lib/app/problem-text.ts). Absent on
   * problems that other modules make from a sentence alone (the store's "There is no lead …", the
   * sync layer's quarantine notes): show `message` then.
   */
  code?: ProblemCode;
  /** The values the sentence names besides the field, e.g. `{ max: 200 }`. */
  params?: ProblemParams;
}

/** A problem with its code (and the values its sentence names). */
export function problem(field: string, message: string, code: ProblemCode, params?: ProblemParams): Problem {
  return params ? { field, message, code, params } : { field, message, code };
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export function validate<K extends RecordKind>(kind: K, input: unknown): Validated<RecordTypes[K]> {
  const result = v.safeParse(schemas[kind], input, { abortEarly: false, abortPipeEarly: true });
  const problems = result.success ? [] : result.issues.map((issue) => toProblem(kind, issue));
  const record = result.success ? result.output : isObject(input) ? input : undefined;
  if (record) {
    const badFields = new Set(problems.map((found) => found.field.split('.')[0]));
    for (const invariant of INVARIANTS[kind] ?? []) {
      if (invariant.reads.some((field) => badFields.has(field))) continue;
      if (!invariant.holds(record))
        problems.push(problem(invariant.field, invariant.message, invariant.code));
    }
  }
  if (result.success && problems.length === 0) {
    // The schema was derived from the field table that the record interfaces mirror.
    return { ok: true, value: result.output as unknown as RecordTypes[K] };
  }
  return { ok: false, problems };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toProblem(kind: RecordKind, issue: v.BaseIssue<unknown>): Problem {
  const field = (issue.path ?? []).map((item) => String(item.key)).join('.');
  // A required field that is absent altogether is reported by the object, not by the field's schema.
  if (issue.type === 'object' && issue.received === 'undefined') {
    const label = (FIELDS[kind] as Record<string, FieldSpec | undefined>)[field]?.label ?? field;
    return problem(field, `${label} is required.`, 'required');
  }
  // Every check of the schemas was given a coded message; valibot's own (inside a stage history entry) was not.
  const known = problemKindOf(issue.message);
  return problem(field, issue.message, known?.code ?? 'invalid', known?.params);
}

export const validateLead = (input: unknown) => validate('lead', input);
export const validateDeal = (input: unknown) => validate('deal', input);
export const validateProgram = (input: unknown) => validate('program', input);

// ---------------------------------------------------------------------------------------------
// The program document's other entries: the vendor's staff and the partners' targets.

/** A plain object (not a list, not bytes), as a stored entry must be. */
function entryObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
    ? (value as Record<string, unknown>)
    : undefined;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** A member of the vendor's staff (its name trimmed), or every problem with it. */
export function validateStaffMember(input: unknown): Validated<StaffMember> {
  const member = entryObject(input);
  if (!member) return { ok: false, problems: [{ field: '', message: 'A staff member must be an object.' }] };
  const problems: Problem[] = [];
  const { id, name, deletedAt } = member;
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    problems.push({
      field: 'id',
      message: 'User id must be 1–64 letters, digits, "-", "_", "." or ":", starting with a letter or digit.',
    });
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 120)
    problems.push({ field: 'name', message: 'Name must be 1–120 characters.' });
  if (member['role'] !== 'vendor_manager')
    problems.push({ field: 'role', message: 'A staff member’s role must be vendor_manager.' });
  if (deletedAt !== undefined && !isInstant(deletedAt))
    problems.push({ field: 'deletedAt', message: 'Deleted must be an instant (epoch milliseconds).' });
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    value: {
      id: id as string,
      name: (name as string).trim(),
      role: 'vendor_manager',
      ...(typeof deletedAt === 'number' ? { deletedAt } : {}),
    },
  };
}

/** A partner's target for a quarter, or every problem with it. */
export function validateTarget(input: unknown): Validated<Target> {
  const target = entryObject(input);
  if (!target) return { ok: false, problems: [{ field: '', message: 'A target must be an object.' }] };
  const problems: Problem[] = [];
  const { revenue, deals, setAt, setBy } = target;
  if (!isCount(revenue))
    problems.push({
      field: 'revenue',
      message: `Revenue target must be a whole, non-negative number of minor units (got ${JSON.stringify(revenue)}).`,
    });
  if (!isCount(deals))
    problems.push({
      field: 'deals',
      message: `Deal target must be a whole, non-negative number of deals (got ${JSON.stringify(deals)}).`,
    });
  if (!isInstant(setAt))
    problems.push({ field: 'setAt', message: 'Set at must be an instant (epoch milliseconds, 1970–2100).' });
  if (typeof setBy !== 'string' || !ID_PATTERN.test(setBy))
    problems.push({ field: 'setBy', message: 'Set by must be a user id.' });
  if (problems.length) return { ok: false, problems };
  return { ok: true, value: { revenue, deals, setAt, setBy } as Target };
}
