/**
 * Form helpers shared by the lead and deal forms: text fields to domain values, and the problems
 * of a failed write by field so that each is shown next to its input.
 */
import type { Problem } from '../domain/validate';
import { formFieldLabel, problemText, wholeRecordText } from './problem-text';
import type { WriteResult } from '../store/write-result';
import { parseDay, startOfLocalDay } from '../kpi/calendar';
import { formatDay, localDayOf } from '../kpi/calendar';
import { draftKey } from '../store/drafts';

export type FieldErrors = Record<string, string>;

/** An optional text field: empty means absent. */
export function optionalText(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A date input (YYYY-MM-DD) as the first instant of that day in the program's zone; '' → undefined. */
export function dateInput(value: string, tz: string): number | undefined | null {
  if (value === '') return undefined;
  const day = parseDay(value);
  return day === null ? null : startOfLocalDay(day, tz);
}

/** The value for a date input from an instant, in the program's zone. */
export function toDateInput(instant: number | undefined, tz: string): string {
  return instant === undefined ? '' : formatDay(localDayOf(tz)(instant));
}

/**
 * Problems by the form field they concern ('form' for the record as a whole), each as a sentence in
 * the interface's language that names the field by its label. A problem about a field no form shows,
 * or without a code, keeps its English sentence.
 */
export function errorsByField(problems: Problem[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = problem.field.split('.')[0] || 'form';
    const label = formFieldLabel(problem.field);
    const text =
      label === undefined ? (wholeRecordText(problem) ?? problem.message) : problemText(problem, label);
    errors[field] = errors[field] ? `${errors[field]} ${text}` : text;
  }
  return errors;
}

/** Field errors of a write, or the storage problem under 'form'; empty when it worked. */
export function errorsOf<T>(result: WriteResult<T>): FieldErrors {
  if (result.ok) return {};
  if ('problems' in result) return errorsByField(result.problems);
  return { form: result.storageError.message };
}

/**
 * The key of a form's draft on this device (store/drafts.ts): the form (`lead:new`, `deal:<id>`…)
 * of the signed-in person of the opened partner.
 */
export function formDraftKey(
  session: { identity?: { partnerId: string; repId: string } | undefined },
  form: string,
): string {
  const identity = session.identity;
  return draftKey(identity?.partnerId ?? '', identity?.repId ?? '', form);
}
