/**
 * The signed-in person on this device, their program and their partner's data, as reactive state
 * for the screens: a facade over parts with one job each.
 *
 * - `account` (account.svelte.ts): who is signed in — the token's claims, kept with the token in
 *   the device's settings (store/device-settings.ts), so a signed-in device starts and works
 *   offline until the token expires; what their role lets them do.
 * - `programDocs` (program-docs.svelte.ts): the program-level documents — for vendor staff the
 *   program document and every partner's KPI rollup, for a partner's people their partner's
 *   channel, which holds only what they may read (sync SPEC P7): the directory, targets, figures
 *   and benchmark. Until it has first synced, the directory the sign-in gave stands in (sign-in.ts).
 * - `partners` (partner-queue.svelte.ts): the partner open now (`ready`, open-partner.svelte.ts:
 *   its store, records, KPI buckets and sync state) and the queue that opens and switches partners.
 *   A vendor manager reads every partner of the program and switches (`openPartnerAs`) without
 *   signing out; the partners opened stay in the update log, so each opens offline.
 *
 * Every document is linked to its room on the sync server and to this person's other tabs
 * (room-link.svelte.ts, sync SPEC T1–T5): the program-level ones as soon as they are open, the
 * partner's once its records are loaded. A tab that removes the data first has the others close
 * theirs (store/local-data.ts, T6).
 */
