/**
 * Money is stored as integer minor units. How many minor units make one major unit depends on the
 * currency (INR and USD: 100, JPY: 1, KWD: 1000), which Intl knows.
 */
const digitsCache = new Map<string, number>();

export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
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
  if (!match) return `"${textValue}" is not an amount (digits, optionally a '.' and decimals; never negative)`;
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
