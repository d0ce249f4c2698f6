/**
 * Money is stored as integer minor units. How many minor units make one major unit depends on the
 * currency (INR and USD: 100, JPY: 1, KWD: 1000), which Intl knows.
 */
const digitsCache = new Map<string, number>();

export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** Minor units → major units, rounded to the currency's precision (sums of minor units are exact). */
export function toMajor(minor: number, currency: string): number {
  const digits = minorDigits(currency);
  return roundTo(minor / 10 ** digits, digits);
}

export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  const rounded = Math.round(value * factor) / factor;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/**
 * Parses a decimal amount in major units ("12500.50") into integer minor units without passing
 * through floating point, or returns an error sentence.
 */
export function parseMajor(textValue: string, currency: string, maxDecimals = 2): number | string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(textValue.trim());
  if (!match)
    return `"${textValue}" is not an amount (digits, optionally a '.' and decimals; never negative)`;
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  const digits = minorDigits(currency);
  const allowed = Math.min(maxDecimals, digits);
  if (fraction.length > allowed) {
    return allowed === 0
      ? `"${textValue}" has decimals, but ${currency} has no minor unit`
      : `"${textValue}" has more than ${allowed} decimals`;
  }
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minor)) return `"${textValue}" is too large`;
  return minor;
}

// ---------------------------------------------------------------------------------------------
// Amounts as people type them

/** Devanagari digits (०–९, U+0966–U+096F), which a Hindi keyboard types, as Latin ones. */
function latinDigits(text: string): string {
  return text.replace(/[\u0966-\u096F]/g, (digit) => String(digit.charCodeAt(0) - 0x0966));
}

/**
 * Number words and abbreviations after an amount, by the power of ten they stand for: the lakh and
 * crore the screens show for INR (src/lib/ui/format.ts, in English and Hindi), their usual spellings,
 * and whatever Intl's compact notation writes in the app's locales ("$4.2K", "₹1.3 क॰"), read from
 * Intl itself so that every short amount a screen shows can be typed back. Words are lower case.
 * Made on first use: the server imports this module too, and never reads a typed amount.
 */
let unitWords: ReadonlyMap<string, number> | undefined;

function unitWordPower(word: string): number | undefined {
  if (!unitWords) {
    const units = new Map<string, number>();
    const own = [
      [5, ['l', 'lakh', 'lakhs', 'lac', 'lacs', 'लाख', 'ला']],
      [7, ['cr', 'crore', 'crores', 'करोड़', 'करोड', 'क']],
    ] as const;
    for (const [power, words] of own) for (const each of words) units.set(each.normalize('NFC'), power);
    for (const locale of ['en-IN', 'hi-IN', 'en']) {
      const format = new Intl.NumberFormat(locale, { notation: 'compact' });
      for (let power = 3; power <= 15; power++) {
        const parts = format.formatToParts(10 ** power);
        const compact = parts
          .find((part) => part.type === 'compact')
          ?.value.normalize('NFC')
          .toLowerCase();
        // 10^4 is "10K": the word stands for 10^3.
        const leading = Number(
          parts
            .filter((part) => part.type === 'integer')
            .map((part) => part.value)
            .join(''),
        );
        if (compact && Number.isInteger(leading) && leading > 0 && !units.has(compact))
          units.set(compact, power - Math.round(Math.log10(leading)));
      }
    }
    unitWords = units;
  }
  return unitWords.get(word);
}

/** What may stand for the currency before or after an amount: its symbols in the app's locales and its code ("₹", "Rs", "INR"). */
function currencyMarks(currency: string): string[] {
  const marks = new Set<string>([currency.toLowerCase()]);
  for (const locale of ['en-IN', 'hi-IN', 'en']) {
    for (const currencyDisplay of ['symbol', 'narrowSymbol'] as const) {
      const part = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay })
        .formatToParts(1)
        .find((p) => p.type === 'currency');
      if (part) marks.add(part.value.toLowerCase());
    }
  }
  if (currency === 'INR') for (const mark of ['rs.', 'rs', 'रु.', 'रु']) marks.add(mark);
  // Longest first, so that "rs." is taken whole before "rs".
  return [...marks].sort((a, b) => b.length - a.length);
}

/** Whole digits with thousands separators where people put them: none, Indian (5,00,000) or international (500,000). */
const GROUPED = /^(?:\d+|\d{1,2}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+)$/;

/**
 * An amount as typed, in any of the forms the screens show it — "₹5,00,000", "5,00,000", "500000",
 * "₹ 4.2 L", "₹4.2 लाख", "$1.3M", Devanagari digits ("१२३४५") — as the plain decimal string in major
 * units that `parseMajor` reads ("500000", "420000", "12345.5"). Text that is not such an amount
 * (misplaced separators, "12,5", letters, a minus sign) comes back trimmed, for `parseMajor` to
 * refuse with its reason, quoting what was typed.
 */
export function readAmount(typed: string, currency: string): string {
  const trimmed = typed.trim();
  let rest = latinDigits(trimmed.normalize('NFC')).toLowerCase().replace(/\s+/g, ' ');
  const strip = (at: 'start' | 'end') => {
    for (const mark of currencyMarks(currency)) {
      if (at === 'start' && rest.startsWith(mark)) return void (rest = rest.slice(mark.length).trimStart());
      if (at === 'end' && rest.endsWith(mark)) return void (rest = rest.slice(0, -mark.length).trimEnd());
    }
  };
  strip('start');
  strip('end');
  const match = /^([\d,]+)(?:\.(\d+))?(?: ?(\p{L}[\p{L}\p{M}.\u0970]*))?$/u.exec(rest);
  if (!match || !GROUPED.test(match[1]!)) return trimmed;
  const whole = match[1]!.replace(/,/g, '');
  const fraction = match[2] ?? '';
  if (match[3] === undefined) return fraction ? `${whole}.${fraction}` : whole;
  // "Cr." and "क॰" (the Devanagari abbreviation sign) as well as "Cr" and "क".
  const power = unitWordPower(match[3]) ?? unitWordPower(match[3].replace(/[.\u0970]$/, ''));
  if (power === undefined) return trimmed;
  // Move the decimal point `power` places right, in the digits themselves: no floating point.
  const shifted = `${whole}${fraction.padEnd(power, '0').slice(0, power)}`;
  const left = fraction.slice(power).replace(/0+$/, '');
  const integer = shifted.replace(/^0+(?=\d)/, '');
  return left ? `${integer}.${left}` : integer;
}

/**
 * A number as typed ("60", "६०", "1,200", and "60%" where `percent`), as plain digits ("60", "1200");
 * anything else comes back trimmed, for the caller to refuse.
 */
export function readNumber(typed: string, options: { percent?: boolean } = {}): string {
  const trimmed = typed.trim();
  const match = (options.percent ? /^([\d,]+)(?:\.(\d+))?\s*%?$/ : /^([\d,]+)(?:\.(\d+))?$/).exec(
    latinDigits(trimmed),
  );
  if (!match || !GROUPED.test(match[1]!)) return trimmed;
  const whole = match[1]!.replace(/,/g, '');
  return match[2] === undefined ? whole : `${whole}.${match[2]}`;
}
