/**
 * Setting a partner's quarterly target from the vendor's form: the form is checked first (every
 * problem by field, in the interface's language), then written to the program document through the
 * session, which refuses anyone but a vendor manager.
 */
import type { Session } from '../app/session';
import type { FieldErrors } from '../app/forms';
import { m } from '../paraglide/messages';
import { parseTargetForm, type TargetForm } from './targets';
import { targetProblemText } from './vendor-view';

/** The labels of the target form's fields, also used by the form itself. */
export function targetFieldLabels(currency: string): Record<keyof TargetForm, string> {
  return { quarter: m.target_quarter(), revenue: m.target_revenue({ currency }), deals: m.target_deals() };
}

/** Saves the target; the errors by field ('form' for the whole), none when it was saved. */
export async function saveTarget(
  session: Session,
  partnerId: string,
  form: TargetForm,
): Promise<FieldErrors> {
  const currency = session.program?.currency;
  if (!session.canSetTargets || currency === undefined) return { form: m.target_read_only() };
  const labels = targetFieldLabels(currency);
  const parsed = parseTargetForm(form, currency);
  if (!parsed.ok) {
    const errors: FieldErrors = {};
    for (const [field, problem] of Object.entries(parsed.problems) as [
      keyof TargetForm,
      NonNullable<(typeof parsed.problems)[keyof TargetForm]>,
    ][]) {
      errors[field] = targetProblemText(problem, labels[field]);
    }
    return errors;
  }
  const result = await session.setTarget(partnerId, parsed.quarter, {
    revenue: parsed.revenue,
    deals: parsed.deals,
  });
  if (result.ok) return {};
  if ('storageError' in result) return { form: result.storageError.message };
  // The document's own checks (an unknown partner, say): its English sentences, under their field or the form's.
  const errors: FieldErrors = {};
  for (const problem of result.problems) {
    const field = problem.field in labels ? problem.field : 'form';
    errors[field] = errors[field] ? `${errors[field]} ${problem.message}` : problem.message;
  }
  return errors;
}
