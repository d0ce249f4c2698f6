/**
 * The rep app's figures in headless Chromium, against the production build served by the real
 * server: a partner document of 20,000 deals and 40,000 leads (imported through Settings → CSV, the
 * app's own path), then
 * - opening it from IndexedDB to KPIs on screen (a reload; the app's `kpis-on-screen` mark),
 * - saving a deal (stage changes on a deal's page): applied in memory (document, rows, KPI
 *   buckets: `store-apply`) and stored in IndexedDB (`store-write`, which the form waits for).
 * Budgets: open ≤ 1 s, save p95 ≤ 5 ms. Needs `npm run build` and /usr/bin/chromium.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { exportDealsCsv, exportLeadsCsv } from '../src/lib/csv/interchange';
import { generateDemoProgram } from '../src/lib/demo/generate';
import type { Deal, Lead } from '../src/lib/domain';
import { KPIS_ON_SCREEN, OPEN_MARKS, STORE_APPLY, STORE_WRITE } from '../src/lib/app/marks';
import { ensureBuilt, launchBrowser, startServer } from '../test/e2e/harness';
import { RepApp } from '../test/e2e/pages/rep-app';

export const BROWSER_TARGETS = { openMs: 1000, saveP95Ms: 5 };
const PARTNER = { id: 'p-sunrise', name: 'Sunrise Systems' };
const SIZE = { deals: 20_000, leads: 40_000 };
const OPEN_RUNS = 5;
const SAVES = 100;
/** The first saves of a page (compiling, the projection marker) are left out of the figures. */
const WARM_UP_SAVES = 5;

/**
 * Clicks the stage buttons in turn, each time waiting for the page to confirm the move; a string so
 * that it runs in the page as written (no bundler helpers).
 */
const saveLoop = (saves: number) => `(async (saves, stages) => {
  const confirmed = (text) => [...document.querySelectorAll('[role=status]')].some((status) => status.textContent.trim().startsWith(text));
  const until = (test) => new Promise((resolve) => {
    if (test()) return resolve();
    const observer = new MutationObserver(() => { if (test()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  for (let save = 0; save < saves; save++) {
    const stage = stages[save % stages.length];
    const button = [...document.querySelectorAll('button')].find((candidate) => candidate.textContent.trim() === stage);
    if (!button || button.disabled) continue;
    button.click();
    await until(() => confirmed('Moved to ' + stage));
    // As a person would: the next tap comes after the page has painted the last one.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  }
})(${saves}, ['Proposal', 'Negotiation'])`;

/** 20,000 deals and 40,000 leads, all of one partner (the demo program's records, moved to it). */
function partnerDocument(): { leads: Lead[]; deals: Deal[] } {
  const demo = generateDemoProgram({ seed: 7, leadsPerRepMonth: 60, stageLog: true });
  const leads = demo.leads.slice(0, SIZE.leads).map((lead) => ({ ...lead, partnerId: PARTNER.id }));
  const kept = new Set(leads.map((lead) => lead.id));
  const deals = demo.deals
    .filter((deal) => deal.leadId === undefined || kept.has(deal.leadId))
    .slice(0, SIZE.deals)
    .map((deal) => ({ ...deal, partnerId: PARTNER.id }));
  return { leads, deals };
}

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function kpisOnScreenAfterReload(page: Page): Promise<number> {
  await page.reload();
  return page.waitForFunction((name) => performance.getEntriesByName(name)[0]?.startTime, KPIS_ON_SCREEN, { timeout: 60_000 }).then((handle) => handle.jsonValue() as Promise<number>);
}

export async function benchBrowser(): Promise<{ openSteps: string; openMs: number; saveP50Ms: number; saveP95Ms: number; applyP50Ms: number; applyP95Ms: number; leads: number; deals: number }> {
  ensureBuilt();
  const { leads, deals } = partnerDocument();
  const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-bench-'));
  writeFileSync(join(folder, 'leads.csv'), exportLeadsCsv(leads, 'Asia/Kolkata'));
  writeFileSync(join(folder, 'deals.csv'), exportDealsCsv(deals, 'Asia/Kolkata'));
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(server.origin);
    await new RepApp(page).signIn(PARTNER.name, /partner manager/);

    await page.goto(`${server.origin}/settings`);
    await page.getByLabel('leads.csv').setInputFiles(join(folder, 'leads.csv'));
    await page.getByLabel('deals.csv').setInputFiles(join(folder, 'deals.csv'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /^Imported/ }).waitFor({ timeout: 300_000 });

    await page.goto(server.origin);
    const opens: number[] = [];
    for (let run = 0; run < OPEN_RUNS; run++) opens.push(await kpisOnScreenAfterReload(page));
    await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, OPEN_MARKS.rows, { timeout: 60_000 });
    const steps = await page.evaluate((names) => names.map((name) => [name, performance.getEntriesByName(name)[0]?.startTime ?? NaN] as const), [...Object.values(OPEN_MARKS), KPIS_ON_SCREEN]);

    // Saving a deal: move one open deal back and forth between two stages on its page. The clicks
    // and the waits run in the page: Playwright's own polling (hit tests, layout reads, animation
    // frames) would otherwise share the page's main thread and be counted in every save.
    const open = deals.find((deal) => deal.closedAt === undefined)!;
    await page.goto(`${server.origin}/deals/${open.id}`);
    await page.getByRole('heading', { name: 'Move to stage' }).waitFor();
    await page.evaluate(saveLoop(WARM_UP_SAVES));
    await page.evaluate((names) => names.forEach((name) => performance.clearMeasures(name)), [STORE_WRITE, STORE_APPLY]);
    await page.evaluate(saveLoop(SAVES));
    const durations = (name: string) => page.evaluate((entries) => performance.getEntriesByName(entries).map((entry) => entry.duration), name);
    const saves = await durations(STORE_WRITE);
    const applies = await durations(STORE_APPLY);
    return { openSteps: steps.map(([name, at]) => `${name.replace('partner-kpi:', '')} ${Math.round(at)}`).join(', '), openMs: percentile(opens, 50), saveP50Ms: percentile(saves, 50), saveP95Ms: percentile(saves, 95), applyP50Ms: percentile(applies, 50), applyP95Ms: percentile(applies, 95), leads: leads.length, deals: deals.length };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}
