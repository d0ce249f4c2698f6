/**
 * The `kpi` report command, as a function of its arguments and a file reader, so that tests run it
 * without a process. Output contract: the JSON report (or `--format table`) on stdout and exit 0;
 * or nothing on stdout, every reason on stderr and exit 1.
 */
import { parseArgs } from 'node:util';
import { importDealsCsv, importLeadsCsv } from '../csv/interchange';
import {
  buildRollup,
  computeKpisWithPrevious,
  parsePeriod,
  parseScope,
  toReport,
  formatDay,
  type Period,
} from '../kpi';
import { formatReportTable } from '../kpi/report-table';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const KPI_USAGE = `Usage: npm run --silent kpi -- --leads <leads.csv> --deals <deals.csv> --from YYYY-MM-DD --to YYYY-MM-DD --tz <IANA zone> [--scope all|partner:<id>|rep:<id>] [--format json|table] [--currency INR]`;

const DEFAULT_CURRENCY = 'INR';

export function runKpiCommand(argv: string[], readText: (path: string) => string): CommandResult {
  const fail = (reasons: string[]): CommandResult => ({
    code: 1,
    stdout: '',
    stderr: reasons.map((r) => `kpi: ${r}`).join('\n') + '\n',
  });
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        leads: { type: 'string' },
        deals: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        tz: { type: 'string' },
        scope: { type: 'string', default: 'all' },
        format: { type: 'string', default: 'json' },
        currency: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (error) {
    return fail([(error as Error).message, KPI_USAGE]);
  }

  const reasons: string[] = [];
  for (const name of ['leads', 'deals', 'from', 'to', 'tz'] as const) {
    if (!values[name]) reasons.push(`--${name} is required`);
  }
  const scope = parseScope(values['scope'] ?? 'all');
  if (!scope) reasons.push(`--scope "${values['scope']}" must be all, partner:<id> or rep:<id>`);
  const format = values['format'];
  if (format !== 'json' && format !== 'table') reasons.push(`--format "${format}" must be json or table`);
  const period: Period = { from: values['from'] ?? '', to: values['to'] ?? '', tz: values['tz'] ?? '' };
  const parsedPeriod = values['from'] && values['to'] && values['tz'] ? parsePeriod(period) : undefined;
  if (parsedPeriod && !parsedPeriod.ok)
    reasons.push(...parsedPeriod.problems.map((p) => `--${p.field}: ${p.message}`));

  const read = (option: 'leads' | 'deals'): string | undefined => {
    const path = values[option];
    if (!path) return undefined;
    try {
      return readText(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      reasons.push(
        `--${option} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message}`,
      );
      return undefined;
    }
  };
  const leadsText = read('leads');
  const dealsText = read('deals');
  const leads = leadsText === undefined ? undefined : importLeadsCsv(leadsText, values['leads']);
  const deals = dealsText === undefined ? undefined : importDealsCsv(dealsText, values['deals']);
  if (leads && !leads.ok) reasons.push(...leads.errors);
  if (deals && !deals.ok) reasons.push(...deals.errors);

  const currencies = deals?.ok ? [...new Set(deals.records.map((deal) => deal.currency))].sort() : [];
  if (values['currency'] && currencies.some((c) => c !== values['currency'])) {
    reasons.push(`--currency ${values['currency']}: the deals are in ${currencies.join(', ')}`);
  } else if (currencies.length > 1) {
    reasons.push(
      `${values['deals']}: the deals mix currencies (${currencies.join(', ')}); a report adds amounts of one currency only`,
    );
  }
  if (reasons.length > 0 || !scope || !parsedPeriod?.ok || !leads?.ok || !deals?.ok)
    return fail(reasons.length ? reasons : [KPI_USAGE]);

  const currency = values['currency'] ?? currencies[0] ?? DEFAULT_CURRENCY;
  const rollup = buildRollup(period.tz, leads.records, deals.records);
  const { current, previous } = computeKpisWithPrevious(rollup, { range: parsedPeriod.range, scope });
  const report = toReport(current, period, currency);
  let stderr = '';
  if (scope.kind !== 'all') {
    const key = scope.kind === 'partner' ? 'partnerId' : 'repId';
    const known = [...leads.records, ...deals.records].some((record) => record[key] === scope.id);
    if (!known)
      stderr = `kpi: note: no lead or deal of ${scope.kind} "${scope.id}" in the files; every figure is empty\n`;
  }
  if (format === 'table') {
    const previousPeriod = {
      from: formatDay(previous.range.fromDay),
      to: formatDay(previous.range.toDay),
      tz: period.tz,
    };
    return {
      code: 0,
      stdout: formatReportTable(report, toReport(previous, previousPeriod, currency)),
      stderr,
    };
  }
  return { code: 0, stdout: JSON.stringify(report, null, 2) + '\n', stderr };
}
