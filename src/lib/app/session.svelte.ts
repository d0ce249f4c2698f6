/**
 * The signed-in person on this device and their partner's data, as reactive state for the screens.
 *
 * Who the person is comes from their sign-in token (its claims: user, role, program, partner),
 * kept in the settings with the token, so a signed-in device starts and works offline until the
 * token expires. The program's directory (program settings, partners, reps) comes with the app
 * until the program document is synced (sign-in.ts). The records come from the partner store's
 * projection; the KPIs from a rollup index kept current with every stored change, local or remote,
 * so a save or another device's change updates the screens without reading all records again.
 *
 * Once the store is loaded, the partner's document is connected to its room on the sync server
 * (sync/connection.ts); `sync` follows that connection for the header's indicator.
 */
import { PartnerKpiDb, type DealRow, type LeadRow } from '../store/db';
import { PartnerStore } from '../store/partner-store';
import type { Partner, Program, Rep, Role } from '../domain/schema';
import type { Rollup } from '../kpi/buckets';
import { connectRoom, type CloseReason, type RoomConnection, type SyncState } from '../sync/connection';
import { OPEN_MARKS } from './marks';
import { isExpired, isReadOnly, partnerRoom, syncUrlOf, type SignInRecord } from './sign-in';

export interface Identity {
  programId: string;
  partnerId: string;
  repId: string;
}

export interface Directory {
  program: Program;
  partners: Partner[];
  reps: Rep[];
}

const SIGN_IN_KEY = 'signIn';
const DIRECTORY_KEY = 'directory';

export interface SessionOptions {
  db?: PartnerKpiDb;
  /** The clock, injected so that tests and the demo can set "now". */
  now?: () => number;
  /** The sync endpoint (default: `/sync` on the server that served the app). */
  syncUrl?: string;
  /** The WebSocket constructor (default: the browser's). */
  WebSocket?: typeof WebSocket;
}

export class Session {
  status = $state<'loading' | 'signin' | 'ready' | 'failed'>('loading');
  failure = $state<string>('');
  /** The token and its claims; undefined until signed in. */
  signIn = $state.raw<SignInRecord | undefined>();
  identity = $state<Identity | undefined>();
  directory = $state<Directory | undefined>();
  /** Bumped after every stored change: screens that derive from records depend on it. */
  version = $state(0);
  /** Whether the browser promised to keep this site's storage (navigator.storage.persist). */
  storagePersisted = $state<boolean | undefined>();
  leads = $state.raw<LeadRow[]>([]);
  deals = $state.raw<DealRow[]>([]);
  store: PartnerStore | undefined;
  /** Whether the records (not only the KPIs) are loaded: lists and forms wait for them. */
  rowsReady = $state(false);
  /** How the partner's document stands with the server (sync SPEC.md C5); undefined until the records are loaded and it connects. */
  sync = $state.raw<SyncState | undefined>();
  /** Whether the device has a network, as the browser says (online/offline events). */
  online = $state(true);
  /** The token's expiry has passed by this device's clock (checked on open and when the network returns). */
  tokenExpired = $state(false);

  readonly db: PartnerKpiDb;
  readonly now: () => number;

  /** Another tab keeps an older version of the database open: this one waits until it closes. */
  blockedByOtherTab = $state(false);

  private connection: RoomConnection | undefined;
  private stopRows: () => void = () => {};
  private readonly options: SessionOptions;

  constructor(options: SessionOptions = {}) {
    this.options = options;
    this.db = options.db ?? new PartnerKpiDb();
    this.now = options.now ?? (() => Date.now());
    this.db.on('blocked', () => {
      this.blockedByOtherTab = true;
    });
    this.db.on('ready', () => {
      this.blockedByOtherTab = false;
    });
  }

  /** The KPI buckets of the partner's records (read `version` to follow changes). */
  get rollup(): Rollup | undefined {
    return this.store?.rollup();
  }

