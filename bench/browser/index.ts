/**
 * The rep app's figures in headless Chromium, against the production build served by the real
 * server: a partner document of 20,000 deals and 40,000 leads (imported through Settings → CSV, the
 * app's own path), then
 * - opening it from IndexedDB to KPIs on screen (a reload; the app's `kpis-on-screen` mark),
 * - opening the Leads list and the Deals board to their first rows painted (reloads of each, in a
 *   tab of its own; the app's `leads-on-screen` and `deals-on-screen` marks, the rows in the page,
 *   beside), and when every record was loaded in the same reloads (`open-rows`: before the first
 *   screen was read by index, the lists showed only then),
 * - saving a deal (stage changes on deals' pages, ten deals in turn), from the change to when its
 *   update was safe, in the journal or in IndexedDB (`store-write`): with the device offline, as a
 *   rep in the field — the figure with a budget — and online. Online, the bench's sync server runs
 *   on this machine's two cores beside the browser (a partner's first change after the room loads
 *   has it fold the 60,000 records), so that figure measures the server too; a phone shares its
 *   cores with no server.
 * Budgets: open ≤ 1 s, lists' first screen ≤ 300 ms, save p95 ≤ 5 ms (bench/browser/report.ts).
 * Needs `npm run build` and /usr/bin/chromium.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { exportDealsCsv, exportLeadsCsv } from '../../src/lib/csv/interchange';
import { generateDemoProgram } from '../../src/lib/demo/generate';
import type { Deal, Lead } from '../../src/lib/domain';
import { KPIS_ON_SCREEN, LIST_ON_SCREEN, OPEN_MARKS, STORE_WRITE } from '../../src/lib/app/marks';
import { ensureBuilt, launchBrowser, startServer } from '../../test/support/browser-harness';
import { RepApp } from '../../test/support/pages/rep-app';
import { percentile, spreadOf } from '../stats';
import { bareJournalAppends, bareTransactions, FIRST_ROWS_PROBE, saveLoop } from './in-page';
import { printBrowser, type BrowserFigures, type ListFigures } from './report';

const PARTNER = { id: 'p-sunrise', name: 'Sunrise Systems' };
/** The partner document's size: a large partner's. */
const SIZE = { deals: 20_000, leads: 40_000 };
type Size = typeof SIZE;
const OPEN_RUNS = 5;
/** Reloads of each list; the first after going to the list is left out (it compiles the page's code). */
const LIST_RUNS = 7;
const SAVES = 100;
/**
 * The saves go to this many deals in turn, SAVES / DEALS_SAVED each, as a rep's day would: one deal
 * moved a hundred times would carry a stage history no deal has, and every save would re-read it.
 */
const DEALS_SAVED = 10;
/** The first saves of a page (compiling, the projection marker) are left out of the figures. */
const WARM_UP_SAVES = 5;

/** `size` deals and leads (20,000 and 40,000), all of one partner (the demo program's records, moved to it). */
function partnerDocument(size: Size): { leads: Lead[]; deals: Deal[] } {
  const demo = generateDemoProgram({ seed: 7, leadsPerRepMonth: 60, stageLog: true });
  // Records of other partners' reps become records of this partner's reps: an import refuses a
  // rep who is nobody at the partner.
  const reps = demo.reps.filter((rep) => rep.partnerId === PARTNER.id).map((rep) => rep.id);
  const repOf = new Map<string, string>();
  const ours = (repId: string) => {
    if (!repOf.has(repId)) repOf.set(repId, reps.includes(repId) ? repId : reps[repOf.size % reps.length]!);
    return repOf.get(repId)!;
  };
  const leads = demo.leads
    .slice(0, size.leads)
    .map((lead) => ({ ...lead, partnerId: PARTNER.id, repId: ours(lead.repId) }));
  const kept = new Set(leads.map((lead) => lead.id));
  const deals = demo.deals
    .filter((deal) => deal.leadId === undefined || kept.has(deal.leadId))
    .slice(0, size.deals)
    .map((deal) => ({ ...deal, partnerId: PARTNER.id, repId: ours(deal.repId) }));
  return { leads, deals };
}

