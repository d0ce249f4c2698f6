/** The KPI screens' periods: presets and a custom range, as day ranges in the program's zone, and what each is compared with. */
import {
  comparedRange,
  formatDay,
  localDayOf,
  parseDay,
  parsePeriod,
  presetRange,
  type DayRange,
  type PeriodPreset,
} from '../kpi/calendar';
import { formatCalendarDay, messageLocale } from '../ui/format';
import { m } from '../paraglide/messages';

export type PeriodChoice = PeriodPreset | 'custom';

export interface PeriodSelection {
  choice: PeriodChoice;
  from: string;
  to: string;
}

/** A period, the one it is compared with, and the day it is read on. */
export interface Comparison {
  range: DayRange;
  /** The previous period; while `range` is under way, only as many of its days as have passed of `range`. */
  previous: DayRange;
  /** Whether `range` is under way (the screens say what is compared with what). */
  running: boolean;
  /** Today in the program's zone: what is overdue is overdue as of today. */
  today: number;
}

/** A period and what it is compared with on the day `now` falls on in `tz`. */
export function comparison(range: DayRange, now: number, tz: string): Comparison {
  const today = localDayOf(tz)(now);
  return { range, ...comparedRange(range, today), today };
}

/**
 * The range chosen and what it is compared with; or why a custom range is wrong, as a sentence in
 * the language of `locale` (an Intl locale, 'hi-IN') naming the days as the person picked them.
 */
export function selectedRanges(
  selection: PeriodSelection,
  now: number,
  tz: string,
  locale = 'en-IN',
): Comparison | { error: string } {
  if (selection.choice !== 'custom') return comparison(presetRange(selection.choice, now, tz), now, tz);
  const options = { locale: messageLocale(locale) };
  const firstDay = parseDay(selection.from);
  const lastDay = parseDay(selection.to);
  if (firstDay === null || lastDay === null) {
    const wrong = [
      firstDay === null ? selection.from : undefined,
      lastDay === null ? selection.to : undefined,
    ].filter((value) => value !== undefined);
    return { error: wrong.map((value) => m.period_not_date({ value }, options)).join(' ') };
  }
  // The days the person picked, not the end of the range made from them (the day after the last).
  if (lastDay < firstDay)
    return {
      error: m.period_end_before_start(
        { from: formatCalendarDay(firstDay, locale), to: formatCalendarDay(lastDay, locale) },
        options,
      ),
    };
  // A person picks the last day they want included; the period ends at the start of the next day.
  const parsed = parsePeriod({ from: selection.from, to: formatDay(lastDay + 1), tz });
  // Only a program time zone that is not one is left: the domain's sentence, for whoever set it up.
  if (!parsed.ok) return { error: parsed.problems.map((problem) => problem.message).join(' ') };
  return comparison(parsed.range, now, tz);
}
