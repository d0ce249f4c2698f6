/**
 * Who is signed in on this device, as plain data: the claims of their token (decoded by
 * sign-in.ts, not verified — only the server holds the secret), what the device keeps of a
 * sign-in, and the identity the screens and services act as. No runes, no I/O.
 */
import type { Role } from '../../domain/schema';

export interface Claims {
  userId: string;
  role: Role;
  programId: string;
  /** The rep's or partner manager's partner; absent for a vendor manager. */
  partnerId?: string;
  /** When the token stops being accepted (epoch ms). */
  expiresAt: number;
}

/** What the device keeps of a sign-in (the settings, store/device-settings.ts), and what it opens. */
export interface SignInRecord {
  token: string;
  claims: Claims;
  /** The partner whose data this device opens: the token's, or the one a vendor manager chose. */
  partnerId: string;
  /** The person's name, when the sign-in said it (the demo users do; a token does not). */
  name?: string;
}

/** Whose records the person works with: their program, the partner opened, and their own id (a record's `repId`). */
export interface Identity {
  programId: string;
  partnerId: string;
  repId: string;
}

export function identityOf(record: SignInRecord): Identity {
  return { programId: record.claims.programId, partnerId: record.partnerId, repId: record.claims.userId };
}

export function isExpired(claims: Claims, now: number): boolean {
  return claims.expiresAt <= now;
}

/** Whether this person may only look (the server drops their changes to partner data). */
export function isReadOnly(role: Role): boolean {
  return role === 'vendor_manager';
}