  get program(): Program | undefined {
    return this.directory?.program;
  }

  get rep(): Rep | undefined {
    return this.directory?.reps.find((rep) => rep.id === this.identity?.repId);
  }

  get partner(): Partner | undefined {
    return this.directory?.partners.find((partner) => partner.id === this.identity?.partnerId);
  }

  get role(): Role | undefined {
    return this.signIn?.claims.role;
  }

  /** The person's name for greetings and the header. */
  get personName(): string {
    return this.rep?.name ?? this.signIn?.name ?? this.signIn?.claims.userId ?? '';
  }

  /** Sees every rep's records of the partner, not only their own. */
  get isManager(): boolean {
    return this.role === 'partner_manager' || this.role === 'vendor_manager';
  }

  /** Whether the person has records of their own in the partner's data (a vendor manager has none). */
  get hasOwnRecords(): boolean {
    return this.role !== 'vendor_manager';
  }

  /** May only look: the screens offer no editing (the server would drop the changes anyway). */
  get readOnly(): boolean {
    return this.role !== undefined && isReadOnly(this.role);
  }

  /** Local changes the server does not have yet (sync SPEC.md C2). */
  get pendingChanges(): number {
    return this.sync?.pendingChanges ?? 0;
  }

  /** Why the server will not sync, counting an expiry this device's clock knows of before the server says so. */
  get closeReason(): CloseReason | undefined {
    return this.sync?.closeReason ?? (this.tokenExpired ? 'expired-token' : undefined);
  }

