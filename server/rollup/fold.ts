/**
 * The server's rollup fold: a partner's document → the KPI module's additive buckets, packed, and
 * written into the program document. The vendor's device then computes program KPIs from the
 * buckets of every partner without downloading their deals (architecture.md, "Data and sync").
 *
 * The time zone and the sync instant are parameters; nothing here reads a clock.
 */
import type * as Y from 'yjs';
import { RollupIndex } from '../../src/lib/kpi/buckets';
import { countable } from '../../src/lib/kpi/countable';
import { packRollup, type PackedSeries } from '../../src/lib/kpi/packed';
import { takeChangedSeries, type Rollup } from '../../src/lib/kpi/buckets';
import type { Deal, Lead } from '../../src/lib/domain/schema';
import {
  onRecordsChanged,
  openPartnerDoc,
  readAll,
  readDeal,
  readLead,
  recordIds,
  recordProblems,
  type PartnerDoc,
} from '../../src/lib/sync/partner-doc';
import { writeRollup, type ProgramDoc } from '../../src/lib/sync/program-doc';

/** Waits for the event loop to run what is waiting (sockets, timers) before the next slice. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Records read between two turns of the event loop while a fold is built (~50 µs a record). */
const BUILD_SLICE = 200;

/**
 * A partner document's buckets in time zone `tz`, kept current as the document changes: built once
 * (~50 µs a record, mostly reading and checking it), then only the records a transaction touched are
 * counted again — a partner with 60,000 records is not refolded on every edit. They are counted when
 * the buckets are next read, not as each transaction ends: a record edited ten times between two
 * folds is read once, and reading it stays out of the path of the edit to the other devices. Records are counted
 * exactly as the partner's own device counts them: deleted and quarantined ones (any
 * `recordProblems`, SPEC S9) count nowhere, so the vendor and the partner see the same figures.
 * Given the room's `partnerId`, a record that names another partner is quarantined too: a rep's
 * phone can write anything into its own room, but never into another partner's figures.
 */
export class PartnerFold {
  private readonly pd: PartnerDoc;
  private index: RollupIndex;
  private readonly stop: () => void;
  /** Records changed since the buckets were last read (or while `build` read them): counted at the next read. */
  private readonly changed = { leads: new Set<string>(), deals: new Set<string>() };
  private building = false;

  private constructor(
    readonly doc: Y.Doc,
    readonly tz: string,
    readonly partnerId: string | undefined,
  ) {
    this.pd = openPartnerDoc(doc);
    this.index = new RollupIndex(tz);
    this.stop = onRecordsChanged(this.pd, (changed) => {
      for (const id of changed.leads) this.changed.leads.add(id);
      for (const id of changed.deals) this.changed.deals.add(id);
    });
  }

  /** The fold, built from every record at once (the seed, tests). */
  static of(doc: Y.Doc, tz: string, partnerId?: string): PartnerFold {
    const fold = new PartnerFold(doc, tz, partnerId);
    const { leads, deals } = readAll(fold.pd);
    fold.index = RollupIndex.build(
      tz,
      leads.map((lead) => fold.counted('lead', lead)),
      deals.map((deal) => fold.counted('deal', deal)),
    );
    return fold;
  }

  /**
   * The fold, built reading `slice` records at a time and letting the event loop run between
   * slices (`between`): read at once, a partner's records would hold the sync server — every room's
   * edits — for as long as that takes (a few hundred records: tens of milliseconds). Changes that
   * arrive meanwhile are counted once the fold is built.
   */
  static async build(
    doc: Y.Doc,
    tz: string,
    {
      between = nextTurn,
      slice = BUILD_SLICE,
      partnerId,
    }: { between?: () => Promise<void>; slice?: number; partnerId?: string } = {},
  ): Promise<PartnerFold> {
    const fold = new PartnerFold(doc, tz, partnerId);
    fold.building = true;
    try {
      // Reading and checking a record is the slow part (~50 µs); adding it to the buckets is not.
      const leads = await readInSlices(
        recordIds(fold.pd, 'lead'),
        (id) => fold.countedLead(id),
        slice,
        between,
      );
      const deals = await readInSlices(
        recordIds(fold.pd, 'deal'),
        (id) => fold.countedDeal(id),
        slice,
        between,
      );
      fold.index = RollupIndex.build(tz, leads, deals);
    } catch (error) {
      fold.close();
      throw error;
    } finally {
      fold.building = false;
    }
    // Read before it changed, or created after its slice was read: counted as it is now at the first read.
    return fold;
  }

