/**
 * Money, numbers and dates for people, through Intl in the interface's locale. Money is stored in
 * minor units; INR is grouped in lakh and crore (₹4,20,000) and large sums can be shortened
 * (₹4.2 L, ₹1.3 Cr) where space is short.
 *
 * One number format per language, on every screen (docs/languages.md):
 * - English, `en-IN`: Latin digits, Indian grouping, ₹4,20,000 · ₹4.2 L · ₹1.3 Cr · 42.5% · +4.2 pts.
 * - Hindi, `hi-IN`: the same Latin digits — the international form of Indian numerals, the official
 *   form for the Union (Constitution, Art. 343) and what Indian apps, banks and `hi-IN` in Intl use —
 *   with Indian grouping and Hindi units: ₹4,20,000 · ₹4.2 लाख · ₹1.3 करोड़ · 42.5% · +4.2 अंक.
 *   Devanagari digits (`hi-IN-u-nu-deva`) were tried and left out: the browser's own date and number
 *   inputs, Chart.js and every count put into a message as it is would still show Latin digits, so a
 *   screen mixed both.
 * Months are Intl month names ("Jan 2026", "जन॰ 2026"), never "2026-01". What these functions show,
 * the amount inputs read back (domain/money.ts, `readAmount`).
 */
import { DAY_MS } from '../kpi/calendar';
import { minorDigits } from '../domain/money';
import { m } from '../paraglide/messages';
import { locales, type Locale } from '../paraglide/runtime';

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

export function formatMoney(
  minor: number | null,
  currency: string,
  locale: string,
  options: { fractionDigits?: number } = {},
): string {
  if (minor === null) return '—';
  const major = minor / 10 ** minorDigits(currency);
  return numberFormat(locale, {
    style: 'currency',
    currency,
    maximumFractionDigits: options.fractionDigits ?? 0,
  }).format(major);
}

/** The messages' language for an Intl locale ('hi-IN' → 'hi'); English for any other. */
export function messageLocale(locale: string): Locale {
  const language = locale.split('-')[0];
  return locales.find((candidate) => candidate === language) ?? 'en';
}

/**
 * Short money for cards and charts: lakh and crore for INR (₹4.2 L, ₹4.2 लाख), compact notation
 * otherwise. The unit is joined to its number by a no-break space: "₹5.4" never ends a line whose
 * next one starts "करोड़".
 */
export function formatMoneyShort(minor: number | null, currency: string, locale: string): string {
  if (minor === null) return '—';
  const major = minor / 10 ** minorDigits(currency);
  if (currency === 'INR' && Math.abs(major) >= 100_000) {
    const crore = Math.abs(major) >= 10_000_000;
    // 'Up to one decimal' (₹20 L, not ₹20.0 L): INR's own two minimum decimals would otherwise keep one.
    const value = numberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: 0,
      maximumFractionDigits: 1,
    }).format(crore ? major / 10_000_000 : major / 100_000);
    return (crore ? m.money_crore : m.money_lakh)({ value }, { locale: messageLocale(locale) });
  }
  if (currency === 'INR')
    return numberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 }).format(major);
  return numberFormat(locale, {
    style: 'currency',
    currency,
    notation: 'compact',
    maximumFractionDigits: 1,
  }).format(major);
}

export function formatPercent(ratio: number | null, locale: string): string {
  if (ratio === null) return '—';
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

export function formatNumber(value: number | null, locale: string, maximumFractionDigits = 1): string {
  if (value === null) return '—';
  return numberFormat(locale, { maximumFractionDigits }).format(value);
}

/** A change in percentage points: "+4.2 pts", "+4.2 अंक". */
export function formatPoints(points: number, locale: string): string {
  const value = `${points > 0 ? '+' : ''}${numberFormat(locale, { maximumFractionDigits: 1 }).format(points)}`;
  return m.change_points({ value }, { locale: messageLocale(locale) });
}

/** A calendar month ('2026-01', as the KPIs key months) as a person reads it: "Jan 2026", "जन॰ 2026". */
export function formatMonth(month: string, locale: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return month;
  return dateFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
    Date.UTC(Number(match[1]), Number(match[2]) - 1, 1),
  );
}

/**
 * A calendar day (a day number: days since 1970-01-01, as the KPI calendar counts them) as a date.
 * A day number is already the program's local day: it is shown in UTC, which adds no offset, so a
 * day never shows as the one before it west of Greenwich.
 */
export function formatCalendarDay(day: number, locale: string): string {
  return dateFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(day * DAY_MS);
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
  if (day.format(instant) === day.format(now))
    return dateFormat(locale, { timeStyle: 'short', timeZone }).format(instant);
  return formatDateTime(instant, locale, timeZone);
}

/** A range of days (day numbers, end exclusive) as "1–6 Dec 2026": the days are calendar dates, so no zone applies. */
export function formatDayRange(range: { fromDay: number; toDay: number }, locale: string): string {
  const format = dateFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const DAY_MS = 86_400_000;
  if (range.toDay - range.fromDay <= 1) return format.format(range.fromDay * DAY_MS);
  return format.formatRange(range.fromDay * DAY_MS, (range.toDay - 1) * DAY_MS);
}
