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
import { RollupIndex } from '../kpi/buckets';

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
  rollup: RollupIndex | undefined;

  readonly db: PartnerKpiDb;
  /** The clock, injected so that tests and the demo can set "now". */
  readonly now: () => number;

  constructor(options: { db?: PartnerKpiDb; now?: () => number } = {}) {
    this.db = options.db ?? new PartnerKpiDb();
    this.now = options.now ?? (() => Date.now());
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
    const store = await PartnerStore.open(this.db, partnerRoom(identity));
    if (seed) {
      const written = await store.importRecords(seed.leads, seed.deals, identity.repId);
      if (!written.ok) throw new Error('storageError' in written ? written.storageError.message : 'the demo records are not valid');
    }
    const { leads, deals } = await store.loadRows();
    const rollup = RollupIndex.build(directory.program.timeZone, validRows(leads), validRows(deals));
    this.store = store;
    this.rollup = rollup;
    this.identity = identity;
    this.directory = directory;
    this.leads = leads;
    this.deals = deals;
    store.subscribe((change) => {
      for (const lead of change.leads) if (!lead.problems) rollup.upsertLead(lead);
      for (const deal of change.deals) if (!deal.problems) rollup.upsertDeal(deal);
      this.leads = replaceById(this.leads, change.leads);
      this.deals = replaceById(this.deals, change.deals);
      this.version++;
    });
    this.status = 'ready';
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error.message : String(error);
    this.status = 'failed';
  }
}

/** Quarantined records (with problems) are shown, but left out of KPIs. */
function validRows<T extends { problems?: unknown }>(rows: T[]): T[] {
  return rows.filter((row) => !row.problems);
}

function replaceById<T extends { id: string }>(rows: T[], changed: T[]): T[] {
  if (changed.length === 0) return rows;
  const byId = new Map(changed.map((row) => [row.id, row]));
  const next = rows.map((row) => byId.get(row.id) ?? row);
  const known = new Set(rows.map((row) => row.id));
  for (const row of changed) if (!known.has(row.id)) next.push(row);
  return next;
}
