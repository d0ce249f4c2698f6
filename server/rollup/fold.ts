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
import { onRecordsChanged, openPartnerDoc, readAll, readDeal, readLead, recordProblems, type PartnerDoc } from '../../src/lib/sync/partner-doc';
import { writeRollup, type ProgramDoc } from '../../src/lib/sync/program-doc';

/**
 * A partner document's buckets in time zone `tz`, kept current as the document changes: built once
 * (~5 µs a record), then only the records a transaction touched are counted again — a partner with
 * 60,000 records is not refolded on every edit. Records are counted exactly as the partner's own
 * device counts them: deleted and quarantined ones (any `recordProblems`, SPEC S9) count nowhere,
 * so the vendor and the partner see the same figures.
 */
export class PartnerFold {
  private readonly pd: PartnerDoc;
  private readonly index: RollupIndex;
  private readonly stop: () => void;

  constructor(
    readonly doc: Y.Doc,
    readonly tz: string,
  ) {
    this.pd = openPartnerDoc(doc);
    const { leads, deals } = readAll(this.pd);
    this.index = RollupIndex.build(
      tz,
      leads.map((lead) => this.counted('lead', lead)),
      deals.map((deal) => this.counted('deal', deal)),
    );
    this.stop = onRecordsChanged(this.pd, (changed) => {
      for (const id of changed.leads) {
        const lead = readLead(this.pd, id);
        if (lead) this.index.upsertLead(this.counted('lead', lead));
      }
      for (const id of changed.deals) {
        const deal = readDeal(this.pd, id);
        if (deal) this.index.upsertDeal(this.counted('deal', deal));
      }
    });
  }

  /** recordProblems, not validate: it also flags unreadable stage entries, as the device's rows do. */
  private counted<T extends { id: string; deletedAt?: number }>(kind: 'lead' | 'deal', record: T): T {
    const problems = recordProblems(this.pd, kind, record.id);
    return problems.length ? countable({ ...record, problems }) : record;
  }

  series(): PackedSeries[] {
    return packRollup(this.index.rollup);
  }

  close(): void {
    this.stop();
    this.pd.close();
  }
}

/** The buckets of every lead and deal of a partner's document in time zone `tz`, packed, once. */
export function foldPartner(partnerDoc: Y.Doc, tz: string): PackedSeries[] {
  const fold = new PartnerFold(partnerDoc, tz);
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
export function writePartnerRollup(programDoc: ProgramDoc, partnerId: string, series: readonly PackedSeries[], lastSyncAt: number): void {
  writeRollup(programDoc, partnerId, { lastSyncAt, series });
}