  async start(): Promise<void> {
    try {
      const [signIn, directory] = await Promise.all([this.db.settings.get(SIGN_IN_KEY), this.db.settings.get(DIRECTORY_KEY)]);
      if (!signIn || !directory) {
        this.status = 'signin';
        return;
      }
      await this.openPartner(signIn.value as SignInRecord, directory.value as Directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Whether signing in as `record` opens other data than this device holds now. */
  replacesData(record: SignInRecord): boolean {
    return this.store !== undefined && this.store.room !== partnerRoom(record.claims.programId, record.partnerId);
  }

  /**
   * Signs in: keeps the token and the directory and opens the partner's data. A new token for the
   * data already open (signing in again after an expiry) keeps everything, unsent changes included,
   * and reconnects; a sign-in for other data replaces this device's (the caller warned first).
   */
  async signInWith(record: SignInRecord, directory: Directory): Promise<void> {
    try {
      const sameData = this.store !== undefined && !this.replacesData(record);
      if (this.store && !sameData) await this.removeLocalData();
      await this.db.settings.bulkPut([
        { key: SIGN_IN_KEY, value: record },
        { key: DIRECTORY_KEY, value: directory },
      ]);
      if (sameData && this.store) {
        this.signIn = record;
        this.identity = identityOf(record);
        this.directory = directory;
        this.tokenExpired = isExpired(record.claims, this.now());
        if (this.rowsReady) this.connect(this.store);
      } else {
        await this.openPartner(record, directory);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** Forgets the sign-in and removes every record from this device (the caller warned about unsent changes). */
  async signOut(): Promise<void> {
    try {
      await this.removeLocalData();
      this.status = 'signin';
    } catch (error) {
      this.fail(error);
    }
  }

  /** Removes this device's copy of the partner's data and loads it again from the server; the sign-in stays. */
  async clearLocalData(): Promise<void> {
    const record = this.signIn;
    const directory = this.directory;
    if (!record || !directory) return;
    try {
      await this.removeLocalData();
      await this.db.settings.bulkPut([
        { key: SIGN_IN_KEY, value: record },
        { key: DIRECTORY_KEY, value: directory },
      ]);
      await this.openPartner(record, directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** The browser's network came or went. */
  setOnline(online: boolean): void {
    this.online = online;
    if (this.signIn) this.tokenExpired = isExpired(this.signIn.claims, this.now());
    this.connection?.setOnline(online && !this.tokenExpired);
  }

  private async openPartner(record: SignInRecord, directory: Directory): Promise<void> {
    this.closePartner();
    this.rowsReady = false;
    const identity = identityOf(record);
    const store = await PartnerStore.open(this.db, partnerRoom(identity.programId, identity.partnerId), directory.program.timeZone);
    performance.mark(OPEN_MARKS.document);
    this.store = store;
    this.signIn = record;
    this.identity = identity;
    this.directory = directory;
    this.tokenExpired = isExpired(record.claims, this.now());
    // The KPIs can show now, from the stored buckets; the records follow.
    this.status = 'ready';
    await store.ready;
    const { leads, deals } = await store.loadRows();
    performance.mark(OPEN_MARKS.rows);
    const leadPositions = new Positions(leads);
    const dealPositions = new Positions(deals);
    this.leads = leads;
    this.deals = deals;
    // Local and remote changes alike: every stored change replaces its rows, so the screens follow
    // another device's edits as they arrive.
    this.stopRows = store.subscribe((change) => {
      this.leads = leadPositions.replace(this.leads, change.leads);
      this.deals = dealPositions.replace(this.deals, change.deals);
      this.version++;
    });
    this.rowsReady = true;
    // The buckets may have been rebuilt while loading.
    this.version++;
    // Only now: a remote change arriving before the rows were read would be missing from the lists.
    this.connect(store);
  }

  private connect(store: PartnerStore): void {
    this.connection?.destroy();
    const record = this.signIn!;
    const connection = connectRoom({
      doc: store.partnerDoc.doc,
      url: this.options.syncUrl ?? syncUrlOf(location),
      room: store.room,
      token: record.token,
      now: this.now,
      WebSocket: this.options.WebSocket,
      ledger: store.syncLedger,
      readOnly: isReadOnly(record.claims.role),
      // An expired token would only be refused: wait for a new sign-in instead.
      online: this.online && !this.tokenExpired,
    });
    this.connection = connection;
    connection.subscribe((state) => {
      this.sync = state;
    });
  }

  private closePartner(): void {
    this.connection?.destroy();
    this.connection = undefined;
    this.sync = undefined;
    this.stopRows();
    this.stopRows = () => {};
    this.store?.close();
    this.store = undefined;
  }

  /** Closes the partner's data and empties the database (records, update log, settings). */
  private async removeLocalData(): Promise<void> {
    const store = this.store;
    this.connection?.destroy();
    this.connection = undefined;
    if (store) {
      // Let a load or a save in progress finish, so that nothing is written after the clearing.
      await store.ready.catch(() => {});
      await store.settled();
    }
    this.closePartner();
    await this.db.transaction('rw', this.db.tables, () => Promise.all(this.db.tables.map((table) => table.clear())));
    this.leads = [];
    this.deals = [];
    this.rowsReady = false;
    this.signIn = undefined;
    this.identity = undefined;
    this.directory = undefined;
    this.tokenExpired = false;
    this.version++;
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.status = 'failed';
  }
}

function identityOf(record: SignInRecord): Identity {
  return { programId: record.claims.programId, partnerId: record.partnerId, repId: record.claims.userId };
}

/**
 * Where each record is in a list, so that a change replaces its rows without scanning the list
 * (60,000 records on a phone: a save must not cost a pass over all of them).
 */
class Positions<T extends { id: string }> {
  private readonly index = new Map<string, number>();

  constructor(rows: T[]) {
    rows.forEach((row, position) => this.index.set(row.id, position));
  }

  /** A new list (the screens see a new value) with the changed rows replaced or added. */
  replace(rows: T[], changed: T[]): T[] {
    if (changed.length === 0) return rows;
    const next = rows.slice();
    for (const row of changed) {
      const position = this.index.get(row.id);
      if (position === undefined) {
        this.index.set(row.id, next.length);
        next.push(row);
      } else {
        next[position] = row;
      }
    }
    return next;
  }
}