/** Goes to a page as a tap on a link would (the app's own navigation, no reload). */
async function follow(page: Page, path: string): Promise<void> {
  await page.evaluate((href) => {
    const link = Object.assign(document.createElement('a'), { href });
    document.body.append(link);
    link.click();
    link.remove();
  }, path);
  await page.waitForURL((url) => url.pathname === path);
}

/** The durations of the saves of SAVES stage moves, spread over `dealIds` in turn. */
async function measuredSaves(page: Page, dealIds: string[]): Promise<number[]> {
  await page.evaluate((name) => performance.clearMeasures(name), STORE_WRITE);
  for (const id of dealIds) {
    await follow(page, '/deals');
    await follow(page, `/deals/${id}`);
    await page.getByRole('heading', { name: 'Move to stage' }).waitFor();
    await page.evaluate(saveLoop(SAVES / dealIds.length));
  }
  return page.evaluate(
    (name) => performance.getEntriesByName(name).map((entry) => entry.duration),
    STORE_WRITE,
  );
}

/** The start time of the first entry named `name` once there is one (ms after navigation). */
function markTime(page: Page, name: string): Promise<number> {
  return page
    .waitForFunction((mark) => performance.getEntriesByName(mark)[0]?.startTime, name, { timeout: 60_000 })
    .then((handle) => handle.jsonValue() as Promise<number>);
}

/**
 * Reloads a list LIST_RUNS times, in a tab of its own (its probe then watches no other page): when
 * its first rows were painted, and when every record was loaded (when the list showed before its
 * first screen was read by index), in the same reloads. The app's own mark (`mark`: the first rows
 * in the page) is kept beside them.
 */
async function listOnScreen(
  context: BrowserContext,
  origin: string,
  path: string,
  mark: string,
): Promise<ListFigures> {
  const page = await context.newPage();
  try {
    await page.addInitScript(FIRST_ROWS_PROBE);
    await page.goto(`${origin}${path}`);
    await markTime(page, mark);
    const painted: number[] = [];
    const inPage: number[] = [];
    const allRecords: number[] = [];
    for (let run = 0; run < LIST_RUNS; run++) {
      await page.reload();
      const firstRows = await page.waitForFunction(
        () => (window as unknown as { firstRows?: { painted: number } }).firstRows,
        undefined,
        { timeout: 60_000 },
      );
      painted.push(((await firstRows.jsonValue()) as { painted: number }).painted);
      inPage.push(await markTime(page, mark));
      allRecords.push(await markTime(page, OPEN_MARKS.rows));
    }
    return { firstScreen: spreadOf(painted), inPage: spreadOf(inPage), allRecords: spreadOf(allRecords) };
  } finally {
    await page.close();
  }
}

async function kpisOnScreenAfterReload(page: Page): Promise<number> {
  await page.reload();
  return page
    .waitForFunction((name) => performance.getEntriesByName(name)[0]?.startTime, KPIS_ON_SCREEN, {
      timeout: 60_000,
    })
    .then((handle) => handle.jsonValue() as Promise<number>);
}

/** Prints the rep app's figures with a partner document of `size` (or why they were not measured). */
export async function benchBrowser(size: Size = SIZE): Promise<void> {
  console.log('\n=== the rep app in headless Chromium ===');
  try {
    printBrowser(await measureBrowser(size));
  } catch (error) {
    console.log(`  not measured: ${(error as Error).message}`);
  }
}

async function measureBrowser(size: Size): Promise<BrowserFigures> {
  ensureBuilt();
  const { leads, deals } = partnerDocument(size);
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await importAsPartner(page, server.origin, leads, deals);
    const open = await opensToKpis(page, server.origin);
    const leadsList = await listOnScreen(browser.context, server.origin, '/leads', LIST_ON_SCREEN.leads);
    const dealsBoard = await listOnScreen(browser.context, server.origin, '/deals', LIST_ON_SCREEN.deals);
    const saves = await savesOfDeals(page, browser.context, server.origin, deals);
    return { ...open, leadsList, dealsBoard, ...saves, leads: leads.length, deals: deals.length };
  } finally {
    await browser.close();
    await server.stop();
  }
}

