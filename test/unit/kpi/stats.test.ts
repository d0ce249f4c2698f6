import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ratio, wilsonLowerBound } from '../../../src/lib/kpi';
import { referenceWilson } from '../../factories/reference-kpis';

describe('wilsonLowerBound (z = 1.96)', () => {
  it('matches known values', () => {
    // 2 of 3: p = 2/3 → 0.20765…, the spec's report example.
    expect(wilsonLowerBound(2, 3)).toBeCloseTo(0.2077, 4);
    expect(Number(wilsonLowerBound(2, 3).toFixed(4))).toBe(0.2077);
    // 1 of 1: 1 / (1 + 1.96²) = 0.2065…
    expect(wilsonLowerBound(1, 1)).toBeCloseTo(1 / (1 + 1.96 * 1.96), 12);
    // 2 of 2 and 40 of 60, the spec's ranking example.
    expect(wilsonLowerBound(2, 2)).toBeCloseTo(0.3424, 4);
    expect(wilsonLowerBound(40, 60)).toBeCloseTo(0.5406, 4);
    // 5 of 10: 0.2366 (a textbook value).
    expect(wilsonLowerBound(5, 10)).toBeCloseTo(0.2366, 4);
    // 81 of 263 (Wilson's own example, lower bound 0.2553).
    expect(wilsonLowerBound(81, 263)).toBeCloseTo(0.2553, 4);
  });

  it('is 0 with no trials', () => {
    expect(wilsonLowerBound(0, 0)).toBe(0);
  });

  it('is exactly 0 for 0 wins of any n (not a rounding residue such as 2e-17)', () => {
    for (let n = 1; n <= 500; n++) expect(wilsonLowerBound(0, n)).toBe(0);
  });

  it('is below 1 for n of n, and grows with n', () => {
    let previous = 0;
    for (let n = 1; n <= 200; n++) {
      const low = wilsonLowerBound(n, n);
      expect(low).toBeLessThan(1);
      expect(low).toBeGreaterThan(previous);
      // For p = 1 the formula reduces to n / (n + z²).
      expect(low).toBeCloseTo(n / (n + 1.96 * 1.96), 12);
      previous = low;
    }
  });

  it('2 of 2 ranks below 40 of 60', () => {
    expect(wilsonLowerBound(2, 2)).toBeLessThan(wilsonLowerBound(40, 60));
  });

  it('lies in [0, p] and equals the spec formula', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 10_000 })
          .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([w, n]) => {
          const low = wilsonLowerBound(w, n);
          expect(low).toBeGreaterThanOrEqual(0);
          expect(low).toBeLessThanOrEqual(w / n);
          expect(low).toBeCloseTo(referenceWilson(w, n), 12);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('ratio', () => {
  it('divides, and is null (never NaN or Infinity) when the denominator is 0', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(0, 5)).toBe(0);
    expect(ratio(0, 0)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });
});
