/** Money and numbers for people, through Intl: INR grouped in lakh and crore (₹4,20,000). */
export function formatMoney(major: number | null, currency = 'INR', locale = 'en-IN'): string {
  if (major === null) return '—';
  return new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 }).format(major);
}

export function formatPercent(ratio: number | null, locale = 'en-IN'): string {
  if (ratio === null) return '—';
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

export function formatNumber(value: number | null, locale = 'en-IN', maximumFractionDigits = 1): string {
  if (value === null) return '—';
  return new Intl.NumberFormat(locale, { maximumFractionDigits }).format(value);
}
