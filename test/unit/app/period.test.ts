import { describe, expect, it } from 'vitest';
import { selectedRanges } from '../../../src/lib/app/period';
import { parseDay } from '../../../src/lib/kpi/calendar';

const NOW = Date.UTC(2026, 2, 15, 12);
const custom = (from: string, to: string) => ({ choice: 'custom' as const, from, to });

describe('the custom period', () => {
  it('runs from the first day picked to the end of the last', () => {
    expect(selectedRanges(custom('2026-03-06', '2026-03-06'), NOW, 'Asia/Kolkata')).toMatchObject({
      range: { fromDay: parseDay('2026-03-06'), toDay: parseDay('2026-03-07') },
    });
  });

  it('says that it ends before it starts with the very days picked, in the language, whatever the program zone', () => {
    for (const tz of ['Asia/Kolkata', 'America/Los_Angeles', 'Pacific/Kiritimati']) {
      expect(selectedRanges(custom('2026-03-10', '2026-03-06'), NOW, tz, 'en-IN')).toEqual({
        error: 'The last day (6 Mar 2026) is before the first day (10 Mar 2026).',
      });
      expect(selectedRanges(custom('2026-03-10', '2026-03-06'), NOW, tz, 'hi-IN')).toEqual({
        error: 'आख़िरी दिन (6 मार्च 2026) पहले दिन (10 मार्च 2026) से पहले है।',
      });
    }
  });

  it('names a day that is not a date, in the language', () => {
    expect(selectedRanges(custom('2026-02-30', '2026-03-06'), NOW, 'Asia/Kolkata', 'hi-IN')).toEqual({
      error: '"2026-02-30" मान्य तारीख नहीं है।',
    });
  });
});
