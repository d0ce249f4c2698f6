/** What several benchmarks share: medians and percentiles of timings, and how a figure is printed against its budget. */

/** The median (the mean of the middle two of an even count). */
export const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The nearest-rank percentile `p` (0–100) of the samples. */
export const percentile = (samples: readonly number[], p: number): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Medians and spreads of a series of timings (ms). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spreadOf(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/** How long `action` took, ms. */
export const time = (action: () => void): number => {
  const start = performance.now();
  action();
  return performance.now() - start;
};

/** A duration in ms with the digits that matter at its size. */
export const ms = (value: number): string =>
  value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(0);

/** A budget is met when the figure is at most the target. */
export const verdict = (value: number, target: number): string => (value <= target ? 'met' : 'MISSED');
