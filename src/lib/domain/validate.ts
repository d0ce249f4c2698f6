/**
 * Validation of records against the schema module. It reports every problem at once, each with the
 * field it concerns and a sentence a person understands, so a form can show all of them next to
 * their fields and an importer can list all of them per line.
 */
import * as v from 'valibot';
import { FIELDS, INVARIANTS, schemas, type FieldSpec, type RecordKind, type RecordTypes } from './schema';

export interface Problem {
  /** The field the problem is about (dotted path for nested values), or '' for the record as a whole. */
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

export function validate<K extends RecordKind>(kind: K, input: unknown): Validated<RecordTypes[K]> {
  const result = v.safeParse(schemas[kind], input, { abortEarly: false, abortPipeEarly: true });
  const problems = result.success ? [] : result.issues.map((issue) => toProblem(kind, issue));
  const record = result.success ? result.output : isObject(input) ? input : undefined;
  if (record) {
    const badFields = new Set(problems.map((problem) => problem.field.split('.')[0]));
    for (const invariant of INVARIANTS[kind] ?? []) {
      if (invariant.reads.some((field) => badFields.has(field))) continue;
      if (!invariant.holds(record)) problems.push({ field: invariant.field, message: invariant.message });
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
    return { field, message: `${label} is required.` };
  }
  return { field, message: issue.message };
}

export const validateLead = (input: unknown) => validate('lead', input);
export const validateDeal = (input: unknown) => validate('deal', input);
export const validateProgram = (input: unknown) => validate('program', input);