import { PartnerKpiDb } from '../../store/db';
import { DeviceSettings } from '../../store/device-settings';
import { LocalDataTabs, type Locks } from '../../store/local-data';
import type { WriteResult } from '../../store/write-result';
import type {
  Partner,
  Program,
  ProgramDirectory,
  StaffMember,
  Target,
  TargetEntry,
} from '../../domain/schema';
import type { Benchmark } from '../../kpi/benchmark';
import type { Rollup } from '../../kpi/buckets';
import type { DayRange } from '../../kpi/calendar';
import type { CloseReason, SyncState } from '../../sync/connection';
import { partnerRoom, syncUrlOf } from '../../sync/rooms';
import { combineSyncStates } from '../sync-view';
import { Account } from './account.svelte';
import { identityOf, type SignInRecord } from './identity';
import { OpenPartner } from './open-partner.svelte';
import { PartnerQueue } from './partner-queue.svelte';
import { programLevelRoom, ProgramDocs } from './program-docs.svelte';
import type { LinkEnvironment } from './room-link.svelte';

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
  /** Whether the browser promised to keep this site's storage (navigator.storage.persist). */
  storagePersisted = $state<boolean | undefined>();
  /** Whether the device has a network, as the browser says (online/offline events). */
  online = $state(true);
  /** Another tab keeps an older version of the database open: this one waits until it closes. */
  blockedByOtherTab = $state(false);

  readonly db: PartnerKpiDb;
  /** The clock (injected: tests and the demo set "now"); not reactive: screens read `currentTime`. */
  readonly now: () => number;
  readonly account = new Account();
  readonly programDocs: ProgramDocs;
  readonly partners = new PartnerQueue();

  /** The directory the sign-in gave, standing in until the program document has a program. */
  private signInDirectory = $state.raw<ProgramDirectory | undefined>();
  /** Bumped by `tick()` (the layout, every minute). */
  private clockTicks = $state(0);
  private readonly settings: DeviceSettings<SignInRecord>;
  /** The other tabs' use of the device's data (T6). */
  private readonly localData: LocalDataTabs;
  private readonly links: LinkEnvironment;

  constructor(options: SessionOptions = {}) {
    this.db = options.db ?? new PartnerKpiDb();
    this.now = options.now ?? (() => Date.now());
    this.settings = new DeviceSettings(this.db);
    this.db.on('blocked', () => {
      this.blockedByOtherTab = true;
    });
    this.db.on('ready', () => {
      this.blockedByOtherTab = false;
    });
    this.links = {
      modules: Promise.all([import('../../sync/connection'), import('../../sync/tab-channel')]),
      database: this.db.name,
      url: () => options.syncUrl ?? syncUrlOf(location),
      now: this.now,
      WebSocket: options.WebSocket,
      BroadcastChannel: options.BroadcastChannel,
      online: () => this.online && !this.account.tokenExpired,
      fail: (error) => this.fail(error),
    };
    this.programDocs = new ProgramDocs(this.db, this.links, () => this.followProgramZone());
    this.localData = new LocalDataTabs(this.db.name, {
      BroadcastChannel: options.BroadcastChannel,
      locks: options.locks,
    });
    this.localData.onRemoving(() => this.otherTabRemovesData());
  }

  // --- What the screens read -------------------------------------------------------------------

  /** The partner open now, for services and the screens shown once it is open (`useReady()`). */
  get ready(): OpenPartner | undefined {
    return this.partners.current;
  }

  /** The open partner's store once its KPI buckets can be read (the KPI screens wait for it). */
  get store() {
    return this.ready?.kpisReady ? this.ready.store : undefined;
  }

  /** The same, as soon as its stored rows can be read: the lists read their first screen from it. */
  get rowsStore() {
    return this.ready?.store;
  }

  /** Whether the records (not only the KPIs) are loaded: lists and forms wait for them. */
  get rowsReady(): boolean {
    return this.ready?.rowsReady ?? false;
  }

  get leads() {
    return this.ready?.leads ?? [];
  }

  get deals() {
    return this.ready?.deals ?? [];
  }

  /** The KPI buckets of the partner's records, once they can be read; current with every stored change. */
  get rollup(): Rollup | undefined {
    return this.store && this.ready?.rollup;
  }

  /** The time, as reactive state: what a screen derives from it follows it, a minute at a time. */
  get currentTime(): number {
    void this.clockTicks;
    return this.now();
  }

  /** The clock moved on: screens that read `currentTime` update. */
  tick(): void {
    this.clockTicks++;
  }

  get signIn(): SignInRecord | undefined {
    return this.account.record;
  }

  get identity() {
    return this.account.identity;
  }

  get role() {
    return this.account.role;
  }

  get isManager(): boolean {
    return this.account.isManager;
  }

  get isVendor(): boolean {
    return this.account.isVendor;
  }

  get hasOwnRecords(): boolean {
    return this.account.hasOwnRecords;
  }

  get readOnly(): boolean {
    return this.account.readOnly;
  }

  get canSetTargets(): boolean {
    return this.account.canSetTargets;
  }

  /** The program document's directory once it has one; the sign-in's until then. */
  get directory(): ProgramDirectory | undefined {
    return this.programDocs.directory ?? this.signInDirectory;
  }

  get program(): Program | undefined {
    return this.directory?.program;
  }

  get partner(): Partner | undefined {
    return this.directory?.partners.find((partner) => partner.id === this.identity?.partnerId);
  }

  /** The vendor's staff, as the program document lists them (for vendor staff). */
  get staff(): StaffMember[] {
    return this.programDocs.staff;
  }

  /** The vendor's staff member signed in, when the program document lists them. */
  get staffMember(): StaffMember | undefined {
    return this.staff.find((member) => member.id === this.signIn?.claims.userId);
  }

  /** The person's name for greetings and the header. */
  get personName(): string {
    const rep = this.directory?.reps.find((candidate) => candidate.id === this.identity?.repId);
    return rep?.name ?? this.staffMember?.name ?? this.signIn?.name ?? this.signIn?.claims.userId ?? '';
  }

  get targets(): TargetEntry[] {
    return this.programDocs.targets;
  }

  get partnerRollups() {
    return this.programDocs.partnerRollups;
  }

  get programTotals() {
    return this.programDocs.programTotals;
  }

  /** The program benchmark published for exactly this range in the partner's channel (V1), if any. */
  benchmark(range: DayRange): Benchmark | undefined {
    const tz = this.program?.timeZone;
    return tz ? this.programDocs.benchmark(range, tz) : undefined;
  }

  /** How the partner's document stands with the server; undefined until the records are loaded and linked. */
  get sync(): SyncState | undefined {
    return this.ready?.sync;
  }

  /** How the program document (or the partner's channel) stands with the server. */
  get programSync(): SyncState | undefined {
    return this.programDocs.storeSync;
  }

  /** Every link as one, for the header: the least advanced status, every unsent change. */
  get syncSummary(): SyncState | undefined {
    return combineSyncStates([this.sync, this.programSync, this.programDocs.figuresSync]);
  }

  /** Local changes the server does not have yet, in every document (sync SPEC.md C2). */
  get pendingChanges(): number {
    return this.syncSummary?.pendingChanges ?? 0;
  }

  /** Why the server will not sync, counting an expiry this device's clock knows of before the server says so. */
  get closeReason(): CloseReason | undefined {
    return this.syncSummary?.closeReason ?? (this.account.tokenExpired ? 'expired-token' : undefined);
  }

  // --- What people do --------------------------------------------------------------------------

  /** Opens what this device kept of the person signed in, or asks for a sign-in. */
  async start(): Promise<void> {
    try {
      const kept = await this.settings.signIn();
      if (!kept) {
        this.status = 'signin';
        return;
      }
      await this.openPartner(kept.signIn, kept.directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Whether signing in as `record` opens other data than this device holds now. */
  replacesData(record: SignInRecord): boolean {
    const programRoom = this.programDocs.store?.room;
    if (programRoom !== undefined && programRoom !== programLevelRoom(record)) return true;
    // A vendor manager of this program keeps the documents: opening another partner is a switch, not a replacement.
    if (this.isVendor && record.claims.role === 'vendor_manager' && programRoom !== undefined) return false;
    return this.store !== undefined && this.store.room !== partnerRoomOf(record);
  }

  /**
   * Signs in: keeps the token and the directory and opens the partner's data. A new token for the
   * data already open (signing in again after an expiry) keeps everything, unsent changes included,
   * and links again; a sign-in for other data replaces this device's (the caller warned first).
   */
  async signInWith(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    try {
      const sameData = this.store !== undefined && !this.replacesData(record);
      if (this.store && !sameData) await this.removeLocalData();
      await this.settings.keepSignIn(record, directory);
      const open = this.ready;
      if (sameData && open && this.store?.room === partnerRoomOf(record)) {
        this.account.signIn(record, this.now());
        this.signInDirectory = directory;
        this.followProgramZone();
        this.programDocs.link(record);
        if (open.rowsReady) await open.connect(record.token, record.claims.userId);
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
    if (record.partnerId === partnerId && this.store) return this.partners.settled();
    const next: SignInRecord = { ...record, partnerId };
    try {
      await this.settings.keepSignIn(next);
      await this.openPartner(next, directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Resolves when the partner being opened (a sign-in, a switch, a new time zone) is open. */
  async opened(): Promise<void> {
    await this.partners.settled();
  }

  /** Sets a partner's target for a quarter in the program document (a vendor manager's). */
  async setTarget(
    partnerId: string,
    quarter: string,
    target: Omit<Target, 'setAt' | 'setBy'>,
  ): Promise<WriteResult<TargetEntry>> {
    const userId = this.signIn?.claims.userId;
    const set =
      userId && this.canSetTargets
        ? this.programDocs.setTarget(partnerId, quarter, { ...target, setAt: this.now(), setBy: userId })
        : undefined;
    return set ?? { ok: false, problems: [{ field: '', message: 'Only a vendor manager can set targets.' }] };
  }

  /** The browser's network came or went. */
  setOnline(online: boolean): void {
    this.online = online;
    this.account.checkExpiry(this.now());
    const linked = online && !this.account.tokenExpired;
    this.programDocs.setOnline(linked);
    this.ready?.setOnline(linked);
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
      await this.settings.keepSignIn(record, directory);
      await this.openPartner(record, directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Closes the links and the documents, keeping everything stored (as closing the tab does); the session is done. */
  async close(): Promise<void> {
    await this.closeStores();
    this.localData.close();
  }

  // --- How -------------------------------------------------------------------------------------

  /** Opens the partner (and the program-level documents, when they are not open yet); one opening at a time. */
  private openPartner(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    return this.partners.enqueue(() => this.openPartnerNow(record, directory));
  }

  private async openPartnerNow(record: SignInRecord, directory: ProgramDirectory): Promise<void> {
    await this.partners.close();
    // Waits while another tab removes the data (T6).
    await this.localData.hold();
    this.account.signIn(record, this.now());
    this.signInDirectory = directory;
    // The program-level documents open beside the partner's stored KPIs, not before them: until
    // they are open, the directory the sign-in gave stands in (and names the zone of the buckets).
    const programOpened = this.programDocs.open(record);
    programOpened.catch(() => {}); // awaited below, unless the partner fails to open first
    const partner = await OpenPartner.open(
      this.db,
      {
        identity: identityOf(record),
        role: record.claims.role,
        tz: (this.directory ?? directory).program.timeZone,
        directory: () => this.directory ?? directory,
      },
      this.now,
      this.links,
    );
    // The lists' first screen can be read now; the KPIs once their buckets are.
    this.partners.current = partner;
    await partner.loadKpis();
    // The KPIs can show now, from the stored buckets; the program's targets and the records follow.
    this.status = 'ready';
    await programOpened;
    // The program document's directory, once it has one (the partner is opened again if its zone differs).
    this.followProgramZone();
    await partner.loadRows();
    // Only now: a remote change arriving before the rows were read would be missing from the lists.
    await partner.connect(record.token, record.claims.userId);
  }

  /**
   * The partner's KPI buckets are days in the program's zone: if the program document says another
   * zone than the one they were built in, the partner is opened again in it, after the opening in
   * progress (which may have started in the sign-in's zone).
   */
  private followProgramZone(): void {
    if (!this.programDocs.directory) return;
    const reopened = this.partners.enqueue(async () => {
      const tz = this.programDocs.directory?.program.timeZone;
      const { signIn: record, signInDirectory: directory, store } = this;
      if (!tz || !record || !directory || !store || store.tz === tz) return;
      await this.openPartnerNow(record, directory);
    });
    reopened.catch((error: unknown) => this.fail(error));
  }

  /** Closes every document, after their saves in progress are stored (the data stays on the device). */
  private async closeStores(): Promise<void> {
    await this.partners.settled();
    await this.partners.close();
    await this.programDocs.settleAndClose();
    this.localData.release();
  }

  /** Closes every document and empties the device: records, update logs, settings, drafts, journals. */
  private async removeLocalData(): Promise<void> {
    await this.partners.settled();
    this.programDocs.unlink();
    // Let a load or a save in progress finish, so that nothing is written after the clearing.
    await this.partners.close();
    await this.programDocs.settleAndClose();
    // The other tabs close theirs first, so that none of them writes the old data afterwards (T6).
    await this.localData.remove(() => this.settings.clearAll());
    this.forgetData();
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

  /** Forgets, in memory, the person signed in and their directory (the documents are closed already). */
  private forgetData(): void {
    this.account.forget();
    this.signInDirectory = undefined;
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.status = 'failed';
  }
}

const partnerRoomOf = (record: SignInRecord) => partnerRoom(record.claims.programId, record.partnerId);
