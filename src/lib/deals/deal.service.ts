/** What the deal screens do: build a deal from the form, save it, move it through the stages. */
import type { ReadySession } from '../app/session';
import { DAY_MS, localDayOf, startOfLocalDay } from '../kpi/calendar';
import {
  isOpenStage,
  type Channel,
  type Deal,
  type Lead,
  type LostReason,
  type Stage,
  type StageChange,
} from '../domain/schema';
import { parseMajor, minorDigits, readAmount, readNumber } from '../domain/money';
import { dealIdFromLead, newId } from '../app/ids';
import { dateInput, errorsByField, errorsOf, toDateInput, type FieldErrors } from '../app/forms';
import { problem, validate, type Problem } from '../domain/validate';

export interface DealForm {
  title: string;
  amount: string;
  channel: Channel | '';
  stage: Stage;
  probability: string;
  expectedClose: string;
  closedOn: string;
  lostReason: LostReason | '';
  /**
   * The day a new deal started (Log a deal only; an edit leaves when a deal began alone). '' is the
   * default: today, or the close date of a deal logged as already won or lost when that is earlier.
   */
  startedOn: string;
}

export function emptyDealForm(session: ReadySession, lead?: Lead): DealForm {
  return {
    title: lead ? lead.company : '',
    amount: '',
    channel: lead?.channel ?? '',
    stage: 'prospecting',
    probability: String(session.program.stageProbabilities.prospecting),
    expectedClose: '',
    closedOn: '',
    lostReason: '',
    startedOn: '',
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
    startedOn: '',
  };
}

/**
 * The day Log a deal shows as the start when the rep has not said (`today` and the dates as in date
 * inputs): today, or the close date of a deal logged as won or lost when that is earlier.
 */
export function defaultStartedOn(form: Pick<DealForm, 'stage' | 'closedOn'>, today: string): string {
  return !isOpenStage(form.stage) && form.closedOn !== '' && form.closedOn < today ? form.closedOn : today;
}

/** Today as a date input's value, in the program's zone. */
export function todayInput(session: ReadySession): string {
  return toDateInput(session.now(), session.program.timeZone);
}

/** The default probability of a stage in this program (a rep may override it while the deal is open). */
export function stageProbability(session: ReadySession, stage: Stage): number {
  return session.program.stageProbabilities[stage];
}

/** A lead converts once: a second deal from it would count one sale twice in the pipeline. */
const LEAD_CONVERTED = problem('', 'This lead has already been converted into a deal.', 'leadConverted');

/** A deal marked lost in a form says why (the domain allows none: files and older data may lack it). */
const LOST_REASON_REQUIRED = problem('lostReason', 'Lost reason is required.', 'required');

/** The first instant of the program's today: a close or start date after it is in the future. */
function startOfToday(now: number, tz: string): number {
  return startOfLocalDay(localDayOf(tz)(now), tz);
}

/** A close date after today is refused: a win that has not happened yet is not logged as won. */
const closedInFuture = () => problem('closedAt', 'Close date cannot be in the future.', 'inFuture');

/**
 * The close instant for a close date (never after today: refused before): noon of that day, or now
 * when that is earlier, so that a deal marked won today is never closed in the future; and never
 * before the deal's creation on the day it was created (closed the day it began: a cycle of zero,
 * not of minus a few hours). A close date before the creation day stays before it, for validation
 * to refuse.
 */
function closeInstant(day: number | undefined, now: number, createdAt?: number): number {
  if (day === undefined) return now;
  const instant = Math.min(now, day + DAY_MS / 2);
  return createdAt !== undefined && createdAt >= day && createdAt < day + DAY_MS
    ? Math.max(instant, createdAt)
    : instant;
}

/**
 * The amount typed in the form, in minor units, or the problem with it. The English sentence is
 * parseMajor's; the code says which of its reasons it was, for the interface's own sentence.
 */
