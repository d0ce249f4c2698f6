import { describe, expect, it } from 'vitest';
import {
  comparedRange,
  formatDay,
  localDayOf,
  parseDay,
  parsePeriod,
  presetRange,
  previousRange,
  startOfLocalDay,
  type DayRange,
} from '../../../src/lib/kpi/calendar';

const range = (from: string, to: string) => ({ fromDay: parseDay(from), toDay: parseDay(to) });

describe('calendar days in a time zone', () => {
  it('reads only real calendar dates', () => {
    expect(parseDay('2024-02-29')).not.toBeNull();
    expect(parseDay('2026-02-29')).toBeNull();
    expect(parseDay('2026-1-5')).toBeNull();
    expect(formatDay(parseDay('2026-03-08')!)).toBe('2026-03-08');
  });

  it('puts an instant on its local day, also across a daylight-saving change', () => {
    const dayOf = localDayOf('America/New_York');
    expect(formatDay(dayOf(Date.parse('2026-03-08T04:59:59.999Z')))).toBe('2026-03-07');
    expect(formatDay(dayOf(Date.parse('2026-03-08T05:00:00Z')))).toBe('2026-03-08');
    expect(formatDay(dayOf(Date.parse('2026-03-09T03:59:59.999Z')))).toBe('2026-03-08');
    expect(formatDay(dayOf(Date.parse('2026-03-09T04:00:00Z')))).toBe('2026-03-09');
    expect(startOfLocalDay(parseDay('2026-03-09')!, 'America/New_York')).toBe(
      Date.parse('2026-03-09T04:00:00Z'),
    );
    expect(formatDay(localDayOf('Asia/Kolkata')(Date.parse('2026-03-31T18:30:00Z')))).toBe('2026-04-01');
  });

  it('checks a period and names what is wrong', () => {
    expect(parsePeriod({ from: '2026-01-01', to: '2026-04-01', tz: 'Asia/Kolkata' })).toEqual({
      ok: true,
      range: range('2026-01-01', '2026-04-01'),
    });
    const bad = parsePeriod({ from: '2026-04-01', to: '2026-01-01', tz: 'Nowhere/City' });
    expect(!bad.ok && bad.problems.map((p) => p.field)).toEqual(['tz', 'to']);
  });

  it('takes the previous period ending where the period starts: as many whole months, or else as many days', () => {
    expect(previousRange(range('2026-01-01', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(
      range('2025-10-01', '2026-01-01'),
    );
    expect(previousRange(range('2026-03-01', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(
      range('2026-02-01', '2026-03-01'),
    );
    expect(previousRange(range('2026-01-10', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(
      range('2025-10-21', '2026-01-10'),
    );
  });

  it('compares a period under way with the same days of the previous one (#13 item 4)', () => {
    const days = (from: string, to: string) => range(from, to) as DayRange;
    const on = (date: string) => parseDay(date)!;
    // 6 December: 1–6 December against 1–6 November.
    expect(comparedRange(days('2026-12-01', '2027-01-01'), on('2026-12-06'))).toEqual({
      previous: days('2026-11-01', '2026-11-07'),
      running: true,
    });
    // A quarter: 1 October–6 December against 1 July–6 September (the same days of the month).
    expect(comparedRange(days('2026-10-01', '2027-01-01'), on('2026-12-06'))).toEqual({
      previous: days('2026-07-01', '2026-09-07'),
      running: true,
    });
    // 30 March against February, which is shorter: all of February.
    expect(comparedRange(days('2026-03-01', '2026-04-01'), on('2026-03-30'))).toEqual({
      previous: days('2026-02-01', '2026-03-01'),
      running: true,
    });
    // The last day of the period, a period over and one to come: the whole previous period.
    expect(comparedRange(days('2026-12-01', '2027-01-01'), on('2026-12-31'))).toEqual({
      previous: days('2026-11-01', '2026-12-01'),
      running: false,
    });
    expect(comparedRange(days('2026-11-01', '2026-12-01'), on('2026-12-06'))).toEqual({
      previous: days('2026-10-01', '2026-11-01'),
      running: false,
    });
    expect(comparedRange(days('2027-01-01', '2027-02-01'), on('2026-12-06'))).toEqual({
      previous: days('2026-12-01', '2027-01-01'),
      running: false,
    });
    // A custom range that is not whole months: as many days as have passed.
    expect(comparedRange(days('2026-12-03', '2026-12-13'), on('2026-12-06'))).toEqual({
      previous: days('2026-11-23', '2026-11-27'),
      running: true,
    });
  });

  it('turns presets into whole calendar months at `now` in the zone', () => {
    // 2026-03-31 20:00 UTC is already 1 April in Kolkata.
    const now = Date.parse('2026-03-31T20:00:00Z');
    expect(presetRange('thisMonth', now, 'Asia/Kolkata')).toEqual(range('2026-04-01', '2026-05-01'));
    expect(presetRange('thisMonth', now, 'UTC')).toEqual(range('2026-03-01', '2026-04-01'));
    expect(presetRange('lastMonth', now, 'Asia/Kolkata')).toEqual(range('2026-03-01', '2026-04-01'));
    expect(presetRange('thisQuarter', now, 'Asia/Kolkata')).toEqual(range('2026-04-01', '2026-07-01'));
    expect(presetRange('thisQuarter', now, 'UTC')).toEqual(range('2026-01-01', '2026-04-01'));
    expect(presetRange('last12Months', now, 'Asia/Kolkata')).toEqual(range('2025-05-01', '2026-05-01'));
    expect(presetRange('lastMonth', Date.parse('2026-01-15T00:00:00Z'), 'UTC')).toEqual(
      range('2025-12-01', '2026-01-01'),
    );
  });
});
