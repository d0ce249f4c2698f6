/** The KPI screen's period picker: presets and a custom range, as day ranges in the program's zone. */
import { formatDay, parseDay, parsePeriod, presetRange, previousRange, type DayRange, type PeriodPreset } from '../kpi/calendar';
import { formatCalendarDay, messageLocale } from '../ui/format';
import { m } from '../paraglide/messages';

export type PeriodChoice = PeriodPreset | 'custom';

export interface PeriodSelection {
  choice: PeriodChoice;
  from: string;
  to: string;
}

/**
 * The range chosen, and the previous period of the same length; or why a custom range is wrong, as
 * a sentence in the language of `locale` (an Intl locale, 'hi-IN') naming the days as the person
 * picked them.
 */
export function selectedRanges(selection: PeriodSelection, now: number, tz: string, locale = 'en-IN'): { range: DayRange; previous: DayRange } | { error: string } {
  if (selection.choice !== 'custom') {
    const range = presetRange(selection.choice, now, tz);
    return { range, previous: previousRange(range) };
  }
  const options = { locale: messageLocale(locale) };
  const firstDay = parseDay(selection.from);
  const lastDay = parseDay(selection.to);
  if (firstDay === null || lastDay === null) {
    const wrong = [firstDay === null ? selection.from : undefined, lastDay === null ? selection.to : undefined].filter((value) => value !== undefined);
    return { error: wrong.map((value) => m.period_not_date({ value }, options)).join(' ') };
  }
  // The days the person picked, not the end of the range made from them (the day after the last).
  if (lastDay < firstDay) return { error: m.period_end_before_start({ from: formatCalendarDay(firstDay, locale), to: formatCalendarDay(lastDay, locale) }, options) };
  // A person picks the last day they want included; the period ends at the start of the next day.
  const parsed = parsePeriod({ from: selection.from, to: formatDay(lastDay + 1), tz });
  // Only a program time zone that is not one is left: the domain's sentence, for whoever set it up.
  if (!parsed.ok) return { error: parsed.problems.map((problem) => problem.message).join(' ') };
  return { range: parsed.range, previous: previousRange(parsed.range) };
}
