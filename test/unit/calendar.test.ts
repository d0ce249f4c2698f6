import { describe, expect, it } from 'vitest';
import { formatDay, localDayOf, parseDay, parsePeriod, presetRange, previousRange, startOfLocalDay } from '../../src/lib/kpi/calendar';

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
    expect(startOfLocalDay(parseDay('2026-03-09')!, 'America/New_York')).toBe(Date.parse('2026-03-09T04:00:00Z'));
    expect(formatDay(localDayOf('Asia/Kolkata')(Date.parse('2026-03-31T18:30:00Z')))).toBe('2026-04-01');
  });

  it('checks a period and names what is wrong', () => {
    expect(parsePeriod({ from: '2026-01-01', to: '2026-04-01', tz: 'Asia/Kolkata' })).toEqual({ ok: true, range: range('2026-01-01', '2026-04-01') });
    const bad = parsePeriod({ from: '2026-04-01', to: '2026-01-01', tz: 'Nowhere/City' });
    expect(!bad.ok && bad.problems.map((p) => p.field)).toEqual(['tz', 'to']);
  });

  it('takes the previous period ending where the period starts: as many whole months, or else as many days', () => {
    expect(previousRange(range('2026-01-01', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(range('2025-10-01', '2026-01-01'));
    expect(previousRange(range('2026-03-01', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(range('2026-02-01', '2026-03-01'));
    expect(previousRange(range('2026-01-10', '2026-04-01') as { fromDay: number; toDay: number })).toEqual(range('2025-10-21', '2026-01-10'));
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
    expect(presetRange('lastMonth', Date.parse('2026-01-15T00:00:00Z'), 'UTC')).toEqual(range('2025-12-01', '2026-01-01'));
  });
});
