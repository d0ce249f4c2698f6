import { describe, expect, it } from 'vitest';
import { changeOf } from '../../../src/lib/ui/change';
import {
  formatCalendarDay,
  formatDate,
  formatMoney,
  formatMoneyShort,
  formatMonth,
  formatNumber,
  formatPercent,
  formatPoints,
} from '../../../src/lib/ui/format';
import { parseDay } from '../../../src/lib/kpi/calendar';
import { numberLocale } from '../../../src/lib/i18n/i18n.svelte';

// The Intl locales the app formats with.
const EN = numberLocale('en');
const HI = numberLocale('hi');
const onlyLatinDigits = (text: string) =>
  [...text].every((char) => !/\p{Nd}/u.test(char) || /[0-9]/.test(char));

describe('one number format per language', () => {
  it('Hindi shows the same Latin digits as English, in money, percentages, counts, dates and months', () => {
    const shown = [
      formatMoney(4_20_000_00, 'INR', HI),
      formatMoneyShort(4_20_000_00, 'INR', HI),
      formatMoneyShort(1_30_00_000_00, 'INR', HI),
      formatPercent(0.425, HI),
      formatNumber(12_345, HI),
      formatPoints(4.2, HI),
      formatDate(Date.UTC(2026, 0, 15, 6), HI, 'Asia/Kolkata'),
      formatMonth('2026-01', HI),
      changeOf(150, 100, 'money', HI).text,
    ];
    for (const text of shown) expect(onlyLatinDigits(text), text).toBe(true);
    expect(formatMoney(4_20_000_00, 'INR', HI)).toBe(formatMoney(4_20_000_00, 'INR', EN));
    expect(formatMoney(4_20_000_00, 'INR', HI)).toBe('₹4,20,000');
  });

  it('names lakh and crore, and percentage points, in the language', () => {
    // Number and unit are joined by a no-break space, so that a line never ends between them.
    const nb = (text: string) => text.replace(/ /g, '\u00a0');
    expect(formatMoneyShort(4_20_000_00, 'INR', EN)).toBe(nb('₹4.2 L'));
    expect(formatMoneyShort(1_30_00_000_00, 'INR', EN)).toBe(nb('₹1.3 Cr'));
    expect(formatMoneyShort(4_20_000_00, 'INR', HI)).toBe(nb('₹4.2 लाख'));
    expect(formatMoneyShort(1_30_00_000_00, 'INR', HI)).toBe(nb('₹1.3 करोड़'));
    expect(formatMoneyShort(20_00_000_00, 'INR', HI)).toBe(nb('₹20 लाख'));
    expect(formatPoints(4.2, EN)).toBe(nb('+4.2 pts'));
    expect(formatPoints(-4.25, HI)).toBe(nb('-4.3 अंक'));
    expect(changeOf(0.25, 0.2, 'ratio', HI).text).toBe(nb('+5 अंक'));
  });

  it('shows months by name, never as 2026-01', () => {
    expect(formatMonth('2026-01', EN)).toBe('Jan 2026');
    expect(formatMonth('2026-12', HI)).toMatch(/^दिस.* 2026$/);
    expect(formatMonth('2026-01', HI)).not.toContain('2026-01');
  });

  it('shows a calendar day as that day whatever the zones involved', () => {
    expect(formatCalendarDay(parseDay('2026-03-06')!, EN)).toBe('6 Mar 2026');
    expect(formatCalendarDay(parseDay('2026-03-06')!, HI)).toBe('6 मार्च 2026');
  });
});
