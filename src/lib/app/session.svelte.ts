/**
 * The signed-in person on this device and their partner's data, as reactive state for the screens.
 *
 * Until sign-in exists, the person chooses their partner and rep at first start (the program's
 * directory — program settings, partners, reps — comes with the app as the demo program). The
 * records come from the partner store's projection; the KPIs from a rollup index kept current with
 * every stored change, so a save updates the KPIs without reading all records again.
 */
import { PartnerKpiDb, type DealRow, type LeadRow } from '../store/db';
import { PartnerStore } from '../store/partner-store';
import type { Deal, Lead, Partner, Program, Rep } from '../domain/schema';
import type { Rollup } from '../kpi/buckets';
import { OPEN_MARKS } from './marks';

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

const IDENTITY_KEY = 'identity';
const DIRECTORY_KEY = 'directory';

export function partnerRoom(identity: Identity): string {
  return `program/${identity.programId}/partner/${identity.partnerId}`;
}

export class Session {
  status = $state<'loading' | 'welcome' | 'ready' | 'failed'>('loading');
  failure = $state<string>('');
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

  readonly db: PartnerKpiDb;
  /** The clock, injected so that tests and the demo can set "now". */
  readonly now: () => number;

  /** Another tab keeps an older version of the database open: this one waits until it closes. */
  blockedByOtherTab = $state(false);

  constructor(options: { db?: PartnerKpiDb; now?: () => number } = {}) {
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

  get isManager(): boolean {
    return this.rep?.role === 'partner_manager';
  }

  async start(): Promise<void> {
    try {
      const [identity, directory] = await Promise.all([this.db.settings.get(IDENTITY_KEY), this.db.settings.get(DIRECTORY_KEY)]);
      if (!identity || !directory) {
        this.status = 'welcome';
        return;
      }
      await this.openPartner(identity.value as Identity, directory.value as Directory);
    } catch (error) {
      this.fail(error);
    }
  }

  /** First start: who I am, and optionally the demo records of my partner. */
  async choose(identity: Identity, directory: Directory, seed?: { leads: Lead[]; deals: Deal[] }): Promise<void> {
    try {
      await this.db.settings.bulkPut([
        { key: IDENTITY_KEY, value: identity },
        { key: DIRECTORY_KEY, value: directory },
      ]);
      await this.openPartner(identity, directory, seed);
    } catch (error) {
      this.fail(error);
    }
  }

  private async openPartner(identity: Identity, directory: Directory, seed?: { leads: Lead[]; deals: Deal[] }): Promise<void> {
    this.store?.close();
    this.rowsReady = false;
    const store = await PartnerStore.open(this.db, partnerRoom(identity), directory.program.timeZone);
    performance.mark(OPEN_MARKS.document);
    if (seed) {
      const written = await store.importRecords(seed.leads, seed.deals, identity.repId);
      if (!written.ok) throw new Error('storageError' in written ? written.storageError.message : 'the demo records are not valid');
    }
    this.store = store;
    this.identity = identity;
    this.directory = directory;
    // The KPIs can show now, from the stored buckets; the records follow.
    this.status = 'ready';
    await store.ready;
    const { leads, deals } = await store.loadRows();
    performance.mark(OPEN_MARKS.rows);
    const leadPositions = new Positions(leads);
    const dealPositions = new Positions(deals);
    this.leads = leads;
    this.deals = deals;
    store.subscribe((change) => {
      this.leads = leadPositions.replace(this.leads, change.leads);
      this.deals = dealPositions.replace(this.deals, change.deals);
      this.version++;
    });
    this.rowsReady = true;
    // The buckets may have been rebuilt while loading.
    this.version++;
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.status = 'failed';
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
