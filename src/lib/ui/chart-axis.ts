/**
 * The value axis of the bar charts. Chart.js spreads an axis whose values are all zero (a channel
 * with no revenue yet, a new partner) over 0 to 1 in tenths; money is in minor units and shown in
 * whole rupees, so every one of those ticks read "₹0". Such an axis gets its one true tick, 0.
 */
export function valueAxisTicks<T extends { value: number }>(
  ticks: T[],
  values: readonly (number | null)[],
): T[] {
  const flat = values.every((value) => value === null || value === 0);
  return flat ? ticks.filter((tick) => tick.value === 0) : ticks;
}
