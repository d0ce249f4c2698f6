/**
 * The KPI report as plain text for a person at a terminal: the same figures as the JSON report,
 * with the previous period alongside and the change against it.
 */
import { CHANNELS, OPEN_STAGES } from '../domain/schema';
import type { KpiReport } from './report';

const dash = '—';

function num(value: number | null, decimals = 2): string {
  if (value === null) return dash;
  return value.toLocaleString('en-IN', { maximumFractionDigits: decimals });
}

function pct(value: number | null): string {
  return value === null ? dash : `${(value * 100).toFixed(1)}%`;
}

function change(current: number | null, previous: number | null, asPercentPoints = false): string {
  if (current === null || previous === null) return '';
  if (asPercentPoints) {
    const points = (current - previous) * 100;
    return `${points >= 0 ? '+' : ''}${points.toFixed(1)} pts`;
  }
  if (previous === 0) return current === 0 ? '±0' : 'new';
  const relative = ((current - previous) / Math.abs(previous)) * 100;
  return `${relative >= 0 ? '+' : ''}${relative.toFixed(1)}%`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatReportTable(report: KpiReport, previous: KpiReport): string {
  const { period } = report;
  const out: string[] = [];
  out.push(`Partner KPIs — scope ${report.scope}, ${period.from} to ${period.to} (exclusive), ${period.tz}`);
  out.push(`Previous period: ${previous.period.from} to ${previous.period.to}`, '');
  const headline: [string, number | null, number | null, 'money' | 'count' | 'ratio' | 'days'][] = [
    ['Average deal size', report.averageDealSize, previous.averageDealSize, 'money'],
    ['Deal count (won)', report.dealCount, previous.dealCount, 'count'],
    ['Lost deals', report.lostCount, previous.lostCount, 'count'],
    ['Open pipeline (count)', report.pipeline.count, previous.pipeline.count, 'count'],
    ['Open pipeline (value)', report.pipeline.value, previous.pipeline.value, 'money'],
    ['Weighted pipeline', report.pipeline.weighted, previous.pipeline.weighted, 'money'],
    ['Overdue open deals', report.pipeline.overdue, previous.pipeline.overdue, 'count'],
    ['Lost to a competitor', report.pipeline.lostToCompetitor, previous.pipeline.lostToCompetitor, 'count'],
    ['Prospects', report.prospects, previous.prospects, 'count'],
    ['Converted prospects', report.converted, previous.converted, 'count'],
    ['Close rate', report.closeRate, previous.closeRate, 'ratio'],
    ['Average sales cycle (days)', report.averageCycleDays, previous.averageCycleDays, 'days'],
    ['Deal velocity (per day)', report.dealVelocity, previous.dealVelocity, 'money'],
    ['Deal success (win rate)', report.dealSuccess, previous.dealSuccess, 'ratio'],
  ];
  out.push(
    table([
      ['KPI', 'this period', 'previous', 'change'],
      ...headline.map(([label, current, before, kind]) =>
        kind === 'ratio'
          ? [label, pct(current), pct(before), change(current, before, true)]
          : [
              label,
              num(current, kind === 'count' ? 0 : 2),
              num(before, kind === 'count' ? 0 : 2),
              change(current, before),
            ],
      ),
    ]),
    '',
  );
  out.push('Pipeline by stage');
  out.push(
    table([
      ['stage', 'count', 'value'],
      ...OPEN_STAGES.map((s) => [
        s,
        num(report.pipeline.byStage[s].count, 0),
        num(report.pipeline.byStage[s].value),
      ]),
    ]),
    '',
  );
  out.push('Marketing channels');
  out.push(
    table([
      [
        'channel',
        'prospects',
        'converted',
        'close rate',
        'won',
        'lost',
        'win rate',
        'revenue',
        'share',
        'avg deal',
      ],
      ...CHANNELS.map((c) => {
        const ch = report.channels[c];
        return [
          c,
          num(ch.prospects, 0),
          num(ch.converted, 0),
          pct(ch.closeRate),
          num(ch.won, 0),
          num(ch.lost, 0),
          pct(ch.winRate),
          num(ch.revenue),
          pct(ch.revenueShare),
          num(ch.averageDealSize),
        ];
      }),
    ]),
    '',
  );
  out.push('Close rate by month');
  out.push(
    table([
      ['month', 'prospects', 'converted', 'close rate'],
      ...report.closeRateByMonth.map((m) => [
        m.month,
        num(m.prospects, 0),
        num(m.converted, 0),
        pct(m.closeRate),
      ]),
    ]),
    '',
  );
  out.push('Quality score ranking');
  out.push(
    table([
      ['#', 'id', 'score', 'won', 'revenue', 'win rate', 'win low'],
      ...report.qualityScores.map((q, index) => [
        String(index + 1),
        q.id,
        num(q.score),
        num(q.won, 0),
        num(q.revenue),
        pct(q.winRate),
        num(q.winLow, 4),
      ]),
    ]),
  );
  if (report.scope === 'all') {
    out.push(
      '',
      `Needs attention: ${report.needsAttention.length ? report.needsAttention.join(', ') : 'none'}`,
    );
  }
  return out.join('\n') + '\n';
}
