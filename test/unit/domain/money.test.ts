import { describe, expect, it } from 'vitest';
import { parseMajor, readAmount, readNumber } from '../../../src/lib/domain/money';
import { formatMoney, formatMoneyShort } from '../../../src/lib/ui/format';

/** The amount a form would store for this text: minor units, or parseMajor's refusal. */
const typed = (text: string, currency = 'INR') => parseMajor(readAmount(text, currency), currency);

describe('readAmount: an amount as typed, in any form the screens show it', () => {
  it('reads plain digits, Indian and international grouping, and the rupee sign or code', () => {
    for (const text of [
      '500000',
      '5,00,000',
      '500,000',
      '₹5,00,000',
      '₹ 5,00,000',
      ' 500000 ',
      'INR 5,00,000',
      '5,00,000 INR',
      'Rs. 5,00,000',
      'Rs 500000',
    ]) {
      expect(typed(text), text).toBe(5_00_000_00);
    }
    expect(typed('1,00,00,000')).toBe(1_00_00_000_00);
    expect(typed('₹12,345.50')).toBe(12_345_50);
  });

  it('reads Devanagari digits as a Hindi keyboard types them', () => {
    expect(typed('१२३४५')).toBe(12_345_00);
    expect(typed('₹५,००,०००')).toBe(5_00_000_00);
    expect(typed('४.२ लाख')).toBe(4_20_000_00);
  });

  it('reads lakh and crore, abbreviated or written out, in English and Hindi', () => {
    expect(typed('₹ 4.2 L')).toBe(4_20_000_00);
    expect(typed('₹4.2L')).toBe(4_20_000_00);
    expect(typed('4.2 lakh')).toBe(4_20_000_00);
    expect(typed('₹4.2 लाख')).toBe(4_20_000_00);
    expect(typed('₹1.3 Cr')).toBe(1_30_00_000_00);
    expect(typed('₹1.3 करोड़')).toBe(1_30_00_000_00);
    expect(typed('₹1.3 क॰')).toBe(1_30_00_000_00);
    expect(typed('0.5 L')).toBe(50_000_00);
    expect(typed('1.2345678 L')).toBe(1_23_456_78);
  });

  it('reads the compact notation shown for other currencies', () => {
    expect(typed('$4.2K', 'USD')).toBe(4_200_00);
    expect(typed('$1.5M', 'USD')).toBe(1_500_000_00);
    expect(typed('USD 12', 'USD')).toBe(12_00);
    expect(typed('$12', 'USD')).toBe(12_00);
  });

  it('refuses what is not an amount, quoting what was typed', () => {
    for (const text of ['12,5', '5,0,0', '1,2345', '-500', 'abc', '₹', '4.2 X', '4.2.1', '5 00 000', '₹₹5']) {
      const result = typed(text);
      expect(typeof result, text).toBe('string');
      expect(result).toContain(`"${text.trim()}"`);
    }
    // More decimals than the currency has, after the unit moved the point: refused, not rounded.
    expect(typed('1.23456789 L')).toMatch(/more than 2 decimals/);
  });

  it('reads back every amount a screen shows, in both languages', () => {
    for (const locale of ['en-IN', 'hi-IN']) {
      for (const minor of [
        0, 99_00, 12_345_00, 4_20_000_00, 99_99_999_00, 1_30_00_000_00, 250_00_00_000_00,
      ]) {
        expect(
          typed(formatMoney(minor, 'INR', locale)),
          `${locale} ${formatMoney(minor, 'INR', locale)}`,
        ).toBe(minor);
        // Short money is rounded to one decimal of its unit: it reads back as that rounded amount.
        const short = formatMoneyShort(minor, 'INR', locale);
        expect(typed(short), `${locale} ${short}`).toBe(typed(formatMoneyShort(minor, 'INR', 'en-IN')));
        expect(Math.abs((typed(short) as number) - minor), short).toBeLessThanOrEqual(minor * 0.05);
      }
      for (const minor of [4_200_00, 1_500_000_00]) {
        const short = formatMoneyShort(minor, 'USD', locale);
        expect(Math.abs((typed(short, 'USD') as number) - minor), short).toBeLessThanOrEqual(minor * 0.05);
      }
    }
  });
});

describe('readNumber', () => {
  it('reads Devanagari digits, grouping and, for a percentage, the percent sign', () => {
    expect(readNumber('६०')).toBe('60');
    expect(readNumber('1,200')).toBe('1200');
    expect(readNumber(' 60% ', { percent: true })).toBe('60');
    expect(readNumber('60%')).toBe('60%');
    expect(readNumber('12,5')).toBe('12,5');
  });
});
