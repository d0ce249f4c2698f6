/**
 * What the lists count, kept with the projected rows: live leads by rep × status × channel, live
 * deals by rep × stage (how many, and the sum of their amounts). The Leads list's "Leads shown: N"
 * and the Deals board's stage headings read it while the records are still loading, so that a
 * list's first screen is a few dozen rows read by index plus this one small value, not 60,000 rows
 * (list-query.ts). Once the records are loaded the screens count them themselves.
 *
 * The summary is stored whole (a few KB) in the same IndexedDB transaction as every change of the
 * rows, so the stored one always counts the stored rows. Pure: no Dexie, no clock.
 */
import type { Channel, LeadStatus, Stage } from '../domain/schema';
import type { DealRow, LeadRow } from './db';

/** Bump when what is counted, or how it is stored, changes: a stored summary of another version is not used. */
export const LIST_SUMMARY_VERSION = 1;

/** The stored form: plain arrays, as IndexedDB keeps them. */
export interface StoredListSummary {
  room: string;
  version: number;
  /** [repId, status, channel, count] */
  leads: [string, string, string, number][];
  /** [repId, stage, count, sum of amounts] */
  deals: [string, string, number, number][];
}

export interface StageTotal {
  count: number;
  value: number;
}

const SEPARATOR = '\u0000';
const keyOf = (...parts: string[]) => parts.join(SEPARATOR);
const partsOf = (key: string) => key.split(SEPARATOR);

/** The list shows every record that is not deleted, quarantined ones too (marked so). */
const isListed = (row: { deletedAt?: number }) => row.deletedAt === undefined;
/** What a deal adds to its stage's sum on the Deals board: a quarantined amount that is not a number adds nothing. */
export const boardAmount = (row: DealRow) =>
  typeof row.amount === 'number' && Number.isFinite(row.amount) ? row.amount : 0;

export class ListSummary {
  /**
   * Each listed record's part in the counts, by id: the number of its key in `keys` (a few hundred
   * keys for 60,000 records: small integers, no object or string per record, for the garbage
   * collector to walk), and a deal's amount.
   */
  private readonly leadParts = new Map<string, number>();
  private readonly dealParts = new Map<string, number>();
  private readonly dealAmounts = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly keyNumbers = new Map<string, number>();
  private readonly leadCounts = new Map<string, number>();
  private readonly dealTotals = new Map<string, StageTotal>();

  private keyNumber(key: string): number {
    let number = this.keyNumbers.get(key);
    if (number === undefined) {
      number = this.keys.push(key) - 1;
      this.keyNumbers.set(key, number);
    }
    return number;
  }

  /** Counts every row. */
  static build(leads: readonly LeadRow[], deals: readonly DealRow[]): ListSummary {
    const summary = new ListSummary();
    for (const lead of leads) summary.upsertLead(lead);
    for (const deal of deals) summary.upsertDeal(deal);
    return summary;
  }

  /**
   * The counts of a stored summary, for reading only (no record is known, so it cannot follow
   * changes); undefined if it is another room's or another version's, or not a summary at all.
   */
  static fromStored(value: unknown, room: string): ListSummary | undefined {
    const stored = value as Partial<StoredListSummary> | undefined;
    if (
      !stored ||
      stored.room !== room ||
      stored.version !== LIST_SUMMARY_VERSION ||
      !Array.isArray(stored.leads) ||
      !Array.isArray(stored.deals)
    )
      return undefined;
    const summary = new ListSummary();
    for (const entry of stored.leads) {
      if (!Array.isArray(entry) || entry.length !== 4 || typeof entry[3] !== 'number') return undefined;
      summary.leadCounts.set(keyOf(String(entry[0]), String(entry[1]), String(entry[2])), entry[3]);
    }
    for (const entry of stored.deals) {
      if (
        !Array.isArray(entry) ||
        entry.length !== 4 ||
        typeof entry[2] !== 'number' ||
        typeof entry[3] !== 'number'
      )
        return undefined;
      summary.dealTotals.set(keyOf(String(entry[0]), String(entry[1])), { count: entry[2], value: entry[3] });
    }
    return summary;
  }

  /** A lead's new row: its old part is taken out, its new one counted. */
  upsertLead(row: LeadRow): void {
    const old = this.leadParts.get(row.id);
    if (old !== undefined) add(this.leadCounts, this.keys[old]!, -1);
    if (!isListed(row)) {
      this.leadParts.delete(row.id);
      return;
    }
    const key = keyOf(String(row.repId), String(row.status), String(row.channel));
    this.leadParts.set(row.id, this.keyNumber(key));
    add(this.leadCounts, key, 1);
  }

  upsertDeal(row: DealRow): void {
    const old = this.dealParts.get(row.id);
    if (old !== undefined) addTotal(this.dealTotals, this.keys[old]!, -1, -this.dealAmounts.get(row.id)!);
    if (!isListed(row)) {
      this.dealParts.delete(row.id);
      this.dealAmounts.delete(row.id);
      return;
    }
    const key = keyOf(String(row.repId), String(row.stage));
    const amount = boardAmount(row);
    this.dealParts.set(row.id, this.keyNumber(key));
    this.dealAmounts.set(row.id, amount);
    addTotal(this.dealTotals, key, 1, amount);
  }

  /** How many listed leads match; `undefined` in a filter field matches every value. */
  leadCount(filter: { repId?: string; status?: LeadStatus; channel?: Channel }): number {
    let count = 0;
    for (const [key, n] of this.leadCounts) {
      const [repId, status, channel] = partsOf(key);
      if (
        (filter.repId === undefined || repId === filter.repId) &&
        (filter.status === undefined || status === filter.status) &&
        (filter.channel === undefined || channel === filter.channel)
      )
        count += n;
    }
    return count;
  }

  /** The listed deals of a stage: how many and their amounts' sum, of one rep or (undefined) of all. */
  stageTotal(stage: Stage, repId?: string): StageTotal {
    const total = { count: 0, value: 0 };
    for (const [key, { count, value }] of this.dealTotals) {
      const [rep, keyStage] = partsOf(key);
      if (keyStage === stage && (repId === undefined || rep === repId)) {
        total.count += count;
        total.value += value;
      }
    }
    return total;
  }

  toStored(room: string): StoredListSummary {
    return {
      room,
      version: LIST_SUMMARY_VERSION,
      leads: [...this.leadCounts].map(([key, count]) => {
        const [repId = '', status = '', channel = ''] = partsOf(key);
        return [repId, status, channel, count];
      }),
      deals: [...this.dealTotals].map(([key, { count, value }]) => {
        const [repId = '', stage = ''] = partsOf(key);
        return [repId, stage, count, value];
      }),
    };
  }
}

function add(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next === 0) counts.delete(key);
  else counts.set(key, next);
}

function addTotal(totals: Map<string, StageTotal>, key: string, count: number, value: number): void {
  const current = totals.get(key) ?? { count: 0, value: 0 };
  const next = { count: current.count + count, value: current.value + value };
  if (next.count === 0) totals.delete(key);
  else totals.set(key, next);
}
