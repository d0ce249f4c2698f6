/**
 * The Deals board as reactive state: each stage's deals in the board's order, how many and their
 * amounts' sum. While the partner's records are loading, each stage's first deals are read by index
 * from the stored rows and the totals come from the stored counts (the partner store's
 * `firstDealsOfStage` and `listSummary`); once they are loaded, all is derived from them. Both give
 * the same deals in the same order (list-query.ts `dealOrder`), so the screen does not jump.
 */
import type { Session } from '../app/session';
import { LIST_ON_SCREEN, markOnce } from '../app/marks';
import { STAGES, type Deal, type Stage } from '../domain/schema';
import { dealOrder } from '../store/list-query';
import { boardAmount } from '../store/list-summary';

export interface StageColumn {
  stage: Stage;
  /** The deals shown, in the board's order. */
  deals: Deal[];
  /** How many deals the stage has, and the sum of their amounts. */
  count: number;
  value: number;
}

/** Whether the board shows a deal: not deleted, and the rep's own unless `repId` is undefined (a manager sees all). */
export function dealMatcher(repId?: string): (deal: Deal) => boolean {
  return (deal) => deal.deletedAt === undefined && (repId === undefined || deal.repId === repId);
}

/** The board from every deal: per stage, the first `shown(stage)` in order, with the stage's count and sum. */
export function dealBoard(
  deals: readonly Deal[],
  repId: string | undefined,
  shown: (stage: Stage) => number,
): StageColumn[] {
  const matches = dealMatcher(repId);
  const byStage = new Map<Stage, Deal[]>(STAGES.map((stage) => [stage, []]));
  for (const deal of deals) if (matches(deal)) byStage.get(deal.stage)?.push(deal);
  return STAGES.map((stage) => {
    const all = byStage.get(stage)!.sort(dealOrder(stage));
    return {
      stage,
      deals: all.slice(0, shown(stage)),
      count: all.length,
      value: all.reduce((sum, deal) => sum + boardAmount(deal), 0),
    };
  });
}

export class DealBoard {
  private early = $state.raw<StageColumn[] | undefined>();
  private readonly all = $derived.by(() =>
    this.session.rowsReady ? dealBoard(this.session.deals, this.repId, this.shown) : undefined,
  );

  /** Call while a component initialises; `shown(stage)`: how many deals of a stage to show. */
  constructor(
    private readonly session: Session,
    private readonly shown: (stage: Stage) => number,
  ) {
    $effect(() => {
      const store = session.rowsStore;
      if (session.rowsReady || !store) return;
      const repId = this.repId;
      const limits = STAGES.map((stage) => this.shown(stage));
      const matches = dealMatcher(repId);
      let current = true;
      void Promise.all(STAGES.map((stage, i) => store.firstDealsOfStage(stage, matches, limits[i]!))).then(
        (firsts) => {
          const summary = store.listSummary();
          if (!current || !summary || firsts.some((deals) => deals === undefined)) return;
          this.early = STAGES.map((stage, i) => ({
            stage,
            deals: firsts[i]!,
            ...summary.stageTotal(stage, repId),
          }));
        },
      );
      return () => {
        current = false;
      };
    });
    // Benchmarks read this mark: the time from navigation to the board's first deals on screen.
    $effect(() => {
      if (this.columns?.some((column) => column.deals.length > 0)) markOnce(LIST_ON_SCREEN.deals);
    });
  }

  private get repId(): string | undefined {
    return this.session.isManager ? undefined : this.session.identity?.repId;
  }

  /** The stages in order, or undefined while there is nothing to show yet. */
  get columns(): StageColumn[] | undefined {
    return this.all ?? this.early;
  }
}
