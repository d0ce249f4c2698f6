/**
 * The signed-in person on this device, their program's document and their partner's data, as
 * reactive state for the screens.
 *
 * Who the person is comes from their sign-in token (its claims: user, role, program, partner),
 * kept in the settings with the token, so a signed-in device starts and works offline until the
 * token expires. The program's directory (program settings, partners, reps) and its targets come
 * from a program-level document kept in IndexedDB (store/program-store.ts): for vendor staff the
 * program document itself (room `program/<programId>`), for a partner's people their partner's
 * channel (`…/partner/<partnerId>/channel`), which holds only what they may read (sync SPEC P7).
 * Vendor staff also keep every partner's KPI rollup, from the rollups room; a partner's channel
 * also holds the program benchmark as that partner sees it. Until the program-level
 * document has first synced, the directory the sign-in gave stands in (sign-in.ts). The records
 * come from the partner store's projection; the KPIs from a rollup index kept current with every
 * stored change, local or remote, so a save or another device's change updates the screens
 * without reading all records again.
 *
 * Every document is connected to its room on the sync server (sync/connection.ts): the program-level
 * ones as soon as they are open, the partner's once its records are loaded. `sync` follows the
 * partner's connection, `programSync` the program-level ones, and `syncSummary` all, for the header.
 * A vendor manager reads every partner of the program and can switch the opened one
 * (`openPartnerAs`) without signing out; the partners' documents they opened stay in the update log,
 * so each opens offline from its last synced state.
 *
 * Tabs of the app share the device's data: each room's document is kept equal across them through
 * a channel per room and person (sync/tab-channel.ts, SPEC T1–T5), and a tab that removes the data
 * first has the others close theirs (store/local-data.ts, T6).
 */
import { dropRoom, PartnerKpiDb, type DealRow, type LeadRow } from '../store/db';
import { PartnerStore } from '../store/partner-store';
import { noJournal, removeJournals } from '../store/journal';
import { LocalDataTabs, type Locks } from '../store/local-data';
import type { WriteResult } from '../store/write-result';
import { ProgramStore, type ProgramRollups, type ProgramTotals } from '../store/program-store';
import type {
  Partner,
  Program,
  ProgramDirectory,
  Rep,
  Role,
  StaffMember,
  Target,
  TargetEntry,
} from '../domain/schema';
import type { Rollup } from '../kpi/buckets';
import type { CloseReason, ConnectOptions, RoomConnection, SyncState } from '../sync/connection';
import type { SyncLedger } from '../sync/pending-changes';
import { OPEN_MARKS } from './marks';
import { combineSyncStates } from './sync-view';
import { channelRoom, partnerRoom, programRoom, rollupsRoom, syncUrlOf } from '../sync/rooms';
import type { Benchmark } from '../kpi/benchmark';
import { formatDay, type DayRange } from '../kpi/calendar';
import { isExpired, isReadOnly, type SignInRecord } from './sign-in';

export interface Identity {
  programId: string;
  partnerId: string;
  repId: string;
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
  /** The BroadcastChannel constructor between tabs (default: the browser's). */
  BroadcastChannel?: typeof BroadcastChannel;
  /** The Web Locks of the tabs (default: `navigator.locks`). */
  locks?: Locks;
}

export class Session {
  status = $state<'loading' | 'signin' | 'ready' | 'failed'>('loading');
  failure = $state<string>('');
  /** The token and its claims; undefined until signed in. */
  signIn = $state.raw<SignInRecord | undefined>();
  identity = $state<Identity | undefined>();
  /** The program document's directory once it has synced; the sign-in's until then. */
  directory = $state<ProgramDirectory | undefined>();
  /** Bumped after every stored change: screens that derive from records depend on it. */
  version = $state(0);
  /** Bumped after every stored change of the program document (targets, rollups, directory). */
  programVersion = $state(0);
  /** Whether the browser promised to keep this site's storage (navigator.storage.persist). */
  storagePersisted = $state<boolean | undefined>();
  leads = $state.raw<LeadRow[]>([]);
  deals = $state.raw<DealRow[]>([]);
  /** The opened partner's data; reactive, so that screens wait while another partner is being opened. */
  store = $state.raw<PartnerStore | undefined>();
  /**
   * The same, as soon as its stored rows can be read, before its KPI buckets are (`store` then):
   * the lists read their first screen from it (store/list-query.ts).
   */
  rowsStore = $state.raw<PartnerStore | undefined>();
  programStore: ProgramStore | undefined;
  /** Every partner's KPI rollup, for vendor staff (the rollups room, P7); undefined for a partner's people. */
  figuresStore: ProgramStore | undefined;
  /** Whether the records (not only the KPIs) are loaded: lists and forms wait for them. */
  rowsReady = $state(false);
  /** How the partner's document stands with the server (sync SPEC.md C5); undefined until the records are loaded and it connects. */
  sync = $state.raw<SyncState | undefined>();
  /** How the program document (or the partner's channel) stands with the server; undefined until it connects. */
  programSync = $state.raw<SyncState | undefined>();
  /** How the figures document stands with the server; undefined until it connects. */
  figuresSync = $state.raw<SyncState | undefined>();
  /** Whether the device has a network, as the browser says (online/offline events). */
  online = $state(true);
  /** The token's expiry has passed by this device's clock (checked on open and when the network returns). */
  tokenExpired = $state(false);

