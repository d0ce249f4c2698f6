/**
 * The KPI engine's speed on a seeded demo program of about `targetDeals` deals, against a baseline
 * measured in the same run — the same figures computed by SQLite with SQL over the same rows
 * (bench/engine/sqlite.ts): building the buckets, a full eight-KPI report, and the update after one
 * deal changes. Prints medians, the ratio to SQLite and whether both agree on every figure.
 */
import { generateDemoProgram } from '../../src/lib/demo/generate';
import type { Deal } from '../../src/lib/domain';
import {
  RollupIndex,
  computeKpis,
  mergeRollups,
  parsePeriod,
  startOfLocalDay,
  toReport,
  type KpiFigures,
} from '../../src/lib/kpi';
import { median, ms, time, verdict } from '../stats';
import { figuresOf, sqliteBaseline, type Figures } from './sqlite';

/** Demo deals per "leads per rep per month" unit, measured on the demo program (≈ 3,300 deals at 9). */
const DEALS_PER_LEAD_RATE = 3_300 / 9;
const ENGINE_TARGETS = { reportMs: 10, updateMs: 0.5, ratioToSqlite: 0.25 };

/** Prints the engine's figures for one size, each a median of `runs` or more; false when ours and SQLite's disagree. */
export function benchEngine(targetDeals: number, runs: number): boolean {
  console.log(`\n=== ${targetDeals.toLocaleString('en-US')} deals (target) ===`);
  let demo!: ReturnType<typeof generateDemoProgram>;
  const generateMs = time(
    () =>
      (demo = generateDemoProgram({
        seed: 42,
        leadsPerRepMonth: targetDeals / DEALS_PER_LEAD_RATE,
        stageLog: false,
      })),
  );
  const { program, leads, deals } = demo;
  const tz = program.timeZone;
  console.log(
    `generated ${deals.length.toLocaleString('en-US')} deals and ${leads.length.toLocaleString('en-US')} leads in ${ms(generateMs)} ms`,
  );

  const period = { from: '2025-12-01', to: '2026-12-01', tz };
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error('bad period');
  const query = { range: parsed.range, scope: { kind: 'all' } as const };

  // Building the buckets from every record.
  let index!: RollupIndex;
  const buildSamples = Array.from({ length: runs }, () =>
    time(() => (index = RollupIndex.build(tz, leads, deals))),
  );
  const buckets = [...index.rollup.series.values()].reduce((sum, series) => sum + series.days.size, 0);

  // A report from buckets whose running totals must all be rebuilt first (as for rollups that
  // arrive from elsewhere, e.g. the server): the worst case.
  const coldSamples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const received = mergeRollups(index.rollup);
    coldSamples.push(time(() => toReport(computeKpis(received, query), period, program.currency)));
  }
  let ours!: KpiFigures;
  // A full eight-KPI report from the rollup as built.
  const warmSamples = Array.from({ length: Math.max(runs, 21) }, () =>
    time(() => toReport((ours = computeKpis(index.rollup, query)), period, program.currency)),
  );

  // One deal changes (an open deal is won, or a closed one reopened), then the report again.
  const updateSamples: number[] = [];
  const updateAndReportSamples: number[] = [];
  const changing = deals
    .filter((_, i) => i % Math.max(1, Math.floor(deals.length / 1001)) === 0)
    .slice(0, 1001);
  const now = demo.now;
  for (const deal of changing) {
    const changed: Deal =
      deal.closedAt === undefined
        ? { ...deal, stage: 'won', probability: 100, closedAt: now - 3_600_000, updatedAt: now }
        : {
            ...deal,
            stage: 'negotiation',
            probability: 75,
            closedAt: undefined,
            lostReason: undefined,
            updatedAt: now,
          };
    delete changed.lostReason;
    if (changed.closedAt === undefined) delete changed.closedAt;
    updateSamples.push(time(() => index.upsertDeal(changed)));
    updateAndReportSamples.push(time(() => computeKpis(index.rollup, query)));
    index.upsertDeal(deal);
  }
  computeKpis(index.rollup, query);

  // The baseline: the same figures by SQL.
  const from = startOfLocalDay(parsed.range.fromDay, tz);
  const to = startOfLocalDay(parsed.range.toDay, tz);
  const sqlite = sqliteBaseline(deals, from, to);
  let theirs!: Figures;
  const sqliteSamples = Array.from({ length: runs }, () => time(() => (theirs = sqlite.compute())));
  sqlite.db.close();
  const agree = JSON.stringify(figuresOf(ours)) === JSON.stringify(theirs);

  const rows: [string, number, string][] = [
    ['build buckets from all records', median(buildSamples), ''],
    [
      'full report from the buckets',
      median(warmSamples),
      `target ≤ ${ENGINE_TARGETS.reportMs} ms: ${verdict(median(warmSamples), ENGINE_TARGETS.reportMs)}`,
    ],
    ['full report, every running total rebuilt', median(coldSamples), '(rollups received from elsewhere)'],
    [
      'update after one deal changes',
      median(updateSamples),
      `target ≤ ${ENGINE_TARGETS.updateMs} ms: ${verdict(median(updateSamples), ENGINE_TARGETS.updateMs)}`,
    ],
    ['full report after that update', median(updateAndReportSamples), ''],
    [
      'SQLite: the same figures by SQL',
      median(sqliteSamples),
      `(load ${ms(sqlite.loadMs)} ms, indexes ${ms(sqlite.indexMs)} ms)`,
    ],
  ];
  console.log(
    `${buckets.toLocaleString('en-US')} buckets in ${index.rollup.series.size} series; medians of ${runs}+ runs:`,
  );
  for (const [label, value, note] of rows)
    console.log(`  ${label.padEnd(36)} ${ms(value).padStart(9)} ms  ${note}`);
  const ratio = median(warmSamples) / median(sqliteSamples);
  const ratioRebuilt = median(coldSamples) / median(sqliteSamples);
  console.log(
    `  ratio ours ÷ SQLite, full report            ${ratio.toFixed(4)}  target ≤ ${ENGINE_TARGETS.ratioToSqlite}: ${verdict(ratio, ENGINE_TARGETS.ratioToSqlite)}`,
  );
  console.log(`  ratio ours ÷ SQLite, running totals rebuilt ${ratioRebuilt.toFixed(4)}`);
  console.log(
    `  figures agree with SQLite (won, revenue, average deal size, win rate, pipeline by stage, channel revenue and win rate): ${agree ? 'yes' : 'NO'}`,
  );
  if (!agree) console.log(JSON.stringify({ ours: figuresOf(ours), sqlite: theirs }, null, 1));
  return agree;
}
