/** The KPI screen's period picker: presets and a custom range, as day ranges in the program's zone. */
import { formatDay, parseDay, parsePeriod, presetRange, previousRange, type DayRange, type PeriodPreset } from '../kpi/calendar';

export type PeriodChoice = PeriodPreset | 'custom';

export interface PeriodSelection {
  choice: PeriodChoice;
  from: string;
  to: string;
}

/** The range chosen, and the previous period of the same length; or why a custom range is wrong. */
export function selectedRanges(selection: PeriodSelection, now: number, tz: string): { range: DayRange; previous: DayRange } | { error: string } {
  if (selection.choice !== 'custom') {
    const range = presetRange(selection.choice, now, tz);
    return { range, previous: previousRange(range) };
  }
  // A person picks the last day they want included; the period ends at the start of the next day.
  const lastDay = parseDay(selection.to);
  const to = lastDay === null ? selection.to : formatDay(lastDay + 1);
  const parsed = parsePeriod({ from: selection.from, to, tz });
  if (!parsed.ok) return { error: parsed.problems.map((problem) => problem.message).join(' ') };
  return { range: parsed.range, previous: previousRange(parsed.range) };
}
