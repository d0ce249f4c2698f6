/**
 * Quarterly targets: which quarter an instant is in, the form a vendor manager fills in, and how a
 * partner stands against its target — revenue and deals won so far, and the pipeline coverage of
 * what is left. Pure: no Svelte, no Yjs, no clock (`now` is a parameter).
 */
import { minorDigits, parseMajor, readAmount, readNumber } from '../domain/money';
import { addMonths, DAY_MS, localDayOf, monthStart, type DayRange } from '../kpi/calendar';
import { QUARTER_PATTERN, type TargetEntry } from '../domain/schema';
import type { Rollup } from '../kpi/bucket-types';
import { computeKpis } from '../kpi/kpis';

/** A calendar quarter in the program's zone: its key in the program document (`2026-Q4`) and its days. */
export interface Quarter {
  key: string;
  range: DayRange;
}

/** The quarter holding a day number. */
export function quarterOfDay(day: number): Quarter {
  const month = monthStart(day);
  const date = new Date(month * DAY_MS);
  const monthOfYear = date.getUTCMonth();
  const fromDay = addMonths(month, -(monthOfYear % 3));
  return {
    key: `${date.getUTCFullYear()}-Q${Math.floor(monthOfYear / 3) + 1}`,
    range: { fromDay, toDay: addMonths(fromDay, 3) },
  };
}

/** The quarter `now` is in, in the program's zone `tz`. */
export function quarterOf(now: number, tz: string): Quarter {
  return quarterOfDay(localDayOf(tz)(now));
}

/** The quarter of a key (`2026-Q4`), or undefined when it is not one. */
export function parseQuarter(key: string): Quarter | undefined {
  const match = QUARTER_PATTERN.exec(key);
  if (!match) return undefined;
  const fromDay = Date.UTC(Number(match[1]), (Number(match[2]) - 1) * 3, 1) / DAY_MS;
  return { key, range: { fromDay, toDay: addMonths(fromDay, 3) } };
}

/**
 * The quarters a target can be set for: the current one and the next three. Targets are plans, so
 * a past quarter is not offered (its figures are final; a target set afterwards would say nothing).
 */
export function targetQuarters(now: number, tz: string, count = 4): Quarter[] {
  const quarters = [quarterOf(now, tz)];
  while (quarters.length < count) quarters.push(quarterOfDay(quarters.at(-1)!.range.toDay));
  return quarters;
}

/** A partner's target for a quarter, if one is set. */
export function targetFor(
  targets: readonly TargetEntry[],
  partnerId: string,
  quarter: string,
): TargetEntry | undefined {
  return targets.find((target) => target.partnerId === partnerId && target.quarter === quarter);
}

// ---------------------------------------------------------------------------------------------
// The form

export interface TargetForm {
  quarter: string;
  /** Revenue in major units, as typed (`5000000`, `12500.50`); empty: no revenue target. */
  revenue: string;
  /** Deals to win, as typed; empty: no deals target. */
  deals: string;
}

/** What is wrong with a field of the form; the screens turn it into a sentence. */
export type TargetFieldProblem =
  | { code: 'required' }
  | { code: 'notQuarter' }
  | { code: 'notAmount'; value: string }
  | { code: 'tooManyDecimals'; value: string; max: number }
  | { code: 'noMinorUnit'; value: string; currency: string }
  | { code: 'tooLarge'; value: string }
  | { code: 'notWholeNumber'; value: string }
  | { code: 'negative' }
  /** Neither revenue nor deals above 0: a target of nothing (shown under revenue). */
  | { code: 'noTarget' };

export type TargetFormProblems = Partial<Record<keyof TargetForm, TargetFieldProblem>>;

/** The largest deal target accepted: more than any partner could win in a quarter, and a typo beyond. */
export const MAX_DEAL_TARGET = 100_000;

export function targetToForm(
  target: Pick<TargetEntry, 'quarter' | 'revenue' | 'deals'>,
  currency: string,
): TargetForm {
  const digits = minorDigits(currency);
  const major = (target.revenue / 10 ** digits).toFixed(digits);
  // Whole amounts are shown without ".00": targets are round numbers. A part that is 0 is no target: empty.
  const revenue = target.revenue === 0 ? '' : /\.0+$/.test(major) ? major.replace(/\.0+$/, '') : major;
  return { quarter: target.quarter, revenue, deals: target.deals === 0 ? '' : String(target.deals) };
}

/** A number with a minus sign: said as negative, not as "not an amount". */
const NEGATIVE = /^-\s*\d+(?:\.\d*)?$/;