function amountOf(typed: string, currency: string): number | Problem {
  if (typed.trim() === '') return problem('amount', 'Amount is required.', 'required');
  const value = readAmount(typed, currency);
  const parsed = parseMajor(value, currency);
  if (typeof parsed === 'number') return parsed;
  const message = parsed.endsWith('.') ? parsed : `${parsed}.`;
  // The same reasons, in the same order, as parseMajor.
  const decimals = /^\d+(?:\.(\d+))?$/.exec(value.trim());
  if (!decimals) return problem('amount', message, 'notAmount', { value });
  const allowed = Math.min(2, minorDigits(currency));
  if ((decimals[1] ?? '').length > allowed) {
    return allowed === 0
      ? problem('amount', message, 'noMinorUnit', { value, currency })
      : problem('amount', message, 'tooManyDecimals', { value, max: allowed });
  }
  return problem('amount', message, 'amountTooLarge', { value });
}

/** Domain fields from the form; conversion problems (amount, dates), at most one per field. */
function formFields(
  session: ReadySession,
  form: DealForm,
  createdAt?: number,
): { fields: Partial<Deal>; problems: Problem[] } {
  const program = session.program;
  const tz = program.timeZone;
  const problems: Problem[] = [];
  const fields: Partial<Deal> = { title: form.title, stage: form.stage, currency: program.currency };
  if (form.channel) fields.channel = form.channel;
  const amount = amountOf(form.amount, program.currency);
  if (typeof amount === 'number') fields.amount = amount;
  else problems.push(amount);
  const probability = Number(readNumber(form.probability, { percent: true }));
  if (isOpenStage(form.stage)) {
    if (form.probability.trim() === '' || !Number.isInteger(probability)) {
      problems.push(problem('probability', 'Probability must be a whole percentage.', 'notWholePercent'));
    } else fields.probability = probability;
  } else {
    fields.probability = stageProbability(session, form.stage);
  }
  const expected = dateInput(form.expectedClose, tz);
  if (expected === null)
    problems.push(problem('expectedCloseAt', 'Expected close is not a date.', 'notDate'));
  else fields.expectedCloseAt = expected;
  if (isOpenStage(form.stage)) {
    fields.closedAt = undefined;
    fields.lostReason = undefined;
  } else {
    const closedDay = dateInput(form.closedOn, tz);
    if (closedDay === null) problems.push(problem('closedAt', 'Close date is not a date.', 'notDate'));
    else if (closedDay !== undefined && closedDay > startOfToday(session.now(), tz))
      problems.push(closedInFuture());
    else fields.closedAt = closeInstant(closedDay, session.now(), createdAt);
    fields.lostReason = form.stage === 'lost' && form.lostReason ? form.lostReason : undefined;
    if (form.stage === 'lost' && !form.lostReason) problems.push(LOST_REASON_REQUIRED);
  }
  return { fields, problems };
}

/** The deal fields each form field sets; a stage sets its whole stage group (sync SPEC.md S4). */
const DEAL_FIELDS_OF: Record<keyof DealForm, (keyof Deal)[]> = {
  title: ['title'],
  amount: ['amount'],
  channel: ['channel'],
  stage: ['stage', 'probability', 'closedAt', 'lostReason'],
  probability: ['probability'],
  expectedClose: ['expectedCloseAt'],
  closedOn: ['closedAt'],
  lostReason: ['lostReason'],
  // Only a new deal takes a start: an edit never moves when a deal began.
  startedOn: [],
};

/**
 * When a new deal began, from the form's "Deal started on" (undefined: the default, worked out
 * once the close instant is known), or the problem with it. A start today is now (as before the
 * field existed); an earlier day is its noon, as a close date is (closeInstant), so that a deal
 * started and closed on one past day has a cycle of zero.
 */
function startInstant(form: DealForm, now: number, tz: string): number | undefined | Problem {
  const day = dateInput(form.startedOn, tz);
  if (day === undefined) return undefined;
  if (day === null) return problem('startedOn', 'Deal started on is not a date.', 'notDate');
  const today = startOfToday(now, tz);
  if (day > today) return problem('startedOn', 'Deal started on cannot be in the future.', 'inFuture');
  if (!isOpenStage(form.stage)) {
    const closedDay = dateInput(form.closedOn, tz);
    if (typeof closedDay === 'number' && day > closedDay)
      return problem('startedOn', 'Deal started on cannot be after the close date.', 'startedAfterClose');
  }
  return day === today ? now : day + DAY_MS / 2;
}

