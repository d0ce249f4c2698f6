/**
 * Calendar days in a time zone, as integers.
 *
 * A day number counts calendar days since 1970-01-01 (the same count whatever the zone), so a
 * period [from, to) of calendar dates in a zone becomes [fromDay, toDay), and an instant is in the
 * period exactly when its local day number is: the period starts at the first instant of `from`'s
 * local date (00:00, or the end of a daylight-saving gap that swallows midnight).
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import { isTimeZone } from '../domain/schema';

export const DAY_MS = 86_400_000;
/** Time-zone offsets only change on quarter-hour boundaries, so one offset per UTC quarter-hour is exact. */
const OFFSET_SLOT_MS = 900_000;

export interface Period {
  /** First calendar date, YYYY-MM-DD, inclusive. */
  from: string;
  /** Calendar date YYYY-MM-DD at whose start the period ends (exclusive). */
  to: string;
  /** IANA time zone in which the dates are read. */
  tz: string;
}

export interface DayRange {
  fromDay: number;
  toDay: number;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a calendar date, or null when the text is not a real date (2026-02-30). */
export function parseDay(date: string): number | null {
  const match = DATE_PATTERN.exec(date);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utc = Date.UTC(year, month - 1, day);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day)
    return null;
  return utc / DAY_MS;
}

export function formatDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** YYYY-MM of a day number. */
export function monthOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 7);
}

/** Day number of the first day of the month after the one holding `day`. */
export function nextMonthStart(day: number): number {
  return addMonths(day, 1);
}

export function monthStart(day: number): number {
  return addMonths(day, 0);
}

/**
 * A function from an instant to its local day number in `tz`. It remembers the offset of each
 * quarter-hour it has seen, because asking Intl for every one of a million records is slow.
 */
export function localDayOf(tz: string): (instant: number) => number {
  const offsets = new Map<number, number>();
  return (instant) => {
    const slot = Math.floor(instant / OFFSET_SLOT_MS);
    let offsetMs = offsets.get(slot);
    if (offsetMs === undefined) {
      offsetMs = tzOffset(tz, new Date(slot * OFFSET_SLOT_MS)) * 60_000;
      offsets.set(slot, offsetMs);
    }
    return Math.floor((instant + offsetMs) / DAY_MS);
  };
}

/** The first instant of a local calendar day in `tz`. */
export function startOfLocalDay(day: number, tz: string): number {
  const date = new Date(day * DAY_MS);
  return new TZDate(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), tz).getTime();
}

/** The offset of `tz` at `instant`, in minutes east of UTC. */
export function offsetMinutes(tz: string, instant: number): number {
  return tzOffset(tz, new Date(instant));
}

export type PeriodProblem = { field: 'from' | 'to' | 'tz'; message: string };

/** Checks a period given as text and turns it into day numbers, or lists what is wrong with it. */
export function parsePeriod(
  period: Period,
): { ok: true; range: DayRange } | { ok: false; problems: PeriodProblem[] } {
  const problems: PeriodProblem[] = [];
  const fromDay = parseDay(period.from);
  const toDay = parseDay(period.to);
  if (fromDay === null)
    problems.push({ field: 'from', message: `"${period.from}" is not a calendar date (YYYY-MM-DD).` });
  if (toDay === null)
    problems.push({ field: 'to', message: `"${period.to}" is not a calendar date (YYYY-MM-DD).` });
  if (!isTimeZone(period.tz))
    problems.push({ field: 'tz', message: `"${period.tz}" is not an IANA time zone (e.g. Asia/Kolkata).` });
  if (fromDay !== null && toDay !== null && toDay <= fromDay) {
    problems.push({
      field: 'to',
      message: `The period must end after it starts (${period.from} to ${period.to}).`,
    });
  }
  if (problems.length > 0 || fromDay === null || toDay === null) return { ok: false, problems };
  return { ok: true, range: { fromDay, toDay } };
}

