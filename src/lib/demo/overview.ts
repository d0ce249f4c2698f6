/**
 * The demo program's KPI overview that the first screen shows until the rep app exists: the
 * program generated on the device, rolled up, and reported for the twelve months before its end.
 */
import { generateDemoProgram, DEMO_END } from './generate';
import { buildRollup, computeKpis, parsePeriod, parseDay, formatDay, toReport, type KpiReport, type Scope } from '../kpi';

export interface DemoOverview {
  report: KpiReport;
  partners: { id: string; name: string }[];
  currency: string;
}

export function demoOverview(scope: Scope, seed = 1): DemoOverview {
  const demo = generateDemoProgram({ seed, stageLog: false });
  const tz = demo.program.timeZone;
  const endDay = parseDay(DEMO_END)!;
  const period = { from: formatDay(endDay - 365), to: DEMO_END, tz };
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join(' '));
  const rollup = buildRollup(tz, demo.leads, demo.deals);
  const figures = computeKpis(rollup, { range: parsed.range, scope });
  return {
    report: toReport(figures, period, demo.program.currency),
    partners: demo.partners.map(({ id, name }) => ({ id, name })),
    currency: demo.program.currency,
  };
}
