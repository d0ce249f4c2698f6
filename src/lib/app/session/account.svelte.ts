/**
 * Who is signed in on this device, as reactive state: their sign-in (token and claims), the
 * identity they act as, what their role lets them do, and whether their token has expired by this
 * device's clock (checked on sign-in and when the network returns).
 */
import type { Role } from '../../domain/schema';
import { identityOf, isExpired, isReadOnly, type Identity, type SignInRecord } from './identity';

export class Account {
  /** The token and its claims; undefined until signed in. */
  record = $state.raw<SignInRecord | undefined>();
  /** The token's expiry has passed by this device's clock. */
  tokenExpired = $state(false);
  readonly identity = $derived<Identity | undefined>(this.record && identityOf(this.record));

  get role(): Role | undefined {
    return this.record?.claims.role;
  }

  /** Sees every rep's records of the partner, not only their own. */
  get isManager(): boolean {
    return this.role === 'partner_manager' || this.role === 'vendor_manager';
  }

  /** A vendor manager: sees the whole program, opens any partner read-only, sets targets. */
  get isVendor(): boolean {
    return this.role === 'vendor_manager';
  }

  /** Whether the person has records of their own in the partner's data (a vendor manager has none). */
  get hasOwnRecords(): boolean {
    return this.role !== 'vendor_manager';
  }

  /** May only look at the partner's data: the screens offer no editing (the server would drop the changes anyway). */
  get readOnly(): boolean {
    return this.role !== undefined && isReadOnly(this.role);
  }

  /** May write the program document (targets): a vendor manager alone; the server drops anyone else's changes. */
  get canSetTargets(): boolean {
    return this.role === 'vendor_manager';
  }

  /** Signs `record` in (a new token for the same person, or another partner, replaces the one before). */
  signIn(record: SignInRecord, now: number): void {
    this.record = record;
    this.tokenExpired = isExpired(record.claims, now);
  }

  /** Looks at the clock again: the token may have expired meanwhile. */
  checkExpiry(now: number): void {
    if (this.record) this.tokenExpired = isExpired(this.record.claims, now);
  }

  forget(): void {
    this.record = undefined;
    this.tokenExpired = false;
  }
}