/** Signs in as the partner's manager and imports the records through Settings → CSV, the app's own path. */
async function importAsPartner(page: Page, origin: string, leads: Lead[], deals: Deal[]): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-bench-'));
  try {
    writeFileSync(join(folder, 'leads.csv'), exportLeadsCsv(leads, 'Asia/Kolkata'));
    writeFileSync(join(folder, 'deals.csv'), exportDealsCsv(deals, 'Asia/Kolkata'));
    await page.goto(origin);
    await new RepApp(page).signIn(PARTNER.name, /partner manager/);

    await page.goto(`${origin}/settings`);
    await page.getByLabel('leads.csv').setInputFiles(join(folder, 'leads.csv'));
    await page.getByLabel('deals.csv').setInputFiles(join(folder, 'deals.csv'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Imported/ })
      .waitFor({ timeout: 300_000 });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Opening the app from IndexedDB to KPIs on screen, OPEN_RUNS reloads; the steps of the last open. */
async function opensToKpis(
  page: Page,
  origin: string,
): Promise<Pick<BrowserFigures, 'openMs' | 'openSteps'>> {
  await page.goto(origin);
  const opens: number[] = [];
  for (let run = 0; run < OPEN_RUNS; run++) opens.push(await kpisOnScreenAfterReload(page));
  await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, OPEN_MARKS.rows, {
    timeout: 60_000,
  });
  const steps = await page.evaluate(
    (names) => names.map((name) => [name, performance.getEntriesByName(name)[0]?.startTime ?? NaN] as const),
    [...Object.values(OPEN_MARKS), KPIS_ON_SCREEN],
  );
  return {
    openSteps: steps.map(([name, at]) => `${name.replace('partner-kpi:', '')} ${Math.round(at)}`).join(', '),
    openMs: percentile(opens, 50),
  };
}

/**
 * Saving a deal: move open deals back and forth between two stages on their pages, online then
 * offline, and the two baselines on the same page. The clicks and the waits run in the page:
 * Playwright's own polling (hit tests, layout reads, animation frames) would otherwise share the
 * page's main thread and be counted in every save.
 */
async function savesOfDeals(
  page: Page,
  context: BrowserContext,
  origin: string,
  deals: Deal[],
): Promise<Omit<BrowserFigures, 'openMs' | 'openSteps' | 'leadsList' | 'dealsBoard' | 'leads' | 'deals'>> {
  const open = deals
    .filter((deal) => deal.closedAt === undefined && deal.deletedAt === undefined)
    .map((deal) => deal.id);
  // One to warm up, then DEALS_SAVED online and as many offline (a small document may have too few).
  if (open.length < 1 + 2 * DEALS_SAVED)
    throw new Error(`${open.length} open deals in the partner document: saving needs ${1 + 2 * DEALS_SAVED}`);
  await page.goto(`${origin}/deals/${open[0]}`);
  await page.getByRole('heading', { name: 'Move to stage' }).waitFor();
  await page.evaluate(saveLoop(WARM_UP_SAVES));
  const online = await measuredSaves(page, open.slice(1, 1 + DEALS_SAVED));
  await context.setOffline(true);
  const offline = await measuredSaves(page, open.slice(1 + DEALS_SAVED, 1 + 2 * DEALS_SAVED));
  const floor = (await page.evaluate(bareTransactions(SAVES))) as number[];
  const journalFloor = (await page.evaluate(bareJournalAppends(SAVES))) as number[];
  return {
    saveP50Ms: percentile(offline, 50),
    saveP95Ms: percentile(offline, 95),
    onlineSaveP50Ms: percentile(online, 50),
    onlineSaveP95Ms: percentile(online, 95),
    floorP50Ms: percentile(floor, 50),
    floorP95Ms: percentile(floor, 95),
    journalFloorP50Ms: percentile(journalFloor, 50),
    journalFloorP95Ms: percentile(journalFloor, 95),
  };
}
