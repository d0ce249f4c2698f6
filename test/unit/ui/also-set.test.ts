/**
 * The line a record shows for a value that lost a concurrent edit (sync SPEC S13), in English and
 * Hindi: money through the shared format functions, dates and times in the program's zone, names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getLocale, overwriteGetLocale, type Locale } from '$lib/paraglide/runtime';
import { alsoSetText, type AlsoSetContext } from '$lib/ui/also-set';
import { formatDate, formatDateTime, formatMoneyShort } from '$lib/ui/format';

const appLocale = getLocale;
const speak = (locale: Locale) => overwriteGetLocale(() => locale);
afterEach(() => overwriteGetLocale(appLocale));

const TZ = 'Asia/Kolkata';
const AT = Date.UTC(2026, 0, 7, 4, 44); // 10:14 in Kolkata
const names: Record<string, string> = { 'p1-priya': 'Priya Menon', 'p1-ravi': 'Ravi Nair' };
const context = (locale: string): AlsoSetContext => ({
  locale,
  tz: TZ,
  currency: 'INR',
  nameOf: (id) => names[id] ?? id,
});

describe('S13: the "also set" line', () => {
  it('says who set which field to what, and when, in English', () => {
    speak('en');
    const line = alsoSetText(
      { field: 'amount', value: 4_20_000_00, by: 'p1-priya', at: AT },
      context('en-IN'),
    );
    // The unit stays on the number's line (a no-break space).
    expect(formatMoneyShort(4_20_000_00, 'INR', 'en-IN')).toBe('₹4.2\u00a0L');
    expect(line).toBe(`Priya Menon also set Amount to ₹4.2\u00a0L at ${formatDateTime(AT, 'en-IN', TZ)}.`);
    expect(line).toContain('10:14');
    expect(
      alsoSetText({ field: 'channel', value: 'referral', by: 'p1-ravi', at: AT }, context('en-IN')),
    ).toContain('Ravi Nair also set Channel to Referral');
    expect(
      alsoSetText({ field: 'expectedCloseAt', value: AT, by: 'p1-ravi', at: AT }, context('en-IN')),
    ).toContain(`to ${formatDate(AT, 'en-IN', TZ)} at`);
    expect(
      alsoSetText({ field: 'repId', value: 'p1-priya', by: 'p1-ravi', at: AT }, context('en-IN')),
    ).toContain('Rep to Priya Menon');
    expect(alsoSetText({ field: 'notes', value: null, by: 'p1-x', at: AT }, context('en-IN'))).toBe(
      `p1-x also cleared Notes at ${formatDateTime(AT, 'en-IN', TZ)}.`,
    );
  });

  it('says it in Hindi, with the numbers of the Hindi locale', () => {
    speak('hi');
    const line = alsoSetText(
      { field: 'amount', value: 4_20_000_00, by: 'p1-priya', at: AT },
      context('hi-IN'),
    );
    expect(line).toBe(
      `Priya Menon ने भी ${formatDateTime(AT, 'hi-IN', TZ)} पर राशि को ${formatMoneyShort(4_20_000_00, 'INR', 'hi-IN')} किया था।`,
    );
    expect(
      alsoSetText({ field: 'status', value: 'disqualified', by: 'p1-ravi', at: AT }, context('hi-IN')),
    ).toContain('स्थिति को');
  });
});
