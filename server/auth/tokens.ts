/**
 * Signed access tokens (JWT, HS256): who the holder is, in which program and partner, until when.
 *
 * The clock is a parameter (`now`, epoch ms) so that expiry is decided by the caller's clock and
 * tests need no fake timers. Tokens are bearer secrets: nothing here logs or echoes one, and errors
 * never quote one.
 */
import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import * as v from 'valibot';
import { ID_PATTERN, ROLES, type Role } from '../../src/lib/domain/schema';
import type { TokenClaims } from './claims';

export const TOKEN_ISSUER = 'partner-kpi';
export const TOKEN_AUDIENCE = 'partner-kpi-sync';
const ALGORITHM = 'HS256';
/** Device clocks in the field drift; half a minute absorbs that without stretching a token's life much. */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** Revocation (revocations.ts) ends a token early; no token outlives a year all the same. */
export const MAX_TTL_SECONDS = 365 * 24 * 60 * 60;
/** HS256 is only as strong as its key: below 256 bits it is guessable offline from any one token. */
const MIN_SECRET_BYTES = 32;

const ID_RULE = "must be 1–64 letters, digits, '-', '_', '.' or ':' and start with a letter or digit";

const id = v.pipe(v.string(ID_RULE), v.regex(ID_PATTERN, ID_RULE));
const PARTNER_ROLES = ['rep', 'partner_manager'] as const satisfies readonly Role[];

/**
 * The only claim shapes there are. Issues carry the claim's key in their path, so a caller can say
 * which of its own inputs was wrong (the `token` command names its flags).
 */
export const claimsSchema = v.variant(
  'role',
  [
    v.object({ userId: id, role: v.picklist(PARTNER_ROLES), programId: id, partnerId: id }, (issue) =>
      issue.path?.[0]?.key === 'partnerId' ? 'is required for a rep or a partner manager' : 'is required',
    ),
    v.object(
      {
        userId: id,
        role: v.literal('vendor_manager'),
        programId: id,
        // A vendor manager belongs to no partner: a partner id here would be a mis-issued token.
        partnerId: v.optional(v.never('is not given for a vendor manager')),
      },
      'is required',
    ),
  ],
  `must be one of: ${ROLES.join(', ')}`,
);

// A role added to the domain must get a claim shape above: this stops compiling until it does.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyRoleShaped: Same<v.InferOutput<typeof claimsSchema>['role'], Role> = true;
void everyRoleShaped;

export type ClaimsCheck =
  { ok: true; claims: TokenClaims } | { ok: false; problems: { claim: string; message: string }[] };

/** Checks claims against the shapes above; each problem names its claim (`userId`, `role`, …). */
export function checkClaims(input: unknown): ClaimsCheck {
  const result = v.safeParse(claimsSchema, input);
  if (result.success) return { ok: true, claims: result.output };
  return {
    ok: false,
    problems: result.issues.map((issue) => ({
      claim: issue.path?.map((item) => String(item.key)).join('.') || 'claims',
      message: issue.message,
    })),
  };
}

const TTL_PATTERN = /^([1-9][0-9]{0,8})([smhd])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 60 * 60, d: 24 * 60 * 60 } as const;

/** A lifetime such as `90s`, `30m`, `8h` or `7d`, in seconds. */
export function parseTtl(text: string): number {
  const match = TTL_PATTERN.exec(text);
  if (!match) {
    throw new Error(
      `"${text}" is not a lifetime: give a positive whole number followed by s, m, h or d (e.g. 90s, 30m, 8h, 7d)`,
    );
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (seconds > MAX_TTL_SECONDS) throw new Error(`"${text}" is longer than the longest lifetime, 365d`);
  return seconds;
}

function ttlSeconds(ttl: string | number): number {
  if (typeof ttl === 'string') return parseTtl(ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
    throw new Error(
      `A token lifetime must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}; got ${ttl}`,
    );
  }
  return ttl;
}

function assertSecret(secret: Uint8Array): void {
  if (secret.byteLength < MIN_SECRET_BYTES)
    throw new Error(`The token secret must be at least ${MIN_SECRET_BYTES} bytes`);
}

/** A token for these claims, valid from `now` (default: the system clock) for `ttl` (seconds, or `8h`-style). */
export async function signToken(
  claims: TokenClaims,
  secret: Uint8Array,
  options: { ttl: string | number; now?: number },
): Promise<string> {
  assertSecret(secret);
  const checked = checkClaims(claims);
  if (!checked.ok) {
    throw new Error(
      `Cannot sign these claims: ${checked.problems.map((problem) => `${problem.claim} ${problem.message}`).join('; ')}`,
    );
  }
  const { userId, role, programId, partnerId } = checked.claims;
  const issuedAt = Math.floor((options.now ?? Date.now()) / 1000);
  return (
    new SignJWT(partnerId === undefined ? { role, programId } : { role, programId, partnerId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds(options.ttl))
      // The token's own id, so that one token can be revoked without its holder's others.
      .setJti(randomBytes(12).toString('hex'))
      .sign(secret)
  );
}

/** A genuine token: its claims, its id (absent in tokens signed before ids were), when it was issued and expires (epoch ms). */
export interface TokenFacts {
  claims: TokenClaims;
  tokenId?: string;
  issuedAt: number;
  expiresAt: number;
}

export type VerifiedToken = ({ ok: true } & TokenFacts) | { ok: false; reason: 'expired' | 'invalid' };

/** Rebuilds the claims from the payload, keeping a key only when the token has it (so "absent" stays absent). */
function claimsInput(payload: JWTPayload): Record<string, unknown> {
  const input: Record<string, unknown> = {
    userId: payload.sub,
    role: payload['role'],
    programId: payload['programId'],
  };
  if ('partnerId' in payload) input['partnerId'] = payload['partnerId'];
  return input;
}

/**
 * The claims of a token signed with `secret` by this app, unexpired at `now` (epoch ms, default: the
 * system clock). `expired` only for a genuine token past its expiry: the signature is checked first.
 */
export async function verifyToken(
  token: string,
  secret: Uint8Array,
  now: number = Date.now(),
): Promise<VerifiedToken> {
  assertSecret(secret);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, secret, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      typ: 'JWT',
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(now),
    }));
  } catch (error) {
    // Anything else — malformed, forged, another algorithm, another issuer — is simply not a token of ours.
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
  const checked = checkClaims(claimsInput(payload));
  if (!checked.ok || payload.exp === undefined) return { ok: false, reason: 'invalid' };
  const tokenId = typeof payload.jti === 'string' ? { tokenId: payload.jti } : {};
  return {
    ok: true,
    claims: checked.claims,
    ...tokenId,
    issuedAt: (payload.iat ?? 0) * 1000,
    expiresAt: payload.exp * 1000,
  };
}
