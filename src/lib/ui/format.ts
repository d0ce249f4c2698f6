/**
 * Money, numbers and dates for people, through Intl in the interface's locale. Money is stored in
 * minor units; INR is grouped in lakh and crore (₹4,20,000) and large sums can be shortened
 * (₹4.2 L, ₹1.3 Cr) where space is short.
 */
import { minorDigits } from '../domain/money';

// Making an Intl formatter costs far more than using one (a page of stage history made dozens per
// render): each is made once per locale and options, and kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(locale, options)));
  return format;
}

function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) dateFormats.set(key, (format = new Intl.DateTimeFormat(locale, options)));
  return format;
}

export function formatMoney(minor: number | null, currency: string, locale: string, options: { fractionDigits?: number } = {}): string {
  if (minor === null) return '—';
  const major = minor / 10 ** minorDigits(currency);
  return numberFormat(locale, { style: 'currency', currency, maximumFractionDigits: options.fractionDigits ?? 0 }).format(major);
}

/** Short money for cards and charts: lakh (L) and crore (Cr) for INR, compact notation otherwise. */
export function formatMoneyShort(minor: number | null, currency: string, locale: string): string {
  if (minor === null) return '—';
  const major = minor / 10 ** minorDigits(currency);
  if (currency === 'INR' && Math.abs(major) >= 100_000) {
    const [value, unit] = Math.abs(major) >= 10_000_000 ? [major / 10_000_000, 'Cr'] : [major / 100_000, 'L'];
    const number = numberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 1 }).format(value);
    return `${number} ${unit}`;
  }
  if (currency === 'INR') return numberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 }).format(major);
  return numberFormat(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(major);
}

export function formatPercent(ratio: number | null, locale: string): string {
  if (ratio === null) return '—';
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

export function formatNumber(value: number | null, locale: string, maximumFractionDigits = 1): string {
  if (value === null) return '—';
  return numberFormat(locale, { maximumFractionDigits }).format(value);
}

export function formatDate(instant: number | undefined, locale: string, timeZone: string): string {
  if (instant === undefined) return '—';
  return dateFormat(locale, { dateStyle: 'medium', timeZone }).format(instant);
}

export function formatDateTime(instant: number | undefined, locale: string, timeZone: string): string {
  if (instant === undefined) return '—';
  return dateFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(instant);
}

/** A moment of today as its time only, of another day with its date too (e.g. when the device last synced). */
export function formatMoment(instant: number, now: number, locale: string, timeZone: string): string {
  const day = dateFormat('en-CA', { dateStyle: 'short', timeZone });
  if (day.format(instant) === day.format(now)) return dateFormat(locale, { timeStyle: 'short', timeZone }).format(instant);
  return formatDateTime(instant, locale, timeZone);
}

/** A range of days (day numbers, end exclusive) as "1–6 Dec 2026": the days are calendar dates, so no zone applies. */
export function formatDayRange(range: { fromDay: number; toDay: number }, locale: string): string {
  const format = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const DAY_MS = 86_400_000;
  if (range.toDay - range.fromDay <= 1) return format.format(range.fromDay * DAY_MS);
  return format.formatRange(range.fromDay * DAY_MS, (range.toDay - 1) * DAY_MS);
}
