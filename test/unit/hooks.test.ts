import { describe, expect, it } from 'vitest';
import { reroute } from '../../src/hooks';

const routeOf = (path: string) => reroute({ url: new URL(path, 'https://kpi.example'), fetch });

describe('reroute', () => {
  it('serves the console’s addresses under /vendor from routes/console, and nothing else', () => {
    expect(routeOf('/vendor')).toBe('/console');
    expect(routeOf('/vendor/partners/p-1?period=this-month')).toBe('/console/partners/p-1');
    expect(routeOf('/vendor/channels')).toBe('/console/channels');
    expect(routeOf('/vendors')).toBeUndefined();
    expect(routeOf('/deals/d-1')).toBeUndefined();
  });
});