/**
 * Saves a new deal (from a lead when given: it takes the lead's channel), or the changes to one:
 * only the fields of the `touched` form fields when given (the others may have been changed
 * meanwhile by another device).
 */
export async function saveDeal(
  session: ReadySession,
  form: DealForm,
  existing?: Deal,
  lead?: Lead,
  touched?: ReadonlySet<keyof DealForm>,
): Promise<{ id: string } | { errors: FieldErrors }> {
  const store = session.store;
  const identity = session.identity;
  // A lead converts once (the store refuses it too, for a conversion this device has not projected yet).
  if (lead && !existing && lead.status === 'converted') return { errors: errorsByField([LEAD_CONVERTED]) };
  const now = session.now();
  const started = existing ? undefined : startInstant(form, now, session.program.timeZone);
  const startedAt = typeof started === 'number' ? started : undefined;
  const { fields: formValues, problems } = formFields(session, form, existing?.createdAt ?? startedAt);
  if (typeof started === 'object') problems.push(started);
  const fields: Partial<Deal> = formValues;
  if (existing && touched) {
    const kept = new Set([...touched].flatMap((key) => DEAL_FIELDS_OF[key]));
    for (const key of Object.keys(fields) as (keyof Deal)[]) if (!kept.has(key)) delete fields[key];
  }
  const id = existing?.id ?? (lead ? dealIdFromLead(lead.id) : newId('D'));
  const record: Record<string, unknown> = existing
    ? { ...existing, ...fields, updatedAt: now }
    : {
        ...fields,
        id,
        partnerId: identity.partnerId,
        repId: identity.repId,
        // The day the rep said it started; by default, a deal logged as already won or lost (last
        // week's win, logged today) began no later than it closed.
        createdAt: startedAt ?? Math.min(now, fields.closedAt ?? now),
        updatedAt: now,
        ...(lead ? { leadId: lead.id, channel: lead.channel } : {}),
      };
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  if (problems.length) {
    // Something could not even be read (an amount, a date): show it with every other problem, save nothing.
    // Where both speak of one field, the form's problem (what was typed) replaces the record's.
    const checked = validate('deal', record);
    return { errors: { ...(checked.ok ? {} : errorsByField(checked.problems)), ...errorsByField(problems) } };
  }
  const result = existing
    ? await store.updateDeal(existing.id, { ...fields, updatedAt: now }, identity.repId)
    : lead
      ? await store.convertLead(
          lead.id,
          record as Omit<Deal, 'channel' | 'leadId' | 'partnerId'>,
          identity.repId,
          newId('D'),
        )
      : await store.createDeal(record, identity.repId);
  return result.ok ? { id: result.value.id } : { errors: errorsOf(result) };
}

/** Moves a deal to another stage; won and lost take a close date (default today), lost a reason. */
export async function moveStage(
  session: ReadySession,
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
    const tz = session.program.timeZone;
    const day = dateInput(options.closedOn ?? '', tz);
    if (day === null) return errorsByField([problem('closedAt', 'Close date is not a date.', 'notDate')]);
    if (day !== undefined && day > startOfToday(now, tz)) return errorsByField([closedInFuture()]);
    changes.closedAt = closeInstant(day, now, deal.createdAt);
    changes.lostReason = stage === 'lost' && options.lostReason ? options.lostReason : undefined;
    // Why deals are lost is what a channel manager acts on: a form never marks one lost without it.
    if (stage === 'lost' && !options.lostReason) return errorsByField([LOST_REASON_REQUIRED]);
  }
  return errorsOf(await session.store.updateDeal(deal.id, changes, session.identity.repId));
}

export async function deleteDeal(session: ReadySession, deal: Deal): Promise<FieldErrors> {
  return errorsOf(await session.store.deleteDeal(deal.id, session.now()));
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
