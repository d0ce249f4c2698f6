/** What the deal screens do: build a deal from the form, save it, move it through the stages. */
import type { Session } from '../app/session.svelte';
import { DAY_MS } from '../kpi/calendar';
import { isOpenStage, type Channel, type Deal, type Lead, type LostReason, type Stage, type StageChange } from '../domain/schema';
import { parseMajor, minorDigits } from '../domain/money';
import { newId } from '../app/ids';
import { dateInput, errorsByField, errorsOf, toDateInput, type FieldErrors } from '../app/forms';
import { validate } from '../domain/validate';

export interface DealForm {
  title: string;
  amount: string;
  channel: Channel | '';
  stage: Stage;
  probability: string;
  expectedClose: string;
  closedOn: string;
  lostReason: LostReason | '';
}

export function emptyDealForm(session: Session, lead?: Lead): DealForm {
  return {
    title: lead ? lead.company : '',
    amount: '',
    channel: lead?.channel ?? '',
    stage: 'prospecting',
    probability: String(session.program!.stageProbabilities.prospecting),
    expectedClose: '',
    closedOn: '',
    lostReason: '',
  };
}

export function dealToForm(deal: Deal, tz: string): DealForm {
  const digits = minorDigits(deal.currency);
  return {
    title: deal.title,
    amount: (deal.amount / 10 ** digits).toFixed(digits),
    channel: deal.channel,
    stage: deal.stage,
    probability: String(deal.probability),
    expectedClose: toDateInput(deal.expectedCloseAt, tz),
    closedOn: toDateInput(deal.closedAt, tz),
    lostReason: deal.lostReason ?? '',
  };
}

/** The default probability of a stage in this program (a rep may override it while the deal is open). */
export function stageProbability(session: Session, stage: Stage): number {
  return session.program!.stageProbabilities[stage];
}

/**
 * The close instant for a close date: now when it is today (or later), otherwise noon of that day,
 * so that a deal marked won today is never closed in the future.
 */
function closeInstant(day: number | undefined, now: number): number {
  if (day === undefined) return now;
  return Math.min(now, day + DAY_MS / 2);
}

/** Domain fields from the form; conversion problems (amount, dates) by field. */
function formFields(session: Session, form: DealForm): { fields: Partial<Deal>; errors: FieldErrors } {
  const program = session.program!;
  const tz = program.timeZone;
  const errors: FieldErrors = {};
  const fields: Partial<Deal> = { title: form.title, stage: form.stage, currency: program.currency };
  if (form.channel) fields.channel = form.channel;
  const amount = form.amount.trim() === '' ? 'Amount is required.' : parseMajor(form.amount.replace(/,/g, ''), program.currency);
  if (typeof amount === 'string') errors['amount'] = amount.endsWith('.') ? amount : `${amount}.`;
  else fields.amount = amount;
  const probability = Number(form.probability);
  if (isOpenStage(form.stage)) {
    if (form.probability.trim() === '' || !Number.isInteger(probability)) errors['probability'] = 'Probability must be a whole percentage.';
    else fields.probability = probability;
  } else {
    fields.probability = stageProbability(session, form.stage);
  }
  const expected = dateInput(form.expectedClose, tz);
  if (expected === null) errors['expectedCloseAt'] = 'Expected close is not a date.';
  else fields.expectedCloseAt = expected;
  if (isOpenStage(form.stage)) {
    fields.closedAt = undefined;
    fields.lostReason = undefined;
  } else {
    const closedDay = dateInput(form.closedOn, tz);
    if (closedDay === null) errors['closedAt'] = 'Close date is not a date.';
    else fields.closedAt = closeInstant(closedDay, session.now());
    fields.lostReason = form.stage === 'lost' && form.lostReason ? form.lostReason : undefined;
  }
  return { fields, errors };
}

/** Saves a new deal (from a lead when given: it takes the lead's channel), or the changes to one. */
export async function saveDeal(session: Session, form: DealForm, existing?: Deal, lead?: Lead): Promise<{ id: string } | { errors: FieldErrors }> {
  const store = session.store!;
  const identity = session.identity!;
  const now = session.now();
  const { fields, errors } = formFields(session, form);
  const id = existing?.id ?? newId('D');
  const record: Record<string, unknown> = existing
    ? { ...existing, ...fields, updatedAt: now }
    : { ...fields, id, partnerId: identity.partnerId, repId: identity.repId, createdAt: now, updatedAt: now, ...(lead ? { leadId: lead.id, channel: lead.channel } : {}) };
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  if (Object.keys(errors).length) {
    // Something could not even be read (an amount, a date): show it with every other problem, save nothing.
    const checked = validate('deal', record);
    return { errors: { ...(checked.ok ? {} : errorsByField(checked.problems)), ...errors } };
  }
  const result = existing
    ? await store.updateDeal(existing.id, { ...fields, updatedAt: now }, identity.repId)
    : lead
      ? await store.convertLead(lead.id, record as Omit<Deal, 'channel' | 'leadId' | 'partnerId'>, identity.repId)
      : await store.createDeal(record, identity.repId);
  return result.ok ? { id } : { errors: errorsOf(result) };
}

/** Moves a deal to another stage; won and lost take a close date (default today), lost a reason. */
export async function moveStage(
  session: Session,
  deal: Deal,
  stage: Stage,
  options: { closedOn?: string; lostReason?: LostReason | '' } = {},
): Promise<FieldErrors> {
  const now = session.now();
  const changes: Partial<Deal> = { stage, updatedAt: now, probability: stageProbability(session, stage) };
  if (isOpenStage(stage)) {
    changes.closedAt = undefined;
    changes.lostReason = undefined;
  } else {
    const day = dateInput(options.closedOn ?? '', session.program!.timeZone);
    if (day === null) return { closedAt: 'Close date is not a date.' };
    changes.closedAt = closeInstant(day, now);
    changes.lostReason = stage === 'lost' && options.lostReason ? options.lostReason : undefined;
  }
  return errorsOf(await session.store!.updateDeal(deal.id, changes, session.identity!.repId));
}

export async function deleteDeal(session: Session, deal: Deal): Promise<FieldErrors> {
  return errorsOf(await session.store!.deleteDeal(deal.id, session.now()));
}

export interface StageSpan extends StageChange {
  /** Days spent in this stage (until the next change, or now for the current one; 0 for won/lost). */
  days: number;
}

/** The deal's stage history with the time spent in each stage. */
export function stageHistory(deal: Deal, now: number): StageSpan[] {
  const log = [...(deal.stageLog ?? [])].sort((a, b) => a.at - b.at || (a.by < b.by ? -1 : 1));
  return log.map((change, index) => {
    const next = log[index + 1];
    const end = next ? next.at : isOpenStage(change.stage) ? now : change.at;
    return { ...change, days: Math.max(0, (end - change.at) / DAY_MS) };
  });
}

/** The sales cycle in days: from creation to close, or so far for an open deal. */
export function cycleDays(deal: Deal, now: number): number {
  return ((deal.closedAt ?? now) - deal.createdAt) / DAY_MS;
}
