import { formatPoints, numberFormat } from './format';

/** The change of a KPI against the previous period, for a card: text and whether it is good news. */
export type Trend = 'up-good' | 'up-bad' | 'down-good' | 'down-bad' | 'flat';

export interface Change {
  text: string;
  trend: Trend;
  /** Money that was zero in the previous period: no percentage to give; the screen says "new". */
  fromZero?: true;
}

/**
 * Ratios change in percentage points ("+4.2 pts", "+4.2 अंक"); counts and money in percent of the previous
 * value ("+12%"). From zero, a count changes by its number ("+3"); money has no percentage and no
 * number worth showing (it is in minor units): `fromZero`, and no text. Nothing to compare (a null
 * on either side): no change shown.
 */
export function changeOf(
  current: number | null,
  previous: number | null,
  kind: 'ratio' | 'count' | 'money',
  locale: string,
  higherIsBetter = true,
): Change {
  if (current === null || previous === null) return { text: '', trend: 'flat' };
  const delta = current - previous;
  if (delta === 0) return { text: '±0', trend: 'flat' };
  const up = delta > 0;
  const trend: Trend = up === higherIsBetter ? (up ? 'up-good' : 'down-good') : up ? 'up-bad' : 'down-bad';
  const signed = (value: number, digits: number, unit: string) =>
    `${value > 0 ? '+' : ''}${numberFormat(locale, { maximumFractionDigits: digits }).format(value)}${unit}`;
  if (kind === 'ratio') return { text: formatPoints(delta * 100, locale), trend };
  if (previous === 0)
    return kind === 'count' ? { text: signed(delta, 0, ''), trend } : { text: '', trend, fromZero: true };
  return { text: signed((delta / Math.abs(previous)) * 100, 0, '%'), trend };
}
