import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../../server/metrics';

describe('RateMeter', () => {
  it('averages the events of the last minute per second', () => {
    const meter = new RateMeter(60);
    for (let second = 0; second < 60; second++) meter.add(second * 1000, 2);
    expect(meter.perSecond(59_500)).toBe(2);
  });

  it('forgets events older than its window', () => {
    const meter = new RateMeter(60);
    meter.add(0, 600);
    expect(meter.perSecond(1000)).toBe(10);
    expect(meter.perSecond(61_000)).toBe(0);
    meter.add(120_000, 60);
    expect(meter.perSecond(120_000)).toBe(1);
  });
});