/** Whether a range starts and ends on the first day of a month (whole calendar months). */
export function isWholeMonths(range: DayRange): boolean {
  return monthStart(range.fromDay) === range.fromDay && monthStart(range.toDay) === range.toDay;
}

/** The whole calendar months that cover a range. */
export function coveringMonths(range: DayRange): DayRange {
  return {
    fromDay: monthStart(range.fromDay),
    toDay: monthStart(range.toDay) === range.toDay ? range.toDay : nextMonthStart(range.toDay),
  };
}

/**
 * The previous period, ending where `range` starts: as many whole months before it when `range`
 * is whole months (December against November, a quarter against the one before), otherwise the
 * same number of days.
 */
export function previousRange(range: DayRange): DayRange {
  if (isWholeMonths(range)) {
    const from = new Date(range.fromDay * DAY_MS);
    const to = new Date(range.toDay * DAY_MS);
    const months = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + to.getUTCMonth() - from.getUTCMonth();
    return { fromDay: addMonths(range.fromDay, -months), toDay: range.fromDay };
  }
  const length = range.toDay - range.fromDay;
  return { fromDay: range.fromDay - length, toDay: range.fromDay };
}

/**
 * What a period is compared with on `today`: while it is under way (today falls in it before its
 * last day), only the part of the previous period that has passed of it, since the days still to
 * come have nothing yet — for whole months the same days of the month (1–6 December against 1–6
 * November, 1 October–6 December against 1 July–6 September; to a month's end when it is shorter:
 * 1–31 March against all of February), otherwise as many days. When it is not under way, the whole
 * previous period (`previousRange`).
 */
export function comparedRange(range: DayRange, today: number): { previous: DayRange; running: boolean } {
  const previous = previousRange(range);
  const running = range.fromDay <= today && today + 1 < range.toDay;
  if (!running) return { previous, running };
  if (!isWholeMonths(range))
    return {
      previous: { fromDay: previous.fromDay, toDay: previous.fromDay + (today + 1 - range.fromDay) },
      running,
    };
  const month = monthStart(today);
  const from = new Date(range.fromDay * DAY_MS);
  const at = new Date(month * DAY_MS);
  const monthsIn = (at.getUTCFullYear() - from.getUTCFullYear()) * 12 + at.getUTCMonth() - from.getUTCMonth();
  const sameMonth = addMonths(previous.fromDay, monthsIn);
  return {
    previous: {
      fromDay: previous.fromDay,
      toDay: Math.min(sameMonth + (today - month) + 1, nextMonthStart(sameMonth)),
    },
    running,
  };
}

/** The periods a person picks most often, relative to today in the program's time zone. */
export const PERIOD_PRESETS = ['thisMonth', 'lastMonth', 'thisQuarter', 'last12Months'] as const;
export type PeriodPreset = (typeof PERIOD_PRESETS)[number];

/** Day number of the first day of the month `months` months after the one holding `day`. */
export function addMonths(day: number, months: number): number {
  const date = new Date(day * DAY_MS);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1) / DAY_MS;
}

/**
 * The range of a preset at instant `now` in `tz`: whole calendar months, the current one included
 * (so "this month" runs to the end of the month, and "last 12 months" is the 11 before it and it).
 */
export function presetRange(preset: PeriodPreset, now: number, tz: string): DayRange {
  const today = localDayOf(tz)(now);
  const month = monthStart(today);
  switch (preset) {
    case 'thisMonth':
      return { fromDay: month, toDay: addMonths(month, 1) };
    case 'lastMonth':
      return { fromDay: addMonths(month, -1), toDay: month };
    case 'thisQuarter': {
      const monthOfYear = new Date(month * DAY_MS).getUTCMonth();
      const quarterStart = addMonths(month, -(monthOfYear % 3));
      return { fromDay: quarterStart, toDay: addMonths(quarterStart, 3) };
    }
    case 'last12Months':
      return { fromDay: addMonths(month, -11), toDay: addMonths(month, 1) };
  }
}
