import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import type { TokenClaims } from '../../../../server/auth/claims';
import {
  CLOCK_TOLERANCE_SECONDS,
  parseTtl,
  signToken,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  verifyToken,
} from '../../../../server/auth/tokens';

const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-characters!');
const otherSecret = new TextEncoder().encode('another-secret-of-at-least-32-characters');
const NOW = Date.UTC(2026, 2, 1, 9, 0, 0);
const HOUR = 60 * 60 * 1000;

const rep: TokenClaims = { userId: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'partner-1' };
const manager: TokenClaims = {
  userId: 'pm-1',
  role: 'partner_manager',
  programId: 'prog-1',
  partnerId: 'partner-1',
};
const vendor: TokenClaims = { userId: 'vm-1', role: 'vendor_manager', programId: 'prog-1' };

/** A token with a good signature and this app's issuer and audience, but a payload of the test's choosing. */
function rawToken(payload: JWTPayload, key = secret, alg = 'HS256'): Promise<string> {
  const issuedAt = Math.floor(NOW / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 3600)
    .sign(key);
}

const decodePart = (part: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const encodePart = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('signToken and verifyToken', () => {
  it.each([rep, manager, vendor])('round-trips the claims of a $role, with the expiry', async (claims) => {
    const token = await signToken(claims, secret, { ttl: '8h', now: NOW });
    const verified = await verifyToken(token, secret, NOW + HOUR);
    expect(verified).toEqual({
      ok: true,
      claims,
      tokenId: expect.stringMatching(/^[0-9a-f]{24}$/),
      issuedAt: Math.floor(NOW / 1000) * 1000,
      expiresAt: Math.floor(NOW / 1000) * 1000 + 8 * HOUR,
    });
  });

  it('gives every token an id of its own, so that one token can be revoked alone', async () => {
    const ids = new Set<string | undefined>();
    for (let i = 0; i < 20; i++) {
      const verified = await verifyToken(await signToken(rep, secret, { ttl: '8h', now: NOW }), secret, NOW);
      ids.add(verified.ok ? verified.tokenId : undefined);
    }
    expect(ids.size).toBe(20);
    expect(ids.has(undefined)).toBe(false);
  });

  it('keeps "absent" absent: a vendor manager has no partnerId key at all', async () => {
    const verified = await verifyToken(await signToken(vendor, secret, { ttl: 60, now: NOW }), secret, NOW);
    expect(verified.ok && 'partnerId' in verified.claims).toBe(false);
    expect(verified.ok).toBe(true);
  });

  it('puts the user in sub and signs with HS256', async () => {
    const [header, payload] = (await signToken(rep, secret, { ttl: '30m', now: NOW })).split('.');
    expect(decodePart(header!)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodePart(payload!)).toEqual({
      sub: 'rep-1',
      role: 'rep',
      programId: 'prog-1',
      partnerId: 'partner-1',
      iss: TOKEN_ISSUER,
      aud: TOKEN_AUDIENCE,
      iat: NOW / 1000,
      exp: NOW / 1000 + 30 * 60,
      jti: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
  });

  it('is expired by the injected clock, after the clock tolerance and not before', async () => {
    const token = await signToken(rep, secret, { ttl: '90s', now: NOW });
    const expiry = NOW + 90_000;
    expect((await verifyToken(token, secret, expiry - 1)).ok).toBe(true);
    expect((await verifyToken(token, secret, expiry + CLOCK_TOLERANCE_SECONDS * 1000 - 1000)).ok).toBe(true);
    expect(await verifyToken(token, secret, expiry + CLOCK_TOLERANCE_SECONDS * 1000 + 1000)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await verifyToken(token, secret, NOW + 30 * 24 * HOUR)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a forged token (another secret) as invalid, even when it is also expired', async () => {
    const forged = await signToken(rep, otherSecret, { ttl: '8h', now: NOW });
    expect(await verifyToken(forged, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyToken(forged, secret, NOW + 100 * HOUR)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([
    ['another partner', { partnerId: 'partner-2' }],
    ['another role', { role: 'vendor_manager' }],
    ['a later expiry', { exp: NOW / 1000 + 1000 * 3600 }],
  ])('refuses a tampered payload (%s)', async (_what, change) => {
    const [header, payload, signature] = (await signToken(rep, secret, { ttl: '8h', now: NOW })).split('.');
    const tampered = [header, encodePart({ ...decodePart(payload!), ...change }), signature].join('.');
    expect(await verifyToken(tampered, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses the algorithm "none" and any algorithm but HS256', async () => {
    const unsecured = new UnsecuredJWT({ role: 'rep', programId: 'prog-1', partnerId: 'partner-1' })
      .setSubject('rep-1')
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 3600)
      .encode();
    expect(await verifyToken(unsecured, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
    // The good signature's header swapped for "none", the signature dropped.
    const [, payload] = (await signToken(rep, secret, { ttl: '8h', now: NOW })).split('.');
    expect(await verifyToken(`${encodePart({ alg: 'none', typ: 'JWT' })}.${payload}.`, secret, NOW)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const hs512 = await rawToken(
      { sub: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'partner-1' },
      secret,
      'HS512',
    );
    expect(await verifyToken(hs512, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('accepts a hand-made token of the right shape (the checks below fail for their claim alone)', async () => {
    const token = await rawToken({ sub: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'partner-1' });
    expect(await verifyToken(token, secret, NOW)).toMatchObject({ ok: true, claims: rep });
  });

  it.each([
    [
      'a vendor manager with a partnerId',
      { sub: 'vm-1', role: 'vendor_manager', programId: 'prog-1', partnerId: 'partner-1' },
    ],
    ['a rep without partnerId', { sub: 'rep-1', role: 'rep', programId: 'prog-1' }],
    ['a partner manager without partnerId', { sub: 'pm-1', role: 'partner_manager', programId: 'prog-1' }],
    ['an unknown role', { sub: 'x-1', role: 'admin', programId: 'prog-1' }],
    ['no role', { sub: 'x-1', programId: 'prog-1', partnerId: 'partner-1' }],
    ['no sub', { role: 'rep', programId: 'prog-1', partnerId: 'partner-1' }],
    ['no programId', { sub: 'rep-1', role: 'rep', partnerId: 'partner-1' }],
    [
      'a programId that is not an id',
      { sub: 'rep-1', role: 'rep', programId: '../prog-1', partnerId: 'partner-1' },
    ],
    [
      'a partnerId over 64 characters',
      { sub: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'p'.repeat(65) },
    ],
    ['a partnerId that is a number', { sub: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 7 }],
    [
      'a partnerId of null for a vendor manager',
      { sub: 'vm-1', role: 'vendor_manager', programId: 'prog-1', partnerId: null },
    ],
  ])('refuses a well-signed token whose claims are wrong: %s', async (_what, payload) => {
    expect(await verifyToken(await rawToken(payload), secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses another issuer, another audience, and no expiry', async () => {
    const claims = { role: 'rep', programId: 'prog-1', partnerId: 'partner-1' };
    const sign = (build: (jwt: SignJWT) => SignJWT) =>
      build(
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject('rep-1')
          .setIssuedAt(NOW / 1000),
      ).sign(secret);
    const exp = NOW / 1000 + 3600;
    const tokens = await Promise.all([
      sign((jwt) => jwt.setIssuer('someone-else').setAudience(TOKEN_AUDIENCE).setExpirationTime(exp)),
      sign((jwt) => jwt.setIssuer(TOKEN_ISSUER).setAudience('another-app').setExpirationTime(exp)),
      sign((jwt) => jwt.setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE)),
    ]);
    for (const token of tokens)
      expect(await verifyToken(token, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each(['', 'not-a-token', 'a.b.c', 'x'.repeat(10_000)])('calls garbage invalid: %j', async (token) => {
    expect(await verifyToken(token, secret, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('will not sign bad claims, a bad lifetime, or with a short secret', async () => {
    await expect(signToken({ ...vendor, partnerId: 'partner-1' }, secret, { ttl: '8h' })).rejects.toThrow(
      /partnerId is not given for a vendor manager/,
    );
    await expect(
      signToken({ userId: 'rep-1', role: 'rep', programId: 'prog-1' }, secret, { ttl: '8h' }),
    ).rejects.toThrow(/partnerId is required/);
    await expect(signToken(rep, secret, { ttl: '8 hours' })).rejects.toThrow(/not a lifetime/);
    await expect(signToken(rep, secret, { ttl: 0 })).rejects.toThrow(/whole number of seconds/);
    await expect(signToken(rep, secret, { ttl: 1.5 })).rejects.toThrow(/whole number of seconds/);
    await expect(signToken(rep, new Uint8Array(16), { ttl: '8h' })).rejects.toThrow(/at least 32 bytes/);
  });
});

describe('parseTtl', () => {
  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['8h', 28_800],
    ['7d', 604_800],
    ['1s', 1],
    ['365d', 31_536_000],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each(['', '8', 'h', '0h', '-1h', '1.5h', '8H', '8 h', ' 8h', '8h ', '8w', '1h30m', '08h', 'PT8H'])(
    'refuses %j with a clear message',
    (text) => {
      expect(() => parseTtl(text)).toThrow(
        /is not a lifetime: give a positive whole number followed by s, m, h or d \(e\.g\. 90s, 30m, 8h, 7d\)/,
      );
    },
  );

  it('refuses lifetimes over a year', () => {
    expect(() => parseTtl('366d')).toThrow(/longer than the longest lifetime, 365d/);
  });
});
