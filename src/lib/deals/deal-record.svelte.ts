/**
 * A deal's page's deal (and the lead it came from) as reactive state: while the partner's records
 * are loading, its stored row read by id (the partner store's `dealById`, `leadById`); once they
 * are loaded, the loaded row, which follows every change.
 */
import type { Session } from '../app/session';
import type { DealRow, LeadRow } from '../store/db';

export class DealRecord {
  /** The rows read before the records were loaded: null when there is no such record. */
  private early = $state.raw<
    { id: string; deal: DealRow | null; lead: LeadRow | null | undefined } | undefined
  >();
  private readonly loaded = $derived.by(() =>
    this.session.rowsReady ? this.session.deals.find((candidate) => candidate.id === this.id()) : undefined,
  );

  /** Call while a component initialises; `id`: the deal's id (the page's parameter). */
  constructor(
    private readonly session: Session,
    private readonly id: () => string,
  ) {
    $effect(() => {
      const store = session.rowsStore;
      const id = this.id();
      if (session.rowsReady || !store) return;
      let current = true;
      void store.dealById(id).then(async (deal) => {
        const lead = deal?.leadId === undefined ? undefined : await store.leadById(deal.leadId);
        if (current && deal !== undefined) this.early = { id, deal, lead };
      });
      return () => {
        current = false;
      };
    });
  }

  private get read() {
    return this.early?.id === this.id() ? this.early : undefined;
  }

  /** The deal, once known. */
  get deal(): DealRow | undefined {
    return this.session.rowsReady ? this.loaded : (this.read?.deal ?? undefined);
  }

  /** The lead the deal came from, if any and once known. */
  get lead(): LeadRow | undefined {
    const leadId = this.deal?.leadId;
    if (leadId === undefined) return undefined;
    return this.session.rowsReady
      ? this.session.leads.find((candidate) => candidate.id === leadId)
      : (this.read?.lead ?? undefined);
  }

  /** Whether it is known that there is no such deal. */
  get missing(): boolean {
    return this.session.rowsReady ? this.loaded === undefined : this.read?.deal === null;
  }
}
