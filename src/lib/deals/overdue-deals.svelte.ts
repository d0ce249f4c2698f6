/**
 * Today's overdue deals as reactive state: while the partner's records are loading, read by index
 * from the stored rows (the partner store's `overdueDeals`); once they are loaded, derived from
 * them. Both in the same order (list-query.ts `compareOverdue`).
 */
import type { Session } from '../app/session';
import { isOpenStage, type Deal } from '../domain/schema';
import { isOverdue } from '../kpi/buckets';
import { localDayOf, startOfLocalDay } from '../kpi/calendar';
import { compareOverdue } from '../store/list-query';
import { dealMatcher } from './deal-board.svelte';

/**
 * The deals of an open stage overdue on the day that begins at `todayStart` (`isOverdue`, as the
 * KPI counts them), of one rep or (undefined) all, longest overdue first.
 */
export function overdueDeals(deals: readonly Deal[], todayStart: number, repId: string | undefined): Deal[] {
  const matches = dealMatcher(repId);
  return deals
    .filter((deal) => matches(deal) && isOpenStage(deal.stage) && isOverdue(deal, todayStart))
    .sort(compareOverdue);
}

export class OverdueDeals {
  private early = $state.raw<Deal[] | undefined>();
  /** The instant today began in the program's zone: what was due before it is overdue. */
  private readonly todayStart = $derived.by(() => {
    const tz = this.session.program?.timeZone;
    return tz === undefined ? undefined : startOfLocalDay(localDayOf(tz)(this.session.currentTime), tz);
  });
  private readonly all = $derived.by(() =>
    this.session.rowsReady && this.todayStart !== undefined
      ? overdueDeals(this.session.deals, this.todayStart, this.repId)
      : undefined,
  );

  /** Call while a component initialises. */
  constructor(private readonly session: Session) {
    $effect(() => {
      const store = session.rowsStore;
      const todayStart = this.todayStart;
      if (session.rowsReady || !store || todayStart === undefined) return;
      const matches = dealMatcher(this.repId);
      let current = true;
      void store
        .overdueDeals(todayStart, (deal) => matches(deal) && deal.createdAt < todayStart)
        .then((deals) => {
          if (current) this.early = deals;
        });
      return () => {
        current = false;
      };
    });
  }

  private get repId(): string | undefined {
    return this.session.isManager ? undefined : this.session.identity?.repId;
  }

  /** The overdue deals, or undefined while they are not known yet. */
  get deals(): Deal[] | undefined {
    return this.all ?? this.early;
  }
}
