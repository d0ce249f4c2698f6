/**
 * The program-level documents this person keeps (sync SPEC P7): for vendor staff the program
 * document (directory, staff, targets) and the figures (every partner's KPI rollup, the rollups
 * room); for a partner's people their partner's channel (the program's settings, their own
 * partner, people and targets, the program benchmark as they see it). Each is opened from its
 * stored updates (store/program-store.ts), so it is there offline from the last synced state,
 * linked to its room, and read by the screens through the getters below, which follow every
 * stored change, local or remote.
 */
import type { PartnerKpiDb } from '../../store/db';
import { dropRoom } from '../../store/db';
import { ProgramStore, type ProgramRollups, type ProgramTotals } from '../../store/program-store';
import type { WriteResult } from '../../store/write-result';
import type { ProgramDirectory, StaffMember, Target, TargetEntry } from '../../domain/schema';
import type { Benchmark } from '../../kpi/benchmark';
import { formatDay, type DayRange } from '../../kpi/calendar';
import type { SyncState } from '../../sync/connection';
import { channelRoom, programRoom, rollupsRoom } from '../../sync/rooms';
import type { SignInRecord } from './identity';
import { RoomLink, type LinkEnvironment } from './room-link.svelte';

/** The program-level room this person keeps: the program document for vendor staff, their partner's channel for a partner's people. */
export function programLevelRoom(record: SignInRecord): string {
  const { programId, role } = record.claims;
  return role === 'vendor_manager' ? programRoom(programId) : channelRoom(programId, record.partnerId);
}

export class ProgramDocs {
  /** The program document, or the partner's channel; undefined until opened. */
  store = $state.raw<ProgramStore | undefined>();
  /** Every partner's KPI rollup, for vendor staff (the rollups room); undefined for a partner's people. */
  figures = $state.raw<ProgramStore | undefined>();
  /** Bumped after every stored change of either document: what the getters read changed in place. */
  private changes = $state(0);
  private storeLink = $state.raw<RoomLink | undefined>();
  private figuresLink = $state.raw<RoomLink | undefined>();
  /** The token the links were made with: a new one (signing in again) needs new links. */
  private token: string | undefined;
  private stopListening: () => void = () => {};

  constructor(
    private readonly db: PartnerKpiDb,
    private readonly environment: LinkEnvironment,
    /** The program, its partners or reps changed in the document. */
    private readonly onDirectoryChange: () => void,
  ) {}

  /** The directory from the document once it has a program (deleted entries included). */
  get directory(): ProgramDirectory | undefined {
    void this.changes;
    return this.store?.directory();
  }

  /** The vendor's staff, as the program document lists them. */
  get staff(): StaffMember[] {
    void this.changes;
    return this.store?.staff() ?? [];
  }

  /** Every partner's quarterly targets. */
  get targets(): TargetEntry[] {
    void this.changes;
    return this.store?.targets() ?? [];
  }

  /** Every partner's KPI buckets by month as the server folded them, and the partners whose figures cannot be read. */
  get partnerRollups(): ProgramRollups {
    void this.changes;
    return this.figures?.rollups() ?? { rollups: new Map(), problems: new Map() };
  }

  /** The whole program's KPI buckets by day as the server folded them, for vendor staff. */
  get programTotals(): ProgramTotals {
    void this.changes;
    return this.figures?.totals() ?? { problem: 'not signed in as vendor staff' };
  }

  /** The program benchmark published for exactly this range in the partner's channel (V1), if any. */
  benchmark(range: DayRange, tz: string): Benchmark | undefined {
    void this.changes;
    return this.store?.benchmark({ from: formatDay(range.fromDay), to: formatDay(range.toDay), tz });
  }

  /** How the program document (or the channel), and the figures, stand with the server; undefined until linked. */
  get storeSync(): SyncState | undefined {
    return this.storeLink?.state;
  }

  get figuresSync(): SyncState | undefined {
    return this.figuresLink?.state;
  }

  /**
   * Opens the documents of `record` from their stored updates and links them; keeps them when they
   * are open already (a new token for them links them again). A partner's device drops a program
   * document an older version kept (P7).
   */
  async open(record: SignInRecord): Promise<void> {
    const room = programLevelRoom(record);
    if (this.store?.room === room) {
      // A new sign-in (a new token) for the same program links again with it; a partner switch does not.
      if (this.token !== record.token) this.link(record);
      return;
    }
    this.close();
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
    const stops = [
      store.subscribe((changed) => {
        this.changes++;
        if (changed.meta || changed.partners.size || changed.reps.size) this.onDirectoryChange();
      }),
      figures?.subscribe(() => this.changes++),
    ];
    this.stopListening = () => stops.forEach((stop) => stop?.());
    this.store = store;
    this.figures = figures;
    // A vendor manager writes the program document (targets); a partner's channel is read-only.
    this.storeLink = this.linkOf(store, !vendor);
    // Written by the server alone: read-only for everyone.
    this.figuresLink = figures && this.linkOf(figures, true);
    this.link(record);
  }

  /** Links the open documents to their rooms with `record`'s token (again: the state stays until the new link says). */
  link(record: SignInRecord): void {
    this.token = record.token;
    void this.storeLink?.connect(record.token, record.claims.userId);
    void this.figuresLink?.connect(record.token, record.claims.userId);
  }

  /** Sets a partner's target for a quarter in the program document (the caller checked it is a vendor manager's). */
  setTarget(
    partnerId: string,
    quarter: string,
    target: Target,
  ): Promise<WriteResult<TargetEntry>> | undefined {
    return this.store?.setTarget(partnerId, quarter, target);
  }

  setOnline(online: boolean): void {
    this.storeLink?.setOnline(online);
    this.figuresLink?.setOnline(online);
  }

  /** Closes the links and the documents, after what is on its way to IndexedDB is stored. */
  async settleAndClose(): Promise<void> {
    const { store, figures } = this;
    await store?.settled();
    await figures?.settled();
    this.close();
  }

  /** Disconnects the links: nothing more comes from the server or the other tabs (their state stays). */
  unlink(): void {
    this.storeLink?.disconnect();
    this.figuresLink?.disconnect();
    this.token = undefined;
  }

  private close(): void {
    this.storeLink?.close();
    this.storeLink = undefined;
    this.figuresLink?.close();
    this.figuresLink = undefined;
    this.token = undefined;
    this.stopListening();
    this.stopListening = () => {};
    this.store?.close();
    this.store = undefined;
    this.figures?.close();
    this.figures = undefined;
  }

  private linkOf(store: ProgramStore, readOnly: boolean): RoomLink {
    return new RoomLink(
      { doc: store.programDoc.doc, room: store.room, ledger: store.syncLedger },
      readOnly,
      this.environment,
    );
  }
}