function revenueOf(typed: string, currency: string): number | TargetFieldProblem {
  // As the screens show amounts: ₹5,00,000, 500,000, ₹4.2 L, Devanagari digits (domain/money.ts).
  const value = readAmount(typed, currency);
  // Empty: no revenue target (a target of deals alone); the form refuses a target of neither.
  if (value === '') return 0;
  if (NEGATIVE.test(value.replace(/,/g, ''))) return { code: 'negative' };
  const parsed = parseMajor(value, currency);
  if (typeof parsed === 'number') return parsed;
  const decimals = /^\d+(?:\.(\d+))?$/.exec(value);
  if (!decimals) return { code: 'notAmount', value: typed.trim() };
  const allowed = Math.min(2, minorDigits(currency));
  if ((decimals[1] ?? '').length > allowed)
    return allowed === 0
      ? { code: 'noMinorUnit', value: typed.trim(), currency }
      : { code: 'tooManyDecimals', value: typed.trim(), max: allowed };
  return { code: 'tooLarge', value: typed.trim() };
}

function dealsOf(typed: string): number | TargetFieldProblem {
  const value = readNumber(typed);
  // Empty: no deals target (a target of revenue alone).
  if (value === '') return 0;
  if (NEGATIVE.test(value.replace(/,/g, ''))) return { code: 'negative' };
  if (!/^\d+$/.test(value)) return { code: 'notWholeNumber', value: typed.trim() };
  const deals = Number(value);
  return deals > MAX_DEAL_TARGET ? { code: 'tooLarge', value: typed.trim() } : deals;
}

/**
 * The target a form describes (revenue in minor units), or every problem with it, by field. A
 * target is revenue to win, deals to win, or both: an empty field (or 0) is no target for that
 * part, and a target of neither — ₹0 and 0 deals, which every partner "reaches" on the first
 * day — is refused.
 */
export function parseTargetForm(
  form: TargetForm,
  currency: string,
):
  | { ok: true; quarter: string; revenue: number; deals: number }
  | { ok: false; problems: TargetFormProblems } {
  const problems: TargetFormProblems = {};
  if (!parseQuarter(form.quarter))
    problems.quarter = form.quarter === '' ? { code: 'required' } : { code: 'notQuarter' };
  const revenue = revenueOf(form.revenue, currency);
  if (typeof revenue !== 'number') problems.revenue = revenue;
  const deals = dealsOf(form.deals);
  if (typeof deals !== 'number') problems.deals = deals;
  if (revenue === 0 && deals === 0) problems.revenue = { code: 'noTarget' };
  if (typeof revenue !== 'number' || typeof deals !== 'number' || Object.keys(problems).length)
    return { ok: false, problems };
  return { ok: true, quarter: form.quarter, revenue, deals };
}

// ---------------------------------------------------------------------------------------------
// Progress and coverage

export interface TargetProgressInput {
  target: Pick<TargetEntry, 'revenue' | 'deals'>;
  /** Revenue won so far in the quarter (minor units). */
  revenueWon: number;
  dealsWon: number;
  /** The partner's open pipeline now (minor units, unweighted). */
  openPipeline: number;
}

export interface TargetProgress {
  /** Share of the revenue target won so far (may exceed 1); null for a target of 0. */
  revenueShare: number | null;
  dealsShare: number | null;
  /** Revenue still to win this quarter (minor units); 0 once the target is reached. */
  remaining: number;
  /** Open pipeline ÷ remaining target; null once the target is reached (nothing left to cover). */
  coverage: number | null;
  reached: boolean;
}

/**
 * Pipeline coverage = open pipeline ÷ the revenue target still to win this quarter: how many times
 * over the open deals could fill what is left. Below 1 the target cannot be met even if every open
 * deal is won.
 */
export function pipelineCoverage(openPipeline: number, remaining: number): number | null {
  if (!(remaining > 0)) return null;
  const coverage = openPipeline / remaining;
  return Number.isFinite(coverage) ? coverage : null;
}

/**
 * A revenue target is reached once its revenue is won; a target of deals alone (no revenue
 * target) once its deals are won; a target of neither (older data: the form refuses it) never.
 */
export function targetProgress({
  target,
  revenueWon,
  dealsWon,
  openPipeline,
}: TargetProgressInput): TargetProgress {
  const remaining = Math.max(0, target.revenue - revenueWon);
  return {
    revenueShare: target.revenue > 0 ? revenueWon / target.revenue : null,
    dealsShare: target.deals > 0 ? dealsWon / target.deals : null,
    remaining,
    coverage: pipelineCoverage(openPipeline, remaining),
    reached: target.revenue > 0 ? remaining === 0 : target.deals > 0 && dealsWon >= target.deals,
  };
}

/** A partner's quarter so far: revenue and deals won, and the open pipeline now (for targets and coverage). */
export interface QuarterFigures {
  quarter: string;
  revenueWon: number;
  dealsWon: number;
  openPipeline: number;
}

export function quarterFigures(rollup: Rollup, partnerId: string, now: number, tz: string): QuarterFigures {
  const quarter = quarterOf(now, tz);
  const figures = computeKpis(rollup, { range: quarter.range, scope: { kind: 'partner', id: partnerId } });
  // The pipeline of a period ending at the quarter's end: every deal open now (created before then).
  return {
    quarter: quarter.key,
    revenueWon: figures.revenue,
    dealsWon: figures.dealCount,
    openPipeline: figures.pipeline.value,
  };
}
