/**
 * The vendor console's state, shared by its screens (program, partners, channels, a partner): the
 * chosen period, and the figures derived from the rollups room for it — the program's from its
 * buckets by day (exact for any period), the partners' from their buckets by month (exact for
 * whole months; any other period is widened to the months that cover it, and the screens say so).
 * Everything is derived, so a rollup the server writes while a screen is open (a partner's device
 * just synced) updates the figures on screen without a reload; the arithmetic is in the pure
 * modules beside this.
 */
import { getContext, setContext } from 'svelte';
import type { Session } from '../app/session';
import { selectedRanges, type Comparison, type PeriodSelection } from '../app/period';
import { language } from '../i18n/i18n.svelte';
import type { Partner, Program, TargetEntry } from '../domain/schema';
import { coveringMonths, isWholeMonths, previousRange } from '../kpi/calendar';
import { partnersNeedingAttention, type PartnerAttention } from './attention';
import {
  attentionInputs,
  lastSyncs,
  partnerFigures,
  programFigures,
  programRollup,
  type PartnerRanges,
  type PeriodFigures,
} from './program-figures';
import { partnerRanking, type PartnerRankRow } from './ranking';
import { quarterFigures, quarterOf, targetFor, type Quarter, type QuarterFigures } from './targets';

export class VendorConsole {
  selection = $state<PeriodSelection>({ choice: 'thisMonth', from: '', to: '' });
  readonly session: Session;

  constructor(session: Session) {
    this.session = session;
  }

  /** The program: the vendor layout shows the console's screens only once it is known. */
  private get program(): Program {
    const program = this.session.program;
    if (!program) throw new Error('The vendor console was read before the program was known.');
    return program;
  }

  get tz(): string {
    return this.program.timeZone;
  }

  get currency(): string {
    return this.program.currency;
  }

  /** The program's partners that are not deleted, by name. */
  readonly partners = $derived.by((): Partner[] =>
    (this.session.directory?.partners ?? [])
      .filter((partner) => partner.deletedAt === undefined)
      .sort((a, b) => a.name.localeCompare(b.name)),
  );

  /** The chosen period and the one before it, or why a custom range is wrong. */
  readonly ranges = $derived.by((): Comparison | { error: string } =>
    selectedRanges(this.selection, this.session.currentTime, this.tz, language.intl),
  );

  /** Every partner's buckets by month added up: recomputed only when the server writes a rollup. */
  readonly rollup = $derived.by(() => programRollup(this.session.partnerRollups.rollups, this.tz));

  readonly lastSyncAt = $derived.by(() => lastSyncs(this.session.partnerRollups.rollups));

  /**
   * The period partners are compared over, and the one before: the chosen one when it is whole
   * months, else the months that cover it (`widened`: the screens say so). While the period is
   * under way there is nothing to compare partners with: their buckets by month cannot give the
   * same days of the period before (`running`: the screens say so).
   */
  readonly partnerRanges = $derived.by(
    (): (PartnerRanges & { widened: boolean; running: boolean }) | undefined => {
      if ('error' in this.ranges) return undefined;
      const { range, previous, today, running } = this.ranges;
      const widened = !isWholeMonths(range);
      const months = widened ? coveringMonths(range) : range;
      if (running) return { range: months, today, widened, running };
      return { range: months, previous: widened ? previousRange(months) : previous, today, widened, running };
    },
  );

  /** Every partner's KPIs side by side (scope `all` over their buckets by month): quality scores rank them. */
  readonly partnersFigures = $derived.by((): PeriodFigures | undefined =>
    this.partnerRanges ? partnerFigures(this.rollup, undefined, this.partnerRanges) : undefined,
  );

  /**
   * The whole program's KPIs for the period and the one before, from its buckets by day; from the
   * partners' by month while the server has not written those yet. Undefined while a custom range is wrong.
   */
  readonly figures = $derived.by((): PeriodFigures | undefined => {
    if ('error' in this.ranges) return undefined;
    const totals = this.session.programTotals;
    if ('rollup' in totals && totals.rollup.tz === this.tz) return programFigures(totals.rollup, this.ranges);
    return this.partnersFigures;
  });

  readonly ranking = $derived.by((): PartnerRankRow[] => {
    if (!this.partnersFigures) return [];
    return partnerRanking({
      qualityScores: this.partnersFigures.current.qualityScores,
      partners: this.session.directory?.partners ?? [],
      lastSyncAt: this.lastSyncAt,
      unavailable: this.session.partnerRollups.problems,
      now: this.session.currentTime,
    });
  });

  readonly attention = $derived.by((): PartnerAttention[] => {
    if (!this.partnersFigures || !this.partnerRanges) return [];
    return partnersNeedingAttention(
      attentionInputs({
        rollup: this.rollup,
        rollupOf: (partnerId) => this.session.partnerRollups.rollups.get(partnerId)?.rollup,
        program: this.partnersFigures.current,
        partners: this.partners,
        lastSyncAt: this.lastSyncAt,
        targets: this.session.targets,
        ranges: this.partnerRanges,
        now: this.session.currentTime,
        tz: this.tz,
      }),
    );
  });

  /** The current quarter in the program's zone. */
  get quarter(): Quarter {
    return quarterOf(this.session.currentTime, this.tz);
  }

  /** Partner names by id (the attention list names every partner it lists). */
  private readonly names = $derived.by(
    () => new Map((this.session.directory?.partners ?? []).map((partner) => [partner.id, partner.name])),
  );

  partnerName(partnerId: string): string {
    return this.names.get(partnerId) ?? partnerId;
  }

  /** One partner's KPIs for the period (`partnerRanges`) and the one before. */
  partnerFigures(partnerId: string): PeriodFigures | undefined {
    if (!this.partnerRanges) return undefined;
    const own = this.session.partnerRollups.rollups.get(partnerId)?.rollup;
    return partnerFigures(own ?? this.rollup, partnerId, this.partnerRanges, { forCards: true });
  }

  /** One partner's quarter so far (revenue and deals won, open pipeline). */
  quarterFigures(partnerId: string): QuarterFigures {
    return quarterFigures(
      this.session.partnerRollups.rollups.get(partnerId)?.rollup ?? this.rollup,
      partnerId,
      this.session.currentTime,
      this.tz,
    );
  }

  target(partnerId: string, quarter: string): TargetEntry | undefined {
    return targetFor(this.session.targets, partnerId, quarter);
  }
}

const CONSOLE = Symbol('vendor console');

export function provideVendorConsole(console: VendorConsole): VendorConsole {
  return setContext(CONSOLE, console);
}

/** The console of the vendor layout; every vendor screen has one. */
export function useVendorConsole(): VendorConsole {
  const found = getContext<VendorConsole | undefined>(CONSOLE);
  if (!found) throw new Error('useVendorConsole() outside the vendor layout');
  return found;
}
