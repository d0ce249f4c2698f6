/**
 * Validation of records against the schema module. It reports every problem at once, each with the
 * field it concerns, a sentence a person understands and a code that says the same without words,
 * so a form can show all of them next to their fields (in the interface's language) and an importer
 * can list all of them per line.
 */
import * as v from 'valibot';
import {
  FIELDS,
  INVARIANTS,
  problemKindOf,
  schemas,
  type FieldSpec,
  type ProblemCode,
  type ProblemParams,
  type RecordKind,
  type RecordTypes,
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
