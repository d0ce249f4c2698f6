import { describe, expect, it } from 'vitest';
import { valueAxisTicks } from '../../../src/lib/ui/chart-axis';
import { formatMoneyShort } from '../../../src/lib/ui/format';

// The ticks Chart.js 4 builds for an axis from 0 whose values are all 0: 0 to 1 in tenths.
const chartJsTicks = Array.from({ length: 11 }, (_, index) => ({ value: index / 10 }));

describe('the value axis of a chart', () => {
  it('reads one 0, not "₹0" six times, when every value is zero', () => {
    const labels = valueAxisTicks(chartJsTicks, [0, 0, null, 0]).map((tick) =>
      formatMoneyShort(tick.value, 'INR', 'en-IN'),
    );
    expect(labels).toEqual(['₹0']);
  });

  it('keeps every tick of an axis with something on it', () => {
    const ticks = [0, 5_00_000_00, 10_00_000_00].map((value) => ({ value }));
    expect(valueAxisTicks(ticks, [0, 8_00_000_00, null])).toEqual(ticks);
  });
});
