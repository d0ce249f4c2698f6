import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import {
  addMonths,
  buildRollup,
  byMonth,
  computeKpis,
  computeKpisWithPrevious,
  coveringMonths,
  emptyBucket,
  emptyRollup,
  isWholeMonths,
  parseDay,
  previousRange,
  withoutReps,
} from '../../../src/lib/kpi';

const demo = generateDemoProgram({ seed: 3, stageLog: false });
const tz = demo.program.timeZone;
const days = buildRollup(tz, demo.leads, demo.deals);
const months = byMonth(days);
const first = parseDay('2025-05-01')!;

describe('byMonth', () => {
  it('holds one bucket per series and month, on the month’s first day', () => {
    for (const series of months.series.values())
      for (const day of series.days.keys()) expect(addMonths(day, 0)).toBe(day);
    const dayBuckets = [...days.series.values()].reduce((sum, series) => sum + series.days.size, 0);
    const monthBuckets = [...months.series.values()].reduce((sum, series) => sum + series.days.size, 0);
    expect(monthBuckets).toBeLessThan(dayBuckets / 4);
  });

  it('leaves out a month whose days hold nothing, and a series with no month left', () => {
    const empty = emptyRollup(tz);
    const series = { partnerId: 'p1', repId: 'r1', channel: 'paid' as const, days: new Map() };
    series.days.set(first + 3, emptyBucket(first + 3));
    empty.series.set('p1|r1|paid', series);
    expect(byMonth(empty).series.size).toBe(0);
    const some = structuredClone(days);
    const [key, kept] = [...some.series.entries()][0]!;
    // Years before any record: a month of its own, if it were kept.
    kept.days.set(first - 4000, emptyBucket(first - 4000));
    expect([...byMonth(some).series.get(key)!.days.keys()]).toEqual([...months.series.get(key)!.days.keys()]);
  });

  it('gives exactly the KPIs of the days for every period of whole months, with its reps or without', () => {
    const partnerIds = demo.partners.map((partner) => partner.id);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 22 }),
        fc.integer({ min: 1, max: 14 }),
        fc.constantFrom(undefined, ...partnerIds),
        (start, length, partnerId) => {
          const range = { fromDay: addMonths(first, start), toDay: addMonths(first, start + length) };
          const scope =
            partnerId === undefined
              ? ({ kind: 'all' } as const)
              : ({ kind: 'partner', id: partnerId } as const);
          expect(computeKpisWithPrevious(months, { range, scope })).toEqual(
            computeKpisWithPrevious(days, { range, scope }),
          );
          expect(computeKpis(byMonth(withoutReps(days)), { range, scope: { kind: 'all' } })).toEqual(
            computeKpis(withoutReps(days), { range, scope: { kind: 'all' } }),
          );
        },
      ),
      { numRuns: 60 },
    );
  }, 30_000); // Dozens of whole-program KPI computations: ~3 s alone, more on a loaded machine.
});

describe('whole months', () => {
  it('previousRange of whole months is as many whole months before; of other ranges, as many days', () => {
    const dec = { fromDay: parseDay('2026-12-01')!, toDay: parseDay('2027-01-01')! };
    expect(previousRange(dec)).toEqual({ fromDay: parseDay('2026-11-01')!, toDay: dec.fromDay });
    const quarter = { fromDay: parseDay('2026-04-01')!, toDay: parseDay('2026-07-01')! };
    expect(previousRange(quarter)).toEqual({ fromDay: parseDay('2026-01-01')!, toDay: quarter.fromDay });
    const year = { fromDay: parseDay('2028-01-01')!, toDay: parseDay('2029-01-01')! };
    expect(previousRange(year)).toEqual({ fromDay: parseDay('2027-01-01')!, toDay: year.fromDay });
    const week = { fromDay: parseDay('2026-12-03')!, toDay: parseDay('2026-12-10')! };
    expect(previousRange(week)).toEqual({ fromDay: parseDay('2026-11-26')!, toDay: week.fromDay });
  });

  it('isWholeMonths and coveringMonths', () => {
    const range = { fromDay: parseDay('2026-10-15')!, toDay: parseDay('2026-12-02')! };
    expect(isWholeMonths(range)).toBe(false);
    expect(coveringMonths(range)).toEqual({
      fromDay: parseDay('2026-10-01')!,
      toDay: parseDay('2027-01-01')!,
    });
    expect(isWholeMonths(coveringMonths(range))).toBe(true);
    const whole = { fromDay: parseDay('2026-10-01')!, toDay: parseDay('2026-12-01')! };
    expect(coveringMonths(whole)).toEqual(whole);
  });
});
