/**
 * A list's first screen read straight from the projected rows by index, while the partner's
 * document is still loading: the newest leads, the deals of a stage in the board's order, one deal
 * by id. A few dozen rows, where loading every record of a large partner takes seconds.
 *
 * The order of each list is written here once, as a comparator that sorts exactly as the index
 * reads (ties by id, in the index's direction), so that the screen does not reorder when the loaded
 * records replace the rows read here. Rows a record's malformed key keeps out of an index (a
 * quarantined record, say) are not on the first screen; the loaded list has them.
 */
import { Dexie, type Collection } from 'dexie';
import { OPEN_STAGES, isOpenStage, type Deal, type Lead, type Stage } from '../domain/schema';
import type { DealRow, LeadRow, PartnerKpiDb } from './db';

const byIdAscending = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The Leads list's order: newest first, then by id (descending, as the index reads backwards). */
export function compareLeadsNewestFirst(a: Lead, b: Lead): number {
  return b.createdAt - a.createdAt || byIdAscending(b, a);
}

/**
 * The Deals board's order within a stage: an open stage by expected close (soonest first, those
 * without one last), then by id; a closed stage by close date (latest first, those without one
 * last), then by id descending.
 */
export function dealOrder(stage: Stage): (a: Deal, b: Deal) => number {
  if (isOpenStage(stage)) {
    return (a, b) => {
      const x = a.expectedCloseAt;
      const y = b.expectedCloseAt;
      if (x === y) return byIdAscending(a, b);
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return x - y;
    };
  }
  return (a, b) => {
    const x = a.closedAt;
    const y = b.closedAt;
    if (x === y) return byIdAscending(b, a);
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return y - x;
  };
}

/**
 * Rows read in one request each (IndexedDB's getAll, in either direction) and filtered here: a
 * cursor with the filter in it costs a round trip to the database and back per row. Past this
 * many rows read at once without enough matches (a rep's own few among thousands, a search), the
 * rest is read by cursor (the queries below take another bound: tests).
 */
const MOST_READ_AT_ONCE = 2_048;

/**
 * The first `limit` rows of `collection()` that `matches` accepts: the first rows read at once,
 * twice as many each time while too few match, then by cursor.
 */
async function firstMatching<T>(
  collection: () => Collection<T>,
  matches: (row: T) => boolean,
  limit: number,
  mostAtOnce: number,
): Promise<T[]> {
  if (limit <= 0) return [];
  for (let count = Math.max(2 * limit, 32); count <= mostAtOnce; count *= 2) {
    const rows = await collection().limit(count).toArray();
    const matched = rows.filter(matches);
    if (matched.length >= limit || rows.length < count) return matched.slice(0, limit);
  }
  return collection().filter(matches).limit(limit).toArray();
}

/**
 * The first `limit` leads, newest first, that `matches` accepts (the list's filter: not deleted,
 * the rep's own, the status, channel and search asked for).
 */
export function firstLeads(
  db: PartnerKpiDb,
  matches: (lead: LeadRow) => boolean,
  limit: number,
  mostAtOnce = MOST_READ_AT_ONCE,
): Promise<LeadRow[]> {
  return firstMatching(() => db.leads.orderBy('createdAt').reverse(), matches, limit, mostAtOnce);
}

/**
 * The first `limit` deals of a stage in the board's order (dealOrder) that `matches` accepts: read
 * along the index of the stage and the date it is sorted by, then, if that gives too few, those of
 * the stage without the date (a compound index leaves them out).
 */
export async function firstDealsOfStage(
  db: PartnerKpiDb,
  stage: Stage,
  matches: (deal: DealRow) => boolean,
  limit: number,
  mostAtOnce = MOST_READ_AT_ONCE,
): Promise<DealRow[]> {
  const open = isOpenStage(stage);
  const dated = () => {
    const range = db.deals
      .where(open ? '[stage+expectedCloseAt]' : '[stage+closedAt]')
      .between([stage, Dexie.minKey], [stage, Dexie.maxKey]);
    return open ? range : range.reverse();
  };
  const first = await firstMatching(dated, matches, limit, mostAtOnce);
  if (first.length >= limit) return first;
  const undated = () => {
    const range = db.deals.where('stage').equals(stage);
    return open ? range : range.reverse();
  };
  const rest = await firstMatching(
    undated,
    (deal) => (open ? deal.expectedCloseAt === undefined : deal.closedAt === undefined) && matches(deal),
    limit - first.length,
    mostAtOnce,
  );
  return [...first, ...rest];
}

/** Today's overdue deals' order: the longest overdue first (open stages' order, dealOrder). */
export const compareOverdue = dealOrder('prospecting');

/**
 * Every deal of an open stage expected to close before `before` that `matches` accepts, longest
 * overdue first: read along each open stage's index up to `before` (Today's overdue deals).
 */
export async function overdueDeals(
  db: PartnerKpiDb,
  before: number,
  matches: (deal: DealRow) => boolean,
): Promise<DealRow[]> {
  const stages = await Promise.all(
    OPEN_STAGES.map((stage) =>
      db.deals
        .where('[stage+expectedCloseAt]')
        .between([stage, Dexie.minKey], [stage, before], true, false)
        .toArray(),
    ),
  );
  return stages.flat().filter(matches).sort(compareOverdue);
}
