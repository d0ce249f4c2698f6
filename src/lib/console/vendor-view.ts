/**
 * The vendor console's figures as text in the interface's language: how fresh a partner's figures
 * are, why a partner needs attention, a target form's problems (a quarter's name and a coverage
 * ratio are in target-view.ts, which a partner's Today screen loads without the rest). The numbers come
 * from the pure modules beside this one; only the wording lives here.
 */
import { formatMoneyShort, formatNumber, formatPercent } from '../ui/format';
import { m } from '../paraglide/messages';
import type { AttentionReason } from './attention';
import { STALE_AFTER_MS, type Freshness } from './freshness';
import type { TargetFieldProblem } from './targets';
import { formatCoverage, quarterName } from './target-view';
import { DAY_MS, type DayRange } from '../kpi/calendar';

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

/** "2 hours ago", "3 days ago" (or "२ घंटे पहले"), "just now", or that the partner never synced. */
export function freshnessText(freshness: Freshness, locale: string): string {
  if (freshness.lastSyncAt === undefined) return m.freshness_never();
  if (freshness.unit === 'minute' && freshness.amount === 0) return m.freshness_just_now();
  let format = relativeFormats.get(locale);
  if (!format)
    relativeFormats.set(locale, (format = new Intl.RelativeTimeFormat(locale, { numeric: 'always' })));
  return format.format(-freshness.amount, freshness.unit);
}

/** The number of days after which figures are stale, for the screens' explanation. */
export const STALE_AFTER_DAYS = Math.round(STALE_AFTER_MS / 86_400_000);

/** Whole months as a person reads them: "Oct – Dec 2026" (a range from its first day up to, not including, its end). */
export function monthSpanText(range: DayRange, locale: string): string {
  const format = new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return format.formatRange(range.fromDay * DAY_MS, (range.toDay - 1) * DAY_MS);
}

/** Why a partner needs attention, as one sentence with its figures. */
export function attentionText(reason: AttentionReason, currency: string, locale: string): string {
  const v = reason.values;
  const num = (key: string) => Number(v[key]);
  const percent = (key: string) => formatPercent(num(key), locale);
  const money = (key: string) => formatMoneyShort(num(key), currency, locale);
  switch (reason.kind) {
    case 'noFigures':
      return m.attention_no_figures();
    case 'noRecentSync':
      return m.attention_no_recent_sync({ days: formatNumber(num('days'), locale, 0) });
    case 'pipelineBelowTarget':
      return m.attention_pipeline_below_target({
        coverage: formatCoverage(num('coverage'), locale),
        required: formatCoverage(num('required'), locale),
        pipeline: money('pipeline'),
        remaining: money('remaining'),
        quarter: quarterName(String(v['quarter'])),
      });
    case 'dealSuccessLow':
      return m.attention_deal_success_low({ dealSuccess: percent('dealSuccess'), median: percent('median') });
    case 'winRateFell':
      return m.attention_win_rate_fell({ from: percent('from'), to: percent('to') });
    case 'closeRateFell':
      return m.attention_close_rate_fell({ from: percent('from'), to: percent('to') });
  }
}

/** A target form field's problem as a sentence naming the field by `label`. */
export function targetProblemText(problem: TargetFieldProblem, label: string): string {
  switch (problem.code) {
    case 'required':
      return m.problem_required({ field: label });
    case 'notQuarter':
      return m.target_problem_quarter({ field: label });
    case 'notAmount':
      return m.problem_not_amount({ value: problem.value });
    case 'tooManyDecimals':
      return m.problem_too_many_decimals({ value: problem.value, max: problem.max });
    case 'noMinorUnit':
      return m.problem_no_minor_unit({ value: problem.value, currency: problem.currency });
    case 'tooLarge':
      return m.problem_amount_too_large({ value: problem.value });
    case 'notWholeNumber':
      return m.target_problem_whole({ field: label });
    case 'negative':
      return m.problem_negative({ field: label });
    case 'noTarget':
      return m.target_problem_nothing();
  }
}
