/**
 * One partner's data open on this device: its store (store/partner-store.ts), who works in it,
 * the records the screens list and the KPI buckets — reactive, following every stored change,
 * local or remote — and its link to the partner's room.
 *
 * Services take it as a `ReadySession`: nothing in it is missing, so none of them checks for a
 * store, a program or an identity. The session has one only while a partner is open (screens:
 * `useReady()`); a switch of partner closes it and opens another.
 */
import type { Partner, Program, ProgramDirectory, Role } from '../../domain/schema';
import type { Rollup } from '../../kpi/buckets';
import type { DealRow, LeadRow, PartnerKpiDb } from '../../store/db';
import { noJournal } from '../../store/journal';
import { PartnerStore } from '../../store/partner-store';
import type { SyncState } from '../../sync/connection';
import { partnerRoom } from '../../sync/rooms';
import { OPEN_MARKS } from '../marks';
import { isReadOnly, type Identity } from './identity';
import { RoomLink, type LinkEnvironment } from './room-link.svelte';

/** What a service needs to act on the open partner's data. */
export interface ReadySession {
  /** Who works in the data: the program, the partner opened, the person's own id. */
  readonly identity: Identity;
  /** The program's settings: currency, time zone, stage probabilities. */
  readonly program: Program;
  readonly store: PartnerStore;
  now(): number;
}

export interface PartnerToOpen {
  identity: Identity;
  role: Role;
  /** The zone the KPI buckets are in: the program's. */
  tz: string;
  /** The program's directory as the session knows it now (it follows the program document). */
  directory: () => ProgramDirectory;
}

export class OpenPartner implements ReadySession {
  leads = $state.raw<LeadRow[]>([]);
  deals = $state.raw<DealRow[]>([]);
  /** Whether the KPI buckets can be read (the stored ones, or all rebuilt): the KPI screens wait for it. */
  kpisReady = $state(false);
  /** Whether the records (not only the KPIs) are loaded: lists and forms wait for them. */
  rowsReady = $state(false);
  /** Bumped after every stored change: the buckets change in place. */
  private kpiChanges = $state(0);
  /** Made once the document is loaded (the link needs it). */
  private link = $state.raw<RoomLink | undefined>();
  private stopRows: () => void = () => {};

  private constructor(
    readonly store: PartnerStore,
    private readonly opened: PartnerToOpen,
    readonly now: () => number,
    private readonly environment: LinkEnvironment,
  ) {}

  /** Opens the partner's stored data: returns as soon as a list's first screen can be read from it. */
  static async open(
    db: PartnerKpiDb,
    partner: PartnerToOpen,
    now: () => number,
    environment: LinkEnvironment,
  ): Promise<OpenPartner> {
    const { identity, tz, role } = partner;
    const store = await PartnerStore.openBeforeKpis(
      db,
      partnerRoom(identity.programId, identity.partnerId),
      tz,
      // Someone who only reads the partner's data saves nothing: no journal worker for them.
      isReadOnly(role) ? noJournal : undefined,
      { by: identity.repId, now },
    );
    return new OpenPartner(store, partner, now, environment);
  }

  get identity(): Identity {
    return this.opened.identity;
  }

  get role(): Role {
    return this.opened.role;
  }

  /** The program's directory: the program document's once it has one, the sign-in's until then. */
  get directory(): ProgramDirectory {
    return this.opened.directory();
  }

  get program(): Program {
    return this.directory.program;
  }

  /** The partner's entry in the directory. */
  get partner(): Partner | undefined {
    return this.directory.partners.find((partner) => partner.id === this.identity.partnerId);
  }

  /** The KPI buckets of the partner's records, current with every stored change. */
  get rollup(): Rollup {
    void this.kpiChanges;
    return this.store.rollup();
  }

  /** How the partner's document stands with the server (sync SPEC.md C5); undefined until linked. */
  get sync(): SyncState | undefined {
    return this.link?.state;
  }

  /** Waits for the KPI buckets: the stored ones when they are current, else all of them rebuilt. */
  async loadKpis(): Promise<void> {
    await this.store.kpisLoaded;
    performance.mark(OPEN_MARKS.document);
    this.kpisReady = true;
  }

  /**
   * Loads the records, then follows every stored change, local and remote alike: each replaces its
   * rows, so the screens follow another device's edits as they arrive.
   */
  async loadRows(): Promise<void> {
    let leadPositions = new Positions<LeadRow>([]);
    let dealPositions = new Positions<DealRow>([]);
    this.stopRows = await this.store.follow(
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
        this.kpiChanges++;
      },
    );
    this.rowsReady = true;
    // The buckets may have been rebuilt while loading.
    this.kpiChanges++;
  }

  /** Links the partner's document to its room with `token` (again); resolves once linked. */
  connect(token: string, userId: string): Promise<void> {
    this.link ??= new RoomLink(
      { doc: this.store.partnerDoc.doc, room: this.store.room, ledger: this.store.syncLedger },
      isReadOnly(this.opened.role),
      this.environment,
    );
    return this.link.connect(token, userId);
  }

  setOnline(online: boolean): void {
    this.link?.setOnline(online);
  }

  /** Closes the link and the store, after what is on its way to IndexedDB is stored under its room. */
  async close(): Promise<void> {
    this.link?.close();
    this.stopRows();
    this.stopRows = () => {};
    await this.store.ready.catch(() => {});
    await this.store.settled();
    await this.store.close();
  }
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
