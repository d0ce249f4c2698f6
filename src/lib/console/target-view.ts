/**
 * A target's wording, for the vendor's console and a partner's Today screen alike: kept apart from
 * vendor-view.ts so that Today's first download carries only this.
 */
import { m } from '../paraglide/messages';
import { formatNumber } from '../ui/format';
import { QUARTER_PATTERN } from '../domain/schema';

/** `2026-Q4` as a person reads it: "Q4 2026". */
export function quarterName(key: string): string {
  const match = QUARTER_PATTERN.exec(key);
  return match ? m.quarter_name({ quarter: match[2]!, year: match[1]! }) : key;
}

/** A coverage ratio as "2.4×". */
export function formatCoverage(coverage: number, locale: string): string {
  return m.coverage_times({ value: formatNumber(coverage, locale, 1) });
}
