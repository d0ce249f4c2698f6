/**
 * The program benchmark as lines for a partner's screens (KPIs and Today): the partner's own figure
 * beside the program's median and the top quarter's threshold, in the interface's language
 * ("Win rate: yours 31% · program median 28% · top quarter from 40%"). Only KPIs the partner knows
 * its own figure of: its quality score is relative to the other partners' figures, which it never
 * sees, so that one is not shown.
 */
import {
  BENCHMARK_HIGHER_IS_BETTER,
  benchmarkPosition,
  isPublished,
  type Benchmark,
  type BenchmarkMetric,
  type BenchmarkPosition,
} from '../kpi/benchmark';
import type { CurrentFigures } from '../kpi/kpis';
import { formatMoneyShort, formatNumber, formatPercent } from '../ui/format';
import { m } from '../paraglide/messages';

const SHOWN = [
  'winRate',
  'averageDealSize',
  'closeRate',
  'dealVelocity',
  'averageCycleDays',
] as const satisfies readonly BenchmarkMetric[];

export interface BenchmarkLine {
  metric: BenchmarkMetric;
  label: string;
  /** "yours 31% · program median 28% · top quarter from 40%", or "not enough partners to compare". */
  text: string;
  position: BenchmarkPosition | undefined;
}

/**
 * The lines for the partner's own figures of the period (`computeCurrent`): a close rate too early
 * to judge is compared with nothing — the program's, of prospects as young, says as little.
 */
export function benchmarkLines(
  benchmark: Benchmark,
  { current: own, closeRateTooEarly }: CurrentFigures,
  currency: string,
  locale: string,
): BenchmarkLine[] {
  const format = (metric: BenchmarkMetric, value: number | null): string => {
    if (value === null) return '—';
    if (metric === 'winRate' || metric === 'closeRate') return formatPercent(value, locale);
    if (metric === 'averageCycleDays') return m.benchmark_days({ days: formatNumber(value, locale) });
    if (metric === 'dealVelocity') return m.per_day({ value: formatMoneyShort(value, currency, locale) });
    return formatMoneyShort(value, currency, locale);
  };
  const labels: Record<(typeof SHOWN)[number], string> = {
    winRate: m.win_rate(),
    averageDealSize: m.kpi_average_deal_size(),
    closeRate: m.kpi_close_rate(),
    dealVelocity: m.kpi_deal_velocity(),
    averageCycleDays: m.benchmark_sales_cycle(),
  };
  return SHOWN.map((metric) => {
    const mine = own[metric];
    const published = benchmark.metrics[metric];
    if (!isPublished(published))
      return { metric, label: labels[metric], text: m.benchmark_not_enough(), position: undefined };
    if (metric === 'closeRate' && closeRateTooEarly)
      return { metric, label: labels[metric], text: m.kpi_close_rate_too_early(), position: undefined };
    const top = BENCHMARK_HIGHER_IS_BETTER[metric] ? published.upperQuartile : published.lowerQuartile;
    return {
      metric,
      label: labels[metric],
      text: m.benchmark_line({
        yours: format(metric, mine),
        median: format(metric, published.median),
        top: format(metric, top),
      }),
      position: benchmarkPosition(metric, mine, published),
    };
  });
}
