/**
 * `npm run bench`: the KPI engine's speed on seeded demo programs of 100,000 and 1,000,000 deals,
 * against a baseline measured in the same run — the same figures computed by SQLite (in memory,
 * indexed) with SQL over the same rows. A script, not a test: timings on shared machines vary, so
 * it prints medians and ratios for a person to read, and marks each target as met or missed.
 *
 * Also the rep app's figures in Chromium (bench/browser), the Today screen's
 * JavaScript size (bench/bundle-size.ts), and the sync server under many devices' edits against a
 * minimal relay (bench/sync), a reconnect storm (bench/storm.ts) and a program of
 * 1,000 large partners: the vendor's documents, a fold's latency, the console (bench/program).
 *
 * Options: --sizes 100000,1000000  --runs 5  --skip-browser  --skip-sync  --sync-only  --sync-updates 5000  --partners 1000
 */
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { todayInitialJs } from './bundle-size';
import { BROWSER_TARGETS, benchBrowser, type Spread } from './browser';
import { benchSync } from './sync';
import { benchStorm } from './storm';
import { benchProgram } from './program';
import { generateDemoProgram } from '../src/lib/demo/generate';
import { OPEN_STAGES, CHANNELS, type Deal } from '../src/lib/domain';
import {
  RollupIndex,
  computeKpis,
  mergeRollups,
  parsePeriod,
  startOfLocalDay,
  toReport,
  type KpiFigures,
} from '../src/lib/kpi';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    runs: { type: 'string', default: '5' },
    'skip-browser': { type: 'boolean', default: false },
    'skip-sync': { type: 'boolean', default: false },
    'sync-only': { type: 'boolean', default: false },
    'sync-updates': { type: 'string', default: '5000' },
    partners: { type: 'string', default: '1000' },
  },
});
const usageError = (message: string): never => {
  console.error(message);
  process.exit(2);
};
if (values['skip-sync'] && values['sync-only'])
  usageError('--skip-sync and --sync-only leave nothing to run: give one of them');
const syncUpdates = Number(values['sync-updates']);
if (!Number.isInteger(syncUpdates) || syncUpdates < 1)
  usageError(`--sync-updates must be a positive whole number, not ${values['sync-updates']}`);
const partners = Number(values.partners);
if (!Number.isInteger(partners) || partners < 1)
  usageError(`--partners must be a positive whole number, not ${values.partners}`);
const sizes = values.sizes.split(',').map(Number);
const runs = Math.max(5, Number(values.runs));

/** Demo deals per "leads per rep per month" unit, measured on the demo program (≈ 3,300 deals at 9). */
const DEALS_PER_LEAD_RATE = 3_300 / 9;
const TARGETS = { reportMs: 10, updateMs: 0.5, ratioToSqlite: 0.25, todayJsKb: 120 };

const median = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const time = (action: () => void) => {
  const start = performance.now();
  action();
  return performance.now() - start;
};
const ms = (value: number) =>
  value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(0);
const verdict = (value: number, target: number) => (value <= target ? 'met' : 'MISSED');

interface Figures {
  won: number;
  revenue: number;
  averageDealSize: number | null;
  winRate: number | null;
  pipelineByStage: Record<string, { count: number; value: number }>;
  channelRevenue: Record<string, number>;
  channelWinRate: Record<string, number | null>;
}

function figuresOf(kpis: KpiFigures): Figures {
  return {
    won: kpis.dealCount,
    revenue: kpis.revenue,
    averageDealSize: kpis.averageDealSize,
    winRate: kpis.winRate,
    pipelineByStage: Object.fromEntries(OPEN_STAGES.map((s) => [s, kpis.pipeline.byStage[s]])),
    channelRevenue: Object.fromEntries(CHANNELS.map((c) => [c, kpis.channels[c].revenue])),
    channelWinRate: Object.fromEntries(CHANNELS.map((c) => [c, kpis.channels[c].winRate])),
  };
}

