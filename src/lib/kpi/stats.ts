/** Small statistics shared by the KPIs. */

/** numerator ÷ denominator, or null when the denominator is zero (never NaN or Infinity). */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** z for a two-sided 95 % confidence interval. */
const Z_95 = 1.96;

/**
 * Lower bound of the Wilson score interval for `wins` successes out of `trials` (0 when there are
 * no trials). It ranks a partner with 40 wins of 60 above one with 2 of 2: a small sample earns
 * little confidence.
 */
export function wilsonLowerBound(wins: number, trials: number, z = Z_95): number {
  // No wins: the bound is exactly 0 (the formula's two terms cancel, but not always in floating point,
  // and a residue such as 2e-17 would rank 0 of 11 above 0 of 5 in the quality score).
  if (trials === 0 || wins === 0) return 0;
  const p = wins / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const margin = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return Math.max(0, (centre - margin) / (1 + z2 / trials));
}
