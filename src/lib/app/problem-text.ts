/**
 * Validation problems in the interface's language. The domain says what is wrong with a code (and
 * params) next to its English sentence; here each code has a Paraglide message that names the field
 * by its label in that language. A problem without a code (made from a sentence alone, or copied
 * or stored without it) is shown as its English sentence.
 */
import type { Problem, ProblemCode, ProblemParams } from '../domain/validate';
import { m } from '../paraglide/messages';
import { valueName } from './names';
import type { Locale } from '../paraglide/runtime';

type Options = { locale?: Locale };

/** A code's sentence; undefined when the problem lacks a param the sentence needs. */
type Sentence = (field: string, params: ProblemParams, options: Options) => string | undefined;

/** A sentence naming the field only. */
const plain =
  (say: (inputs: { field: string }, options: Options) => string): Sentence =>
  (field, _params, options) =>
    say({ field }, options);

/** A sentence that also names some of the problem's params. */
function named<N extends string>(
  names: readonly N[],
  say: (field: string, params: Record<N, string | number>, options: Options) => string,
): Sentence {
  return (field, params, options) => {
    const picked: Partial<Record<N, string | number>> = {};
    for (const name of names) {
      const value = params[name];
      if (value === undefined) return undefined;
      picked[name] = value;
    }
    return say(field, picked as Record<N, string | number>, options);
  };
}

const SENTENCES: Record<ProblemCode, Sentence> = {
  required: plain(m.problem_required),
  notText: plain(m.problem_not_text),
  tooLong: named(['max'], (field, { max }, options) => m.problem_too_long({ field, max }, options)),
  idFormat: plain(m.problem_id_format),
  notEmail: plain(m.problem_not_email),
  notPhone: plain(m.problem_not_phone),
  notInstant: plain(m.problem_not_instant),
  tooEarly: named(['year'], (field, { year }, options) => m.problem_too_early({ field, year }, options)),
  tooLate: named(['year'], (field, { year }, options) => m.problem_too_late({ field, year }, options)),
  notNumber: plain(m.problem_not_number),
  notWholeMinor: plain(m.problem_not_whole_minor),
  negative: plain(m.problem_negative),
  tooLarge: plain(m.problem_too_large),
  notWholePercent: plain(m.problem_not_whole_percent),
  percentRange: plain(m.problem_percent_range),
  notCurrency: plain(m.problem_not_currency),
  notTimeZone: plain(m.problem_not_time_zone),
  notOneOf: named(['values'], (field, { values }, options) =>
    m.problem_not_one_of({ field, values }, options),
  ),
  everyStage: plain(m.problem_every_stage),
  notStageLog: plain(m.problem_not_stage_log),
  closedAtIffClosed: plain(m.problem_closed_at_iff_closed),
  closedBeforeCreated: plain(m.problem_closed_before_created),
  lostReasonOnlyLost: plain(m.problem_lost_reason_only_lost),
  notAmount: named(['value'], (_field, { value }, options) => m.problem_not_amount({ value }, options)),
  tooManyDecimals: named(['value', 'max'], (_field, { value, max }, options) =>
    m.problem_too_many_decimals({ value, max }, options),
  ),
  noMinorUnit: named(['value', 'currency'], (_field, { value, currency }, options) =>
    m.problem_no_minor_unit({ value, currency }, options),
  ),
  amountTooLarge: named(['value'], (_field, { value }, options) =>
    m.problem_amount_too_large({ value }, options),
  ),
  notDate: plain(m.problem_not_date),
  inFuture: plain(m.problem_in_future),
  startedAfterClose: plain(m.problem_started_after_close),
  leadConverted: plain(m.problem_lead_converted),
  invalid: plain(m.problem_invalid),
};

/**
 * The problem as a sentence in the current language (or `options.locale`), naming the field by
 * `fieldLabel`, which the caller gives in that same language. Falls back to the English `message`
 * when the problem has no code (or lacks a param its sentence needs).
 */
export function problemText(problem: Problem, fieldLabel: string, options: Options = {}): string {
  if (problem.code === undefined) return problem.message;
  return SENTENCES[problem.code](fieldLabel, localValues(problem, options), options) ?? problem.message;
}

/**
 * The problems of a record kept aside for them (quarantined), as sentences in the current language
 * (or `options.locale`), each naming its field by the form's label; a field no form shows keeps
 * the domain's English sentence.
 */
export function problemsText(problems: readonly Problem[], options: Options = {}): string {
  return problems
    .map((problem) => {
      const label = formFieldLabel(problem.field, options);
      return label === undefined ? problem.message : problemText(problem, label, options);
    })
    .join(' ');
}

/**
 * The problem's params with the values a field may take ("paid, earned, owned, referral") named as
 * the form names them ("Paid, Earned, Owned, Referral", "सशुल्क, अर्जित, …"): a person never sees a code.
 */
function localValues(problem: Problem, options: Options): ProblemParams {
  const params = problem.params ?? {};
  const values = params['values'];
  if (problem.code !== 'notOneOf' || typeof values !== 'string') return params;
  const field = problem.field.split('.')[0] ?? '';
  const named = values.split(', ').map((value) => valueName(field, value, options) ?? value);
  return { ...params, values: named.join(', ') };
}

/** The labels of the lead and deal form fields, by the record field a problem names. */
const FORM_FIELD_LABELS: Record<string, (inputs: Record<string, never>, options: Options) => string> = {
  // Lead form
  company: m.lead_company,
  contactName: m.lead_contact,
  phone: m.lead_phone,
  email: m.lead_email,
  notes: m.lead_notes,
  channel: m.channel,
  // Deal form
  title: m.deal_title,
  amount: m.field_amount,
  stage: m.stage,
  probability: m.probability,
  expectedCloseAt: m.expected_close,
  closedAt: m.close_date,
  lostReason: m.lost_reason,
  // The day a new deal began (Log a deal): the form's field, not the record's createdAt.
  startedOn: m.deal_started_on,
};

/**
 * The label of a form field in the current language (or `options.locale`), from the field of a
 * problem (`amount`, or a dotted path such as `stageLog.0.at`: its first part counts); undefined for
 * a field no form shows.
 */
export function formFieldLabel(field: string, options: Options = {}): string | undefined {
  const name = field.split('.')[0] ?? '';
  return Object.hasOwn(FORM_FIELD_LABELS, name) ? FORM_FIELD_LABELS[name]?.({}, options) : undefined;
}

/** Problems about a record as a whole whose sentence names no field: said in the interface's language all the same. */
const WHOLE_RECORD_CODES: ReadonlySet<ProblemCode> = new Set(['leadConverted']);

/** The sentence of a problem of the record as a whole (field ''), or undefined when it has none but its English one. */
export function wholeRecordText(problem: Problem, options: Options = {}): string | undefined {
  return problem.field === '' && problem.code !== undefined && WHOLE_RECORD_CODES.has(problem.code)
    ? problemText(problem, '', options)
    : undefined;
}
