/** The KPI screens' periods: presets and a custom range, as day ranges in the program's zone, and what each is compared with. */
import { comparedRange, formatDay, localDayOf, parseDay, parsePeriod, presetRange, type DayRange, type PeriodPreset } from '../kpi/calendar';

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

/** The range chosen and what it is compared with; or why a custom range is wrong. */
export function selectedRanges(selection: PeriodSelection, now: number, tz: string): Comparison | { error: string } {
  if (selection.choice !== 'custom') return comparison(presetRange(selection.choice, now, tz), now, tz);
  // A person picks the last day they want included; the period ends at the start of the next day.
  const lastDay = parseDay(selection.to);
  const to = lastDay === null ? selection.to : formatDay(lastDay + 1);
  const parsed = parsePeriod({ from: selection.from, to, tz });
  if (!parsed.ok) return { error: parsed.problems.map((problem) => problem.message).join(' ') };
  return comparison(parsed.range, now, tz);
}