function sqliteBaseline(deals: Deal[], from: number, to: number) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE deals (id TEXT PRIMARY KEY, partner_id TEXT, rep_id TEXT, channel TEXT, amount INTEGER, stage TEXT,
           probability INTEGER, created_at INTEGER, closed_at INTEGER, deleted_at INTEGER)`);
  const insert = db.prepare('INSERT INTO deals VALUES (?,?,?,?,?,?,?,?,?,?)');
  const loadMs = time(() =>
    db.transaction(() => {
      for (const d of deals)
        insert.run(
          d.id,
          d.partnerId,
          d.repId,
          d.channel,
          d.amount,
          d.stage,
          d.probability,
          d.createdAt,
          d.closedAt ?? null,
          d.deletedAt ?? null,
        );
    })(),
  );
  const indexMs = time(() =>
    db.exec(`CREATE INDEX deals_closed ON deals (stage, closed_at, channel, amount);
             CREATE INDEX deals_open ON deals (stage, created_at, amount);
             ANALYZE;`),
  );
  const closed =
    db.prepare(`SELECT channel, SUM(stage = 'won') AS won, SUM(CASE WHEN stage = 'won' THEN amount ELSE 0 END) AS revenue,
                             SUM(stage = 'lost') AS lost FROM deals
                             WHERE stage IN ('won', 'lost') AND closed_at >= ? AND closed_at < ? AND deleted_at IS NULL GROUP BY channel`);
  const open = db.prepare(`SELECT stage, COUNT(*) AS count, SUM(amount) AS value FROM deals
                           WHERE stage IN ('prospecting', 'qualified', 'proposal', 'negotiation') AND created_at < ? AND deleted_at IS NULL GROUP BY stage`);
  const compute = (): Figures => {
    const byChannel = closed.all(from, to) as {
      channel: string;
      won: number;
      revenue: number;
      lost: number;
    }[];
    const byStage = open.all(to) as { stage: string; count: number; value: number }[];
    const won = byChannel.reduce((sum, row) => sum + row.won, 0);
    const lost = byChannel.reduce((sum, row) => sum + row.lost, 0);
    const revenue = byChannel.reduce((sum, row) => sum + row.revenue, 0);
    const channel = (c: string) => byChannel.find((row) => row.channel === c);
    return {
      won,
      revenue,
      averageDealSize: won ? revenue / won : null,
      winRate: won + lost ? won / (won + lost) : null,
      pipelineByStage: Object.fromEntries(
        OPEN_STAGES.map((s) => {
          const row = byStage.find((r) => r.stage === s);
          return [s, { count: row?.count ?? 0, value: row?.value ?? 0 }];
        }),
      ),
      channelRevenue: Object.fromEntries(CHANNELS.map((c) => [c, channel(c)?.revenue ?? 0])),
      channelWinRate: Object.fromEntries(
        CHANNELS.map((c) => {
          const row = channel(c);
          return [c, row && row.won + row.lost ? row.won / (row.won + row.lost) : null];
        }),
      ),
    };
  };
  return { db, loadMs, indexMs, compute };
}

function benchSize(targetDeals: number) {
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
      `target ≤ ${TARGETS.reportMs} ms: ${verdict(median(warmSamples), TARGETS.reportMs)}`,
    ],
    ['full report, every running total rebuilt', median(coldSamples), '(rollups received from elsewhere)'],
    [
      'update after one deal changes',
      median(updateSamples),
      `target ≤ ${TARGETS.updateMs} ms: ${verdict(median(updateSamples), TARGETS.updateMs)}`,
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
    `  ratio ours ÷ SQLite, full report            ${ratio.toFixed(4)}  target ≤ ${TARGETS.ratioToSqlite}: ${verdict(ratio, TARGETS.ratioToSqlite)}`,
  );
  console.log(`  ratio ours ÷ SQLite, running totals rebuilt ${ratioRebuilt.toFixed(4)}`);
  console.log(
    `  figures agree with SQLite (won, revenue, average deal size, win rate, pipeline by stage, channel revenue and win rate): ${agree ? 'yes' : 'NO'}`,
  );
  if (!agree) console.log(JSON.stringify({ ours: figuresOf(ours), sqlite: theirs }, null, 1));
  return agree;
}

console.log(`partner-kpi benchmark — Node ${process.version}, ${runs} runs per figure`);
const syncOnly = values['sync-only'];
// --sync-only: none of the app's figures, only the sync server's.
if (!syncOnly) {
  try {
    const today = todayInitialJs(fileURLToPath(new URL('..', import.meta.url)));
    const kb = today.gzipBytes / 1024;
    console.log(
      `\nToday screen, initial JavaScript: ${kb.toFixed(1)} KB gzipped in ${today.files} files  target ≤ ${TARGETS.todayJsKb} KB: ${verdict(kb, TARGETS.todayJsKb)}`,
    );
  } catch (error) {
    console.log(`\nToday screen, initial JavaScript: not measured (${(error as Error).message})`);
  }
  if (!values['skip-browser']) {
    console.log('\n=== the rep app in headless Chromium ===');
    try {
      const browser = await benchBrowser();
      console.log(
        `partner document of ${browser.deals.toLocaleString('en-US')} deals and ${browser.leads.toLocaleString('en-US')} leads (medians of several runs):`,
      );
      console.log(
        `  open from IndexedDB to KPIs on screen  ${ms(browser.openMs).padStart(9)} ms  target ≤ ${BROWSER_TARGETS.openMs} ms: ${verdict(browser.openMs, BROWSER_TARGETS.openMs)}`,
      );
      console.log(`  (last open, ms after navigation: ${browser.openSteps})`);
      const spread = (figure: Spread) =>
        `${ms(figure.median).padStart(9)} ms  (${ms(figure.min)}–${ms(figure.max)}, median of ${figure.runs})`;
      for (const [name, list] of [
        ['Leads', browser.leadsList],
        ['Deals', browser.dealsBoard],
      ] as const) {
        console.log(
          `  first screen of ${name} after open     ${spread(list.firstScreen)}  target ≤ ${BROWSER_TARGETS.listFirstScreenMs} ms: ${verdict(list.firstScreen.median, BROWSER_TARGETS.listFirstScreenMs)}`,
        );
        console.log(`    its rows in the page (app's mark)    ${spread(list.inPage)}`);
        console.log(
          `    every record loaded, same reloads    ${spread(list.allRecords)}  (when the list showed before its first screen was read by index)`,
        );
      }
      console.log(`  save a deal, stored (offline) p50      ${ms(browser.saveP50Ms).padStart(9)} ms`);
      console.log(
        `  save a deal, stored (offline) p95      ${ms(browser.saveP95Ms).padStart(9)} ms  target ≤ ${BROWSER_TARGETS.saveP95Ms} ms: ${verdict(browser.saveP95Ms, BROWSER_TARGETS.saveP95Ms)}`,
      );
      console.log(
        `  save a deal, stored (online) p50       ${ms(browser.onlineSaveP50Ms).padStart(9)} ms  (the bench's server shares the 2 cores)`,
      );
      console.log(`  save a deal, stored (online) p95       ${ms(browser.onlineSaveP95Ms).padStart(9)} ms`);
      console.log(
        `  baseline: a bare IndexedDB commit of one row p50 ${ms(browser.floorP50Ms)} ms, p95 ${ms(browser.floorP95Ms)} ms (same page, same run)`,
      );
      console.log(
        `  baseline: a bare journal append from a worker p50 ${ms(browser.journalFloorP50Ms)} ms, p95 ${ms(browser.journalFloorP95Ms)} ms (same page, same run)`,
      );
    } catch (error) {
      console.log(`  not measured: ${(error as Error).message}`);
    }
  }
}
const allAgree = syncOnly || sizes.map(benchSize).every(Boolean);
// After the engine: the sync run starts child processes and 1,000 sockets, which should not share the machine with it.
const syncOk =
  values['skip-sync'] ||
  ((await benchSync({ updates: syncUpdates })) &&
    (await benchStorm()) &&
    (await benchProgram({ partners, browser: !values['skip-browser'] })));
process.exitCode = allAgree && syncOk ? 0 : 1;
