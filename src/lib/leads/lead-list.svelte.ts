/**
 * The rows the Leads list shows, as reactive state: while the partner's records are loading, the
 * first screen read by index from the stored rows and the count from the stored counts (the
 * partner store's `firstLeads` and `listSummary`); once they are loaded, the list derived from them.
 * Both give the same rows in the same order (list-query.ts), so the screen does not jump.
 */
import type { Session } from '../app/session';
import { LIST_ON_SCREEN, markOnce } from '../app/marks';
import type { Lead } from '../domain/schema';
import { filterLeads, leadMatcher, type LeadFilter } from './lead.service';

export class LeadList {
  /** The first screen read before the records were loaded, for the filter and length asked. */
  private early = $state.raw<{ rows: Lead[]; count: number | undefined } | undefined>();
  private readonly all = $derived.by(() =>
    this.session.rowsReady ? filterLeads(this.session.leads, this.filter(), this.repId) : undefined,
  );

  /** Call while a component initialises: the first-screen read follows the filter and the length as they change. */
  constructor(
    private readonly session: Session,
    private readonly filter: () => LeadFilter,
    private readonly shown: () => number,
  ) {
    $effect(() => {
      const store = session.rowsStore;
      if (session.rowsReady || !store) return;
      const filter = { ...this.filter() };
      const repId = this.repId;
      const limit = this.shown();
      let current = true;
      void store.firstLeads(leadMatcher(filter, repId), limit + 1).then((rows) => {
        if (!current) return;
        // The stored counts cannot count a search: the count waits for the records then.
        const count =
          filter.search.trim() === ''
            ? store.listSummary()?.leadCount({
                repId,
                status: filter.status || undefined,
                channel: filter.channel || undefined,
              })
            : undefined;
        this.early = rows && { rows, count };
      });
      return () => {
        current = false;
      };
    });
    // Benchmarks read this mark: the time from navigation to the list's first rows on screen.
    $effect(() => {
      if (this.rows.length > 0) markOnce(LIST_ON_SCREEN.leads);
    });
  }

  /** Whose leads: the rep's own, or (a manager) everyone's. */
  private get repId(): string | undefined {
    return this.session.isManager ? undefined : this.session.identity?.repId;
  }

  /** Whether there is nothing to show yet (the stored rows cannot be read before the records: another partner's, say). */
  get loading(): boolean {
    return this.all === undefined && this.early === undefined;
  }

  /** The leads on screen, newest first. */
  get rows(): Lead[] {
    return (this.all ?? this.early?.rows ?? []).slice(0, this.shown());
  }

  /** How many leads match the filter; undefined while that is not known yet (a search before the records are loaded). */
  get count(): number | undefined {
    return this.all ? this.all.length : this.early?.count;
  }

  /** Whether more leads match than are shown. */
  get hasMore(): boolean {
    return (this.all ?? this.early?.rows ?? []).length > this.shown();
  }
}
