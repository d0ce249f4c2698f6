/**
 * The sign-in screen's state: a token from a sign-in link, or a person chosen from the demo
 * program's users; a vendor manager also chooses which partner to open (read-only). The screen
 * only lays this out (src/lib/ui/SignIn.svelte).
 */
import type { Partner } from '../domain/schema';
import type { Session } from './session';
import { isExpired, type Claims, type SignInRecord } from './session/identity';
import {
  claimsOf,
  demoSignIn,
  directoryFor,
  fetchDemoUsers,
  fetchVendorPartners,
  type DemoUser,
  type Fetch,
} from './sign-in';

/** The partner list's entry for the vendor's own people (they belong to no partner). */
export const VENDOR_TEAM = '';

export type SignInError = 'link-invalid' | 'link-expired' | 'failed';

/** Asks the person whether to go on although `count` unsent changes would be removed; true to go on. */
export type ConfirmLoss = (count: number) => boolean;

export class SignInFlow {
  /** The demo users; undefined while loading or when the server offers none (`demoOffered`). */
  users = $state.raw<DemoUser[] | undefined>();
  demoOffered = $state<boolean | undefined>();
  /** The chosen partner (VENDOR_TEAM for the vendor's people). */
  partnerKey = $state<string | undefined>();
  userId = $state('');
  /** The partner a vendor manager opens. */
  openPartnerId = $state('');
  /** A vendor manager's token from a sign-in link, waiting for the choice of partner. */
  linkClaims = $state.raw<Claims | undefined>();
  /** Partners a vendor manager may open (from the demo users, or the directory). */
  vendorPartners = $state.raw<{ id: string; name: string }[]>([]);
  busy = $state(false);
  error = $state<SignInError | undefined>();
  private linkToken: string | undefined;

  constructor(
    private readonly session: Session,
    private readonly fetcher: Fetch,
  ) {}

  /** Partners of the demo users, in the server's order, then the vendor team if it has people. */
  get partnerChoices(): { key: string; name: string }[] {
    const choices = new Map<string, string>();
    for (const user of this.users ?? [])
      if (user.partnerId) choices.set(user.partnerId, user.partnerName ?? user.partnerId);
    return [...choices].map(([key, name]) => ({ key, name }));
  }

  get hasVendorTeam(): boolean {
    return (this.users ?? []).some((user) => user.partnerId === undefined);
  }

  /** The people of the chosen partner (or of the vendor team). */
  get people(): DemoUser[] {
    const key = this.partnerKey ?? '';
    return (this.users ?? []).filter((user) => (user.partnerId ?? VENDOR_TEAM) === key);
  }

  get chosenUser(): DemoUser | undefined {
    return this.people.find((user) => user.userId === this.userId) ?? this.people[0];
  }

  /** Whether the person signing in must choose a partner to open. */
  get choosesPartner(): boolean {
    return this.linkClaims !== undefined || this.chosenUser?.role === 'vendor_manager';
  }

  /** Loads the demo users and preselects the person signed in now (signing in again), or the first partner. */
  async load(): Promise<void> {
    const users = await fetchDemoUsers(this.fetcher);
    this.users = users;
    this.demoOffered = users !== undefined && users.length > 0;
    const current = this.session.signIn;
    const mine = current ? users?.find((user) => user.userId === current.claims.userId) : undefined;
    this.partnerKey = mine
      ? (mine.partnerId ?? VENDOR_TEAM)
      : (this.partnerChoices[0]?.key ?? (this.hasVendorTeam ? VENDOR_TEAM : undefined));
    this.userId = mine?.userId ?? this.people[0]?.userId ?? '';
    this.vendorPartners = this.partnerChoices.map(({ key, name }) => ({ id: key, name }));
    if (current && current.claims.role === 'vendor_manager') this.openPartnerId = current.partnerId;
    this.openPartnerId ||= this.vendorPartners[0]?.id ?? '';
  }

  /** Keeps the chosen person one of the chosen partner's people. */
  choosePartner(key: string): void {
    this.partnerKey = key;
    if (!this.people.some((user) => user.userId === this.userId)) this.userId = this.people[0]?.userId ?? '';
  }

  /**
   * A sign-in link's token: signs in at once, or for a vendor manager waits for the choice of
   * partner. True when signed in.
   */
  async useLinkToken(token: string, confirmLoss: ConfirmLoss): Promise<boolean> {
    const claims = claimsOf(token);
    if (!claims) return this.failWith('link-invalid');
    if (isExpired(claims, this.session.now())) return this.failWith('link-expired');
    if (claims.partnerId) return this.finish(token, claims, claims.partnerId, confirmLoss);
    this.linkToken = token;
    this.linkClaims = claims;
    if (this.vendorPartners.length === 0) {
      const directory = await directoryFor(claims, undefined, this.session.now());
      this.vendorPartners = directory.partners.map((partner: Partner) => ({
        id: partner.id,
        name: partner.name,
      }));
      // A program the app does not carry: the server lists its partners to its vendor staff.
      if (this.vendorPartners.length === 0)
        this.vendorPartners = (await fetchVendorPartners(this.fetcher, token)) ?? [];
      this.openPartnerId ||= this.vendorPartners[0]?.id ?? '';
    }
    return false;
  }

  /** Signs in as the chosen demo user, or with the waiting link token. True when signed in. */
  async submit(confirmLoss: ConfirmLoss): Promise<boolean> {
    if (this.linkToken && this.linkClaims)
      return this.finish(this.linkToken, this.linkClaims, this.openPartnerId, confirmLoss);
    const user = this.chosenUser;
    if (!user) return false;
    this.busy = true;
    this.error = undefined;
    const token = await demoSignIn(this.fetcher, user.userId);
    const claims = token ? claimsOf(token) : undefined;
    if (!token || !claims) return this.failWith('failed');
    return this.finish(token, claims, user.partnerId ?? this.openPartnerId, confirmLoss);
  }

  private async finish(
    token: string,
    claims: Claims,
    partnerId: string,
    confirmLoss: ConfirmLoss,
  ): Promise<boolean> {
    if (!partnerId) return false;
    this.busy = true;
    this.error = undefined;
    const name = this.users?.find((user) => user.userId === claims.userId)?.name;
    const record: SignInRecord = { token, claims, partnerId, ...(name ? { name } : {}) };
    const unsent = this.session.pendingChanges;
    if (this.session.replacesData(record) && unsent > 0 && !confirmLoss(unsent)) {
      this.busy = false;
      return false;
    }
    const directory = await directoryFor(claims, partnerId, this.session.now(), this.users ?? []);
    await this.session.signInWith(record, directory);
    this.busy = false;
    return this.session.status === 'ready';
  }

  private failWith(error: SignInError): false {
    this.error = error;
    this.busy = false;
    return false;
  }
}
