import { describe, expect, it } from 'vitest';
import { fetchVendorPartners, type Fetch } from '../../../src/lib/app/sign-in';

const answering = (status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}): Fetch =>
  (async (url: string, init?: RequestInit) => {
    seen.url = url;
    seen.init = init;
    return new Response(JSON.stringify(body), { status });
  }) as Fetch;

describe('fetchVendorPartners', () => {
  it('asks the server with the token and keeps each partner’s id and name only', async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const partners = await fetchVendorPartners(
      answering(200, { partners: [{ id: 'p1', name: 'Sunrise', extra: 1 }, { id: 2 }, null] }, seen),
      'tok',
    );
    expect(partners).toEqual([{ id: 'p1', name: 'Sunrise' }]);
    expect(seen.url).toBe('/api/partners');
    expect(new Headers(seen.init?.headers).get('Authorization')).toBe('Bearer tok');
  });

  it('gives undefined when the server refuses, answers nonsense or cannot be reached', async () => {
    expect(await fetchVendorPartners(answering(403, { error: 'no' }), 'tok')).toBeUndefined();
    expect(await fetchVendorPartners(answering(200, { partners: 'all' }), 'tok')).toBeUndefined();
    expect(
      await fetchVendorPartners((async () => Promise.reject(new TypeError('offline'))) as Fetch, 'tok'),
    ).toBeUndefined();
  });
});
