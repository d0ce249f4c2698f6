/**
 * The eight KPIs as cards for the screens: formatted values and the change against the previous
 * period, in the interface's language.
 */
import type { KpiFigures } from '../kpi/kpis';
import { changeOf, type Trend } from '../ui/change';
import { formatMoneyShort, formatNumber, formatPercent } from '../ui/format';
import { m } from '../paraglide/messages';

export interface KpiCardView {
  key: string;
  label: string;
  value: string;
  change: string;
  trend: Trend;
  hint: string;
}

export function kpiCards(current: KpiFigures, previous: KpiFigures, currency: string, locale: string): KpiCardView[] {
  const money = (minor: number | null) => formatMoneyShort(minor, currency, locale);
  const card = (key: string, label: string, value: string, now: number | null, before: number | null, kind: 'ratio' | 'count' | 'money', hint = '', higherIsBetter = true): KpiCardView => {
    const change = changeOf(now, before, kind, locale, higherIsBetter);
    return { key, label, value, change: change.fromZero ? m.change_new() : change.text, trend: change.trend, hint };
  };
  return [
    card('averageDealSize', m.kpi_average_deal_size(), money(current.averageDealSize), current.averageDealSize, previous.averageDealSize, 'money'),
    card('dealCount', m.kpi_deal_count(), formatNumber(current.dealCount, locale), current.dealCount, previous.dealCount, 'count', m.kpi_lost_count({ count: formatNumber(current.lostCount, locale) })),
    card('revenue', m.kpi_revenue(), money(current.revenue), current.revenue, previous.revenue, 'money'),
    card('pipeline', m.kpi_pipeline(), money(current.pipeline.value), current.pipeline.value, previous.pipeline.value, 'money',
      m.kpi_pipeline_hint({ count: formatNumber(current.pipeline.count, locale), weighted: money(current.pipeline.weighted) })),
    card('closeRate', m.kpi_close_rate(), formatPercent(current.closeRate, locale), current.closeRate, previous.closeRate, 'ratio',
      m.kpi_close_rate_hint({ converted: formatNumber(current.converted, locale), prospects: formatNumber(current.prospects, locale) })),
    card('dealVelocity', m.kpi_deal_velocity(), current.dealVelocity === null ? '—' : m.per_day({ value: money(current.dealVelocity) }), current.dealVelocity, previous.dealVelocity, 'money',
      current.averageCycleDays === null ? '' : m.kpi_cycle_hint({ days: formatNumber(current.averageCycleDays, locale) })),
    card('dealSuccess', m.kpi_deal_success(), formatPercent(current.dealSuccess, locale), current.dealSuccess, previous.dealSuccess, 'ratio'),
    card('overdue', m.kpi_overdue(), formatNumber(current.pipeline.overdue, locale), current.pipeline.overdue, previous.pipeline.overdue, 'count', '', false),
  ];
}
