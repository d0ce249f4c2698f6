/**
 * The vendor console's state, shared by its screens (program, partners, channels, a partner): the
 * chosen period, and the figures derived from the program document's rollups for it. Everything is
 * derived, so a rollup the server writes while a screen is open (a partner's device just synced)
 * updates the figures on screen without a reload; the arithmetic is in the pure modules beside this.
 */
import { getContext, setContext } from 'svelte';
import type { Session } from '../app/session.svelte';
import { selectedRanges, type PeriodSelection } from '../app/period';
import type { Partner } from '../domain/schema';
import type { DayRange } from '../kpi/calendar';
import { partnersNeedingAttention, type PartnerAttention } from './attention';
import { attentionInputs, lastSyncs, partnerFigures, programFigures, programRollup, quarterFigures, type PeriodFigures, type QuarterFigures } from './program-figures';
import { partnerRanking, type PartnerRankRow } from './ranking';
import { quarterOf, targetFor, type Quarter } from './targets';
import type { TargetEntry } from '../sync/program-doc';

export class VendorConsole {
  selection = $state<PeriodSelection>({ choice: 'thisMonth', from: '', to: '' });
  readonly session: Session;

  constructor(session: Session) {
    this.session = session;
  }

  get tz(): string {
    return this.session.program!.timeZone;
  }

  get currency(): string {
    return this.session.program!.currency;
  }

  /** The program's partners that are not deleted, by name. */
  readonly partners = $derived.by((): Partner[] =>
    (this.session.directory?.partners ?? []).filter((partner) => partner.deletedAt === undefined).sort((a, b) => a.name.localeCompare(b.name)),
  );

  /** The chosen period and the one before it, or why a custom range is wrong. */
  readonly ranges = $derived.by((): { range: DayRange; previous: DayRange } | { error: string } => selectedRanges(this.selection, this.session.currentTime, this.tz));

  /** Every partner's buckets added up: recomputed only when the server writes a rollup. */
  readonly rollup = $derived.by(() => programRollup(this.session.partnerRollups.rollups, this.tz));

  readonly lastSyncAt = $derived.by(() => lastSyncs(this.session.partnerRollups.rollups));

  /** The whole program's KPIs for the period and the one before; undefined while a custom range is wrong. */
  readonly figures = $derived.by((): PeriodFigures | undefined => ('error' in this.ranges ? undefined : programFigures(this.rollup, this.ranges.range, this.ranges.previous)));

  readonly ranking = $derived.by((): PartnerRankRow[] => {
    if (!this.figures) return [];
    return partnerRanking({
      qualityScores: this.figures.current.qualityScores,
      partners: this.session.directory?.partners ?? [],
      lastSyncAt: this.lastSyncAt,
      unavailable: this.session.partnerRollups.problems,
      now: this.session.currentTime,
    });
  });

  readonly attention = $derived.by((): PartnerAttention[] => {
    if (!this.figures || 'error' in this.ranges) return [];
    return partnersNeedingAttention(
      attentionInputs({
        rollup: this.rollup,
        program: this.figures.current,
        partners: this.partners,
        lastSyncAt: this.lastSyncAt,
        targets: this.session.targets,
        range: this.ranges.range,
        previous: this.ranges.previous,
        now: this.session.currentTime,
        tz: this.tz,
      }),
    );
  });

  /** The current quarter in the program's zone. */
  get quarter(): Quarter {
    return quarterOf(this.session.currentTime, this.tz);
  }

  partnerName(partnerId: string): string {
    return this.session.directory?.partners.find((partner) => partner.id === partnerId)?.name ?? partnerId;
  }

  /** One partner's KPIs for the period and the one before. */
  partnerFigures(partnerId: string): PeriodFigures | undefined {
    return 'error' in this.ranges ? undefined : partnerFigures(this.rollup, partnerId, this.ranges.range, this.ranges.previous);
  }

  /** One partner's quarter so far (revenue and deals won, open pipeline). */
  quarterFigures(partnerId: string): QuarterFigures {
    return quarterFigures(this.rollup, partnerId, this.session.currentTime, this.tz);
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
