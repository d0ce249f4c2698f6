/**
 * The eight KPIs as cards for the screens: formatted values and the change against the previous
 * period, in the interface's language.
 */
import type { CurrentFigures, KpiFigures } from '../kpi/kpis';
import { changeOf, type Trend } from '../ui/change';
import { formatDayRange, formatMoneyShort, formatNumber, formatPercent } from '../ui/format';
import type { Comparison } from './period';
import { m } from '../paraglide/messages';

export interface KpiCardView {
  key: string;
  label: string;
  value: string;
  change: string;
  trend: Trend;
  hint: string;
}

/**
 * The cards of a period against the one it is compared with (no change shown without one). A close
 * rate too early to judge shows no change and says why: its prospects have not had a sales cycle's
 * time to buy.
 */
export function kpiCards(
  { current, previous, closeRateTooEarly }: CurrentFigures & { previous?: KpiFigures },
  currency: string,
  locale: string,
): KpiCardView[] {
  const money = (minor: number | null) => formatMoneyShort(minor, currency, locale);
  type Figure = (figures: KpiFigures) => number | null;
  const days = (count: number) => m.day_count({ count, n: formatNumber(count, locale, 0) });
  const card = (
    key: string,
    label: string,
    value: string,
    figure: Figure,
    kind: 'ratio' | 'count' | 'money',
    hint = '',
    higherIsBetter = true,
  ): KpiCardView => {
    const change = changeOf(
      figure(current),
      previous ? figure(previous) : null,
      kind,
      locale,
      higherIsBetter,
    );
    return {
      key,
      label,
      value,
      change: change.fromZero ? m.change_new() : change.text,
      trend: change.trend,
      hint,
    };
  };
  return [
    card(
      'averageDealSize',
      m.kpi_average_deal_size(),
      money(current.averageDealSize),
      (f) => f.averageDealSize,
      'money',
    ),
    card(
      'dealCount',
      m.kpi_deal_count(),
      formatNumber(current.dealCount, locale),
      (f) => f.dealCount,
      'count',
      m.kpi_lost_count({ count: formatNumber(current.lostCount, locale) }),
    ),
    card('revenue', m.kpi_revenue(), money(current.revenue), (f) => f.revenue, 'money'),
    // The open pipeline and what of it is overdue are figures of now, in both periods (the deals
    // open now): comparing them says nothing of the period, so no change is shown.
    card(
      'pipeline',
      m.kpi_pipeline(),
      money(current.pipeline.value),
      () => null,
      'money',
      m.kpi_pipeline_hint({
        count: formatNumber(current.pipeline.count, locale),
        weighted: money(current.pipeline.weighted),
      }),
    ),
    closeRateTooEarly
      ? {
          key: 'closeRate',
          label: m.kpi_close_rate(),
          value: formatPercent(current.closeRate, locale),
          change: m.kpi_close_rate_too_early(),
          trend: 'flat',
          hint: m.kpi_close_rate_too_early_hint({
            age: days(closeRateTooEarly.ageDays),
            cycle: days(Math.round(closeRateTooEarly.cycleDays)),
          }),
        }
      : card(
          'closeRate',
          m.kpi_close_rate(),
          formatPercent(current.closeRate, locale),
          (f) => f.closeRate,
          'ratio',
          m.kpi_close_rate_hint({
            converted: formatNumber(current.converted, locale),
            prospects: formatNumber(current.prospects, locale),
          }),
        ),
    card(
      'dealVelocity',
      m.kpi_deal_velocity(),
      current.dealVelocity === null ? '—' : m.per_day({ value: money(current.dealVelocity) }),
      (f) => f.dealVelocity,
      'money',
      current.averageCycleDays === null
        ? ''
        : m.kpi_cycle_hint({ days: formatNumber(current.averageCycleDays, locale) }),
    ),
    card(
      'dealSuccess',
      m.kpi_deal_success(),
      formatPercent(current.dealSuccess, locale),
      (f) => f.dealSuccess,
      'ratio',
    ),
    card(
      'overdue',
      m.kpi_overdue(),
      formatNumber(current.pipeline.overdue, locale),
      () => null,
      'count',
      '',
      false,
    ),
  ];
}

/** The days a comparison puts side by side: a running period's so far, and the previous period's same days. */
function comparedDays(compared: Comparison, locale: string): { current: string; previous: string } {
  const { range, previous, running, today } = compared;
  return {
    current: formatDayRange(running ? { fromDay: range.fromDay, toDay: today + 1 } : range, locale),
    previous: formatDayRange(previous, locale),
  };
}

/** What the cards compare, in a sentence under them ("1–6 Dec 2026 so far, compared with the same days of the period before: 1–6 Nov 2026."). */
export function comparisonNote(compared: Comparison, locale: string): string {
  const days = comparedDays(compared, locale);
  return compared.running ? m.compared_running(days) : m.compared_whole(days);
}

/** What the cards compare, short, for a heading ("1–6 Dec 2026 vs. 1–6 Nov 2026"). */
export function comparisonTitle(compared: Comparison, locale: string): string {
  return m.today_running(comparedDays(compared, locale));
}