  readonly db: PartnerKpiDb;
  /** The clock (injected: tests and the demo set "now"); not reactive: screens read `currentTime`. */
  readonly now: () => number;
  /** Bumped by `tick()` (the layout, every minute). */
  private clockTicks = $state(0);

  /** Another tab keeps an older version of the database open: this one waits until it closes. */
  blockedByOtherTab = $state(false);

  private connection: RoomConnection | undefined;
  /**
   * y-websocket and the sync protocol, loaded beside the first screen rather than in it (the Today
   * screen's JavaScript budget): nothing is shown before the records are loaded anyway.
   */
  private readonly connections = Promise.all([import('../sync/connection'), import('../sync/tab-channel')]);
  /** The other tabs' use of the device's data (T6). */
  private readonly localData: LocalDataTabs;
  /** Bumped to cancel a connection still waiting for that module. */
  private connectionRequest = 0;
  private programConnectionRequest = 0;
  private programConnection: RoomConnection | undefined;
  private figuresConnection: RoomConnection | undefined;
  /** The token the program connection offers: a new one (signing in again) needs a new connection. */
  private programConnectionToken: string | undefined;
  private stopRows: () => void = () => {};
  private stopProgram: () => void = () => {};
  /** The directory the sign-in gave, standing in until the program document has a program. */
  private signInDirectory: ProgramDirectory | undefined;
  /** Opening or switching the partner, one at a time: a later one waits for the one before. */
  private opening: Promise<void> = Promise.resolve();
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
    this.localData = new LocalDataTabs(this.db.name, {
      BroadcastChannel: options.BroadcastChannel,
      locks: options.locks,
    });
    this.localData.onRemoving(() => this.otherTabRemovesData());
  }

  /**
   * The time, as reactive state: what a screen derives from it ("2 h ago", this month's range,
   * overdue deals) follows it while the screen stays open, a minute at a time.
   */
  get currentTime(): number {
    void this.clockTicks;
    return this.now();
  }

  /** The clock moved on: screens that read `currentTime` update. */
  tick(): void {
    this.clockTicks++;
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

  /** The vendor's staff member signed in, when the program document lists them. */
  get staffMember(): StaffMember | undefined {
    void this.programVersion;
    return this.programStore?.staff().find((member) => member.id === this.signIn?.claims.userId);
  }

  /** The person's name for greetings and the header. */
  get personName(): string {
    return this.rep?.name ?? this.staffMember?.name ?? this.signIn?.name ?? this.signIn?.claims.userId ?? '';
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

  /** Every partner's quarterly targets (follows the program document). */
  get targets(): TargetEntry[] {
    void this.programVersion;
    return this.programStore?.targets() ?? [];
  }

  /** Every partner's KPI buckets by month as the server folded them, and the partners whose figures cannot be read. */
  get partnerRollups(): ProgramRollups {
    void this.programVersion;
    return this.figuresStore?.rollups() ?? { rollups: new Map(), problems: new Map() };
  }

  /** The whole program's KPI buckets by day as the server folded them, for vendor staff. */
  get programTotals(): ProgramTotals {
    void this.programVersion;
    return this.figuresStore?.totals() ?? { problem: 'not signed in as vendor staff' };
  }

  /** The program benchmark published for exactly this range in the partner's channel (V1), if any. */
  benchmark(range: DayRange): Benchmark | undefined {
    void this.programVersion;
    const tz = this.program?.timeZone;
    return tz
      ? this.programStore?.benchmark({ from: formatDay(range.fromDay), to: formatDay(range.toDay), tz })
      : undefined;
  }

  /** Local changes the server does not have yet, in every document (sync SPEC.md C2). */
  get pendingChanges(): number {
    return (
      (this.sync?.pendingChanges ?? 0) +
      (this.programSync?.pendingChanges ?? 0) +
      (this.figuresSync?.pendingChanges ?? 0)
    );
  }

  /** Why the server will not sync, counting an expiry this device's clock knows of before the server says so. */
  get closeReason(): CloseReason | undefined {
    return (
      this.sync?.closeReason ??
      this.programSync?.closeReason ??
      this.figuresSync?.closeReason ??
      (this.tokenExpired ? 'expired-token' : undefined)
    );
  }

  /** Every connection as one, for the header: the least advanced status, every unsent change. */
  get syncSummary(): SyncState | undefined {
    return combineSyncStates([this.sync, this.programSync, this.figuresSync]);
  }

  async start(): Promise<void> {
    try {
      const [signIn, directory] = await Promise.all([
        this.db.settings.get(SIGN_IN_KEY),
        this.db.settings.get(DIRECTORY_KEY),
      ]);
      if (!signIn || !directory) {
        this.status = 'signin';
        return;
      }
      await this.openPartner(signIn.value as SignInRecord, directory.value as ProgramDirectory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Whether signing in as `record` opens other data than this device holds now. */
  replacesData(record: SignInRecord): boolean {
    if (this.programStore !== undefined && this.programStore.room !== programLevelRoom(record)) return true;
    // A vendor manager of this program keeps the documents: opening another partner is a switch, not a replacement.
    if (
      this.role === 'vendor_manager' &&
      record.claims.role === 'vendor_manager' &&
      this.programStore !== undefined
    )
      return false;
    return (
      this.store !== undefined && this.store.room !== partnerRoom(record.claims.programId, record.partnerId)
    );
  }

  /**
   * Signs in: keeps the token and the directory and opens the partner's data. A new token for the
   * data already open (signing in again after an expiry) keeps everything, unsent changes included,
   * and reconnects; a sign-in for other data replaces this device's (the caller warned first).
   */
  async signInWith(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    try {
      const sameData = this.store !== undefined && !this.replacesData(record);
      if (this.store && !sameData) await this.removeLocalData();
      await this.db.settings.bulkPut([
        { key: SIGN_IN_KEY, value: record },
        { key: DIRECTORY_KEY, value: directory },
      ]);
      if (
        sameData &&
        this.store &&
        this.store.room === partnerRoom(record.claims.programId, record.partnerId)
      ) {
        this.signIn = record;
        this.identity = identityOf(record);
        this.signInDirectory = directory;
        this.refreshDirectory();
        this.tokenExpired = isExpired(record.claims, this.now());
        this.connectProgram();
        if (this.rowsReady) await this.connect(this.store);
      } else {
        await this.openPartner(record, directory);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * A vendor manager opens another partner of the program, read-only, without signing out: the
   * program document stays open; the partner's document is opened from its stored updates (so a
   * partner opened before shows offline) and synced from its room.
   */
  async openPartnerAs(partnerId: string): Promise<void> {
    const record = this.signIn;
    const directory = this.signInDirectory;
    if (!record || !directory || record.claims.role !== 'vendor_manager') return;
    if (record.partnerId === partnerId && this.store) return this.opening;
    const next: SignInRecord = { ...record, partnerId };
    try {
      await this.db.settings.put({ key: SIGN_IN_KEY, value: next });
      await this.openPartner(next, directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Closes the connections and the documents, keeping everything stored (as closing the tab does); the session is done. */
  async close(): Promise<void> {
    await this.closeStores();
    this.localData.close();
  }

  private async closeStores(): Promise<void> {
    await this.opening;
    const stores = [this.programStore, this.figuresStore];
    await this.closePartner();
    for (const store of stores) await store?.settled();
    this.closeProgram();
    this.localData.release();
  }

  /**
   * Another tab signs out or clears the data (T6): this one closes everything, its saves in
   * progress stored first, lets the other remove the data, then starts over from what is left — the
   * sign-in screen, or the data loaded again from the server.
   */
  private async otherTabRemovesData(): Promise<void> {
    try {
      await this.closeStores();
      this.status = 'loading';
      this.forgetData();
      await this.localData.afterRemoval();
      await this.start();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Resolves when the partner being opened (a sign-in, a switch, a new time zone) is open. */
  async opened(): Promise<void> {
    await this.opening;
  }

  /** Sets a partner's target for a quarter in the program document (a vendor manager's). */
  async setTarget(
    partnerId: string,
    quarter: string,
    target: Omit<Target, 'setAt' | 'setBy'>,
  ): Promise<WriteResult<TargetEntry>> {
    const store = this.programStore;
    const userId = this.signIn?.claims.userId;
    if (!store || !userId || !this.canSetTargets)
      return { ok: false, problems: [{ field: '', message: 'Only a vendor manager can set targets.' }] };
    return store.setTarget(partnerId, quarter, { ...target, setAt: this.now(), setBy: userId });
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
    const directory = this.signInDirectory;
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
    this.programConnection?.setOnline(online && !this.tokenExpired);
    this.figuresConnection?.setOnline(online && !this.tokenExpired);
    this.connection?.setOnline(online && !this.tokenExpired);
  }

  /** Opens the partner (and the program document, when it is not open yet); one opening at a time. */
  private openPartner(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    const opened = this.opening.then(() => this.openPartnerNow(record, directory));
    this.opening = opened.catch(() => {});
    return opened;
  }

  private async openPartnerNow(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    await this.closePartner();
    // Waits while another tab removes the data (T6).
    await this.localData.hold();
    this.rowsReady = false;
    const identity = identityOf(record);
    this.signIn = record;
    this.identity = identity;
    this.signInDirectory = directory;
    this.tokenExpired = isExpired(record.claims, this.now());
    // The program document opens beside the partner's stored KPIs, not before them: until it is
    // open, the directory the sign-in gave stands in (and names the zone of the buckets).
    const programOpened = this.openProgram(record);
    programOpened.catch(() => {}); // awaited below, unless the partner fails to open first
    this.refreshDirectory();
    const tz = this.directory!.program.timeZone;
    // Someone who only reads the partner's data saves nothing: no journal worker for them.
    const store = await PartnerStore.openBeforeKpis(
      this.db,
      partnerRoom(identity.programId, identity.partnerId),
      tz,
      isReadOnly(record.claims.role) ? noJournal : undefined,
      {
        by: identity.repId,
        now: this.now,
      },
    );
    // The lists' first screen can be read now; the KPIs once their buckets are.
    this.rowsStore = store;
    await store.kpisLoaded;
    performance.mark(OPEN_MARKS.document);
    this.store = store;
    // The KPIs can show now, from the stored buckets; the program's targets and the records follow.
    this.status = 'ready';
    await programOpened;
    // The program document's directory, once it has one (the partner is opened again if its zone differs).
    this.refreshDirectory();
    let leadPositions = new Positions<LeadRow>([]);
    let dealPositions = new Positions<DealRow>([]);
    // The rows the store read while loading, then every stored change, local and remote alike:
    // each replaces its rows, so the screens follow another device's edits as they arrive.
    this.stopRows = await store.follow(
      ({ leads, deals }) => {
        performance.mark(OPEN_MARKS.rows);
        leadPositions = new Positions(leads);
        dealPositions = new Positions(deals);
        this.leads = leads;
        this.deals = deals;
      },
      (change) => {
        this.leads = leadPositions.replace(this.leads, change.leads);
        this.deals = dealPositions.replace(this.deals, change.deals);
        this.version++;
      },
    );
    this.rowsReady = true;
    // The buckets may have been rebuilt while loading.
    this.version++;
    // Only now: a remote change arriving before the rows were read would be missing from the lists.
    await this.connect(store);
  }

  /**
   * Opens the program-level documents from their stored updates and connects them (the program
   * document or the partner's channel, and the figures); keeps them when they are open already. A partner's device drops a program document an older version kept (P7).
   */
  private async openProgram(record: SignInRecord): Promise<void> {
    const room = programLevelRoom(record);
    if (this.programStore?.room === room) {
      // A new sign-in (a new token) for the same program reconnects with it; a partner switch does not.
      if (this.programConnectionToken !== this.signIn?.token) this.connectProgram();
      return;
    }
    this.closeProgram();
    const vendor = record.claims.role === 'vendor_manager';
    if (!vendor) await dropRoom(this.db, programRoom(record.claims.programId));
    const opened = await Promise.allSettled([
      ProgramStore.open(this.db, room),
      vendor ? ProgramStore.open(this.db, rollupsRoom(record.claims.programId)) : undefined,
    ]);
    const failed = opened.find((result) => result.status === 'rejected');
    if (failed) {
      // The one that did open is closed again, not left holding its document.
      for (const result of opened) if (result.status === 'fulfilled') result.value?.close();
      throw failed.reason;
    }
    const [store, figures] = opened.map((result) =>
      result.status === 'fulfilled' ? result.value : undefined,
    );
    if (!store) throw new Error(`the program document ${room} did not open`);
    this.programStore = store;
    this.figuresStore = figures;
    const stops = [
      store.subscribe((changed) => {
        this.programVersion++;
        if (changed.meta || changed.partners.size || changed.reps.size) this.refreshDirectory();
      }),
      figures?.subscribe(() => this.programVersion++),
    ];
    this.stopProgram = () => stops.forEach((stop) => stop?.());
    this.programVersion++;
    this.connectProgram();
  }

  /**
   * The directory from the program document once it has a program, the sign-in's until then. The
   * partner's KPI buckets are days in the program's zone: if the document says another zone than
   * the one they were built in, the partner is opened again in it.
   */
  private refreshDirectory(): void {
    const fromDocument = this.programStore?.directory();
    const directory = fromDocument ?? this.signInDirectory;
    if (!directory) return;
    this.directory = { program: directory.program, partners: directory.partners, reps: directory.reps };
    if (fromDocument) this.reopenInProgramZone();
  }

  /**
   * After the opening in progress (which may have started in the sign-in's zone), opens the partner
   * again if its buckets are not in the program's zone.
   */
  private reopenInProgramZone(): void {
    const reopened = this.opening.then(async () => {
      const tz = this.programStore?.directory()?.program.timeZone;
      const record = this.signIn;
      const directory = this.signInDirectory;
      if (!tz || !record || !directory || !this.store || this.store.tz === tz) return;
      await this.openPartnerNow(record, directory);
    });
    this.opening = reopened.catch((error: unknown) => this.fail(error));
  }

  private connectProgram(): void {
    const store = this.programStore;
    const figures = this.figuresStore;
    const record = this.signIn;
    if (!store || !record) return;
    this.programConnection?.destroy();
    this.programConnection = undefined;
    this.figuresConnection?.destroy();
    this.figuresConnection = undefined;
    this.programConnectionToken = record.token;
    const request = ++this.programConnectionRequest;
    const stillWanted = () => request === this.programConnectionRequest && this.programStore === store;
    void this.connectWhenLoaded(
      // A vendor manager writes the program document (targets); a partner's channel is read-only.
      {
        doc: store.programDoc.doc,
        room: store.room,
        token: record.token,
        ledger: store.syncLedger,
        readOnly: record.claims.role !== 'vendor_manager',
      },
      stillWanted,
      (connection) => {
        this.programConnection = connection;
        connection.subscribe((state) => {
          if (this.programConnection === connection) this.programSync = state;
        });
      },
    );
    if (!figures) return;
    // Written by the server alone: read-only for everyone.
    void this.connectWhenLoaded(
      {
        doc: figures.programDoc.doc,
        room: figures.room,
        token: record.token,
        ledger: figures.syncLedger,
        readOnly: true,
      },
      stillWanted,
      (connection) => {
        this.figuresConnection = connection;
        connection.subscribe((state) => {
          if (this.figuresConnection === connection) this.figuresSync = state;
        });
      },
    );
  }

  /** Connects the partner's document to its room; resolves once the connection is made. */
  private connect(store: PartnerStore): Promise<void> {
    this.connection?.destroy();
    this.connection = undefined;
    const record = this.signIn!;
    const request = ++this.connectionRequest;
    return this.connectWhenLoaded(
      {
        doc: store.partnerDoc.doc,
        room: store.room,
        token: record.token,
        ledger: store.syncLedger,
        readOnly: isReadOnly(record.claims.role),
      },
      () => request === this.connectionRequest && this.store === store,
      (connection) => {
        this.connection = connection;
        connection.subscribe((state) => {
          if (this.connection === connection) this.sync = state;
        });
      },
    );
  }

  /**
   * Connects a room once the sync module is loaded, unless the request went stale meanwhile;
   * resolves once that is done (requests made before it are done too: one module, in order).
   */
  private connectWhenLoaded(
    room: Pick<ConnectOptions, 'doc' | 'room' | 'token' | 'readOnly'> & { ledger: SyncLedger },
    stillWanted: () => boolean,
    adopt: (connection: RoomConnection) => void,
  ): Promise<void> {
    return this.connections.then(
      ([{ connectRoom }, { openTabChannel, tabChannelName }]) => {
        if (!stillWanted()) return;
        // The other tabs of this person with the room open (T1–T5); offline too, and whatever the server says.
        const tabs = openTabChannel({
          doc: room.doc,
          name: tabChannelName(this.db.name, this.signIn?.claims.userId ?? '', room.room),
          ledger: room.ledger,
          BroadcastChannel: this.options.BroadcastChannel,
        });
        const connection = connectRoom({
          ...room,
          ledger: tabs.ledger,
          url: this.options.syncUrl ?? syncUrlOf(location),
          now: this.now,
          WebSocket: this.options.WebSocket,
          // An expired token would only be refused: wait for a new sign-in instead.
          online: this.online && !this.tokenExpired,
        });
        adopt({
          get state() {
            return connection.state;
          },
          subscribe: (listener) => connection.subscribe(listener),
          setOnline: (online) => connection.setOnline(online),
          reconnect: () => connection.reconnect(),
          destroy: () => {
            connection.destroy();
            tabs.close();
          },
        });
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Closes the partner's data, after what is on its way to IndexedDB is stored under its own room. */
  private async closePartner(): Promise<void> {
    this.connection?.destroy();
    this.connection = undefined;
    this.connectionRequest++;
    this.sync = undefined;
    this.stopRows();
    this.stopRows = () => {};
    // The store being opened, if it failed before it was `store`.
    const store = this.rowsStore ?? this.store;
    this.store = undefined;
    this.rowsStore = undefined;
    if (store) {
      await store.ready.catch(() => {});
      await store.settled();
      await store.close();
    }
  }

  private closeProgram(): void {
    this.programConnection?.destroy();
    this.programConnection = undefined;
    this.figuresConnection?.destroy();
    this.figuresConnection = undefined;
    this.programConnectionRequest++;
    this.programConnectionToken = undefined;
    this.programSync = undefined;
    this.figuresSync = undefined;
    this.stopProgram();
    this.stopProgram = () => {};
    this.programStore?.close();
    this.programStore = undefined;
    this.figuresStore?.close();
    this.figuresStore = undefined;
  }

  /** Closes both documents and empties the database (records, update logs, settings). */
  private async removeLocalData(): Promise<void> {
    await this.opening;
    const program = this.programStore;
    const figures = this.figuresStore;
    this.programConnection?.destroy();
    this.programConnection = undefined;
    this.figuresConnection?.destroy();
    this.figuresConnection = undefined;
    this.programConnectionRequest++;
    this.programConnectionToken = undefined;
    // Let a load or a save in progress finish, so that nothing is written after the clearing.
    await this.closePartner();
    if (program) await program.settled();
    if (figures) await figures.settled();
    this.closeProgram();
    // The other tabs close theirs first, so that none of them writes the old data afterwards (T6).
    await this.localData.remove(async () => {
      await this.db.transaction('rw', this.db.tables, () =>
        Promise.all(this.db.tables.map((table) => table.clear())),
      );
      // Saves still in a journal would come back with the next sign-in of the room.
      await removeJournals();
    });
    this.forgetData();
  }

  /** Forgets, in memory, everything of the data and the person signed in. */
  private forgetData(): void {
    this.leads = [];
    this.deals = [];
    this.rowsReady = false;
    this.signIn = undefined;
    this.identity = undefined;
    this.directory = undefined;
    this.signInDirectory = undefined;
    this.tokenExpired = false;
    this.version++;
    this.programVersion++;
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.status = 'failed';
  }
}

/** The program-level room this person keeps: the program document for vendor staff, their partner's channel for a partner's people. */
function programLevelRoom(record: SignInRecord): string {
  const { programId, role } = record.claims;
  return role === 'vendor_manager' ? programRoom(programId) : channelRoom(programId, record.partnerId);
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