  /** How many changed records wait to be counted again (at the next read of the buckets). */
  get waiting(): number {
    return this.changed.leads.size + this.changed.deals.size;
  }

  /** Counts again the records changed since the last read, as they are now. */
  private catchUp(): void {
    if (this.building) return;
    for (const id of this.changed.leads) {
      const lead = this.countedLead(id);
      if (lead) this.index.upsertLead(lead);
    }
    for (const id of this.changed.deals) {
      const deal = this.countedDeal(id);
      if (deal) this.index.upsertDeal(deal);
    }
    this.changed.leads.clear();
    this.changed.deals.clear();
  }

  private countedLead(id: string): Lead | undefined {
    const lead = readLead(this.pd, id);
    return lead && this.counted('lead', lead);
  }

  private countedDeal(id: string): Deal | undefined {
    const deal = readDeal(this.pd, id);
    return deal && this.counted('deal', deal);
  }

  /** recordProblems, not validate: it also flags unreadable stage entries, as the device's rows do. */
  private counted<T extends { id: string; partnerId: string; deletedAt?: number }>(
    kind: 'lead' | 'deal',
    record: T,
  ): T {
    const problems = recordProblems(this.pd, kind, record.id);
    if (this.partnerId !== undefined && record.partnerId !== this.partnerId) {
      problems.push({
        field: 'partnerId',
        message: `The record names partner ${record.partnerId}, not ${this.partnerId}, whose document holds it.`,
      });
    }
    return problems.length ? countable({ ...record, problems }) : record;
  }

  series(): PackedSeries[] {
    return packRollup(this.rollup());
  }

  /** The buckets as they stand, kept current: read them, never change them. */
  rollup(): Rollup {
    this.catchUp();
    return this.index.rollup;
  }

  /** Days given back by `unwritten`, to be taken again. */
  private readonly notWritten = new Set<number>();

  /** The days whose buckets changed since the last call (every day, the first time), forgotten here. */
  takeChangedDays(): Set<number> {
    const days = new Set(this.notWritten);
    this.notWritten.clear();
    for (const change of takeChangedSeries(this.rollup())) for (const day of change.days) days.add(day);
    return days;
  }

  /** Gives back days taken by `takeChangedDays` whose write failed. */
  unwritten(days: Iterable<number>): void {
    for (const day of days) this.notWritten.add(day);
  }

  close(): void {
    this.stop();
    this.pd.close();
  }
}

/** Reads the records of `ids`, `slice` of them between two awaits of `between`. */
async function readInSlices<T>(
  ids: string[],
  read: (id: string) => T | undefined,
  slice: number,
  between: () => Promise<void>,
): Promise<T[]> {
  const records: T[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i > 0 && i % slice === 0) await between();
    const record = read(ids[i]!);
    if (record !== undefined) records.push(record);
  }
  return records;
}

/** The buckets of every lead and deal of a partner's document in time zone `tz`, packed, once. */
export function foldPartner(partnerDoc: Y.Doc, tz: string, partnerId?: string): PackedSeries[] {
  const fold = PartnerFold.of(partnerDoc, tz, partnerId);
  try {
    return fold.series();
  } finally {
    fold.close();
  }
}

/**
 * Writes a partner's folded buckets into the program document with the instant of the partner's
 * last sync, in one transaction of origin ROLLUP_ORIGIN (SPEC P5), in the program's time zone.
 */
export function writePartnerRollup(
  programDoc: ProgramDoc,
  partnerId: string,
  series: readonly PackedSeries[],
  lastSyncAt: number,
): void {
  writeRollup(programDoc, partnerId, { lastSyncAt, series });
}
