/**
 * Today's overdue deals as reactive state: while the partner's records are loading, read by index
 * from the stored rows (the partner store's `overdueDeals`); once they are loaded, derived from
 * them. Both in the same order (list-query.ts `compareOverdue`).
 */
import type { Session } from '../app/session.svelte';
import { isOpenStage, type Deal } from '../domain/schema';
import { compareOverdue } from '../store/list-query';
import { dealMatcher } from './deal-board.svelte';

/** The deals of an open stage expected to close before `now`, of one rep or (undefined) all, longest overdue first. */
export function overdueDeals(deals: readonly Deal[], now: number, repId: string | undefined): Deal[] {
  const matches = dealMatcher(repId);
  return deals.filter((deal) => matches(deal) && isOpenStage(deal.stage) && deal.expectedCloseAt !== undefined && deal.expectedCloseAt < now).sort(compareOverdue);
}

export class OverdueDeals {
  private early = $state.raw<Deal[] | undefined>();
  private readonly all = $derived.by(() => (this.session.rowsReady ? overdueDeals(this.session.deals, this.session.currentTime, this.repId) : undefined));

  /** Call while a component initialises. */
  constructor(private readonly session: Session) {
    $effect(() => {
      const store = session.rowsStore;
      if (session.rowsReady || !store) return;
      const now = session.currentTime;
      const repId = this.repId;
      let current = true;
      void store.overdueDeals(now, dealMatcher(repId)).then((deals) => {
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
