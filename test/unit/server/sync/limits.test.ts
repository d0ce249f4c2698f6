import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, TokenBucket } from '../../../../server/sync/limits';

describe('TokenBucket', () => {
  it('lets a burst through, then only the rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(Array.from({ length: 6 }, () => bucket.take(1, 0))).toEqual([true, true, true, true, true, false]);
    expect(bucket.take(1, 50)).toBe(false);
    expect(bucket.take(1, 100)).toBe(true);
  });

  it('never holds more than its burst, however long it was idle', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([1, 2, 3, 4].map(() => bucket.take(1, 3_600_000))).toEqual([true, true, true, false]);
  });

  it('counts a cost larger than one (bytes)', () => {
    const bucket = new TokenBucket(1000, 1500, 0);
    expect(bucket.take(1200, 0)).toBe(true);
    expect(bucket.take(400, 0)).toBe(false);
    expect(bucket.take(400, 100)).toBe(true);
  });
});

describe('DEFAULT_LIMITS', () => {
  it("take a long-offline device's first sync and a batch of edits", () => {
    expect(DEFAULT_LIMITS.maxMessageBytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(DEFAULT_LIMITS.messageBurst).toBeGreaterThanOrEqual(500);
  });
});
