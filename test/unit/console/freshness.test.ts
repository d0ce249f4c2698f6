/** How fresh a partner's figures are (src/lib/console/freshness.ts) and how that reads (vendor-view.ts). */
import { describe, expect, it } from 'vitest';
import { daysSince, freshnessOf, STALE_AFTER_MS } from '../../../src/lib/console/freshness';
import { freshnessText } from '../../../src/lib/console/vendor-view';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('freshness', () => {
  it('counts whole minutes, then hours, then days', () => {
    expect(freshnessOf(NOW - 30_000, NOW)).toEqual({
      lastSyncAt: NOW - 30_000,
      amount: 0,
      unit: 'minute',
      stale: false,
    });
    expect(freshnessOf(NOW - 59 * MINUTE, NOW)).toMatchObject({ amount: 59, unit: 'minute' });
    expect(freshnessOf(NOW - 2 * HOUR - 5 * MINUTE, NOW)).toMatchObject({ amount: 2, unit: 'hour' });
    expect(freshnessOf(NOW - 23 * HOUR, NOW)).toMatchObject({ amount: 23, unit: 'hour' });
    expect(freshnessOf(NOW - 2 * DAY - HOUR, NOW)).toMatchObject({ amount: 2, unit: 'day', stale: false });
  });

  it('is stale past STALE_AFTER_MS, not at it', () => {
    expect(freshnessOf(NOW - STALE_AFTER_MS, NOW).stale).toBe(false);
    expect(freshnessOf(NOW - STALE_AFTER_MS - 1, NOW)).toMatchObject({ stale: true, amount: 3, unit: 'day' });
  });

  it('a partner the server never folded is stale; a sync ahead of this clock is just now', () => {
    expect(freshnessOf(undefined, NOW)).toMatchObject({ lastSyncAt: undefined, stale: true });
    expect(freshnessOf(NOW + HOUR, NOW)).toMatchObject({ amount: 0, unit: 'minute', stale: false });
  });

  it('counts whole days since a sync', () => {
    expect(daysSince(NOW - 4 * DAY - HOUR, NOW)).toBe(4);
    expect(daysSince(NOW + DAY, NOW)).toBe(0);
  });

  it('reads as relative time in the interface’s language', () => {
    expect(freshnessText(freshnessOf(NOW - 2 * HOUR, NOW), 'en-IN')).toBe('2 hours ago');
    expect(freshnessText(freshnessOf(NOW - 5 * DAY, NOW), 'en-IN')).toBe('5 days ago');
    expect(freshnessText(freshnessOf(NOW - 10_000, NOW), 'en-IN')).toBe('just now');
    expect(freshnessText(freshnessOf(undefined, NOW), 'en-IN')).toBe('never synced');
    expect(freshnessText(freshnessOf(NOW - 2 * HOUR, NOW), 'hi-IN')).toMatch(/घंटे पहले/);
  });
});
