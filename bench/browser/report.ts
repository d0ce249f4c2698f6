/** What the browser bench prints: the rep app's figures against their budgets. */
import { ms, verdict, type Spread } from '../stats';

export const BROWSER_TARGETS = { openMs: 1000, saveP95Ms: 5, listFirstScreenMs: 300 };

/** A list's figures over the same reloads. */
export interface ListFigures {
  /** Its first rows painted. */
  firstScreen: Spread;
  /** Its first rows in the page (the app's mark). */
  inPage: Spread;
  /** Every record loaded (`open-rows`): when the list showed before its first screen was read by index. */
  allRecords: Spread;
}

export interface BrowserFigures {
  openSteps: string;
  openMs: number;
  leadsList: ListFigures;
  dealsBoard: ListFigures;
  saveP50Ms: number;
  saveP95Ms: number;
  onlineSaveP50Ms: number;
  onlineSaveP95Ms: number;
  floorP50Ms: number;
  floorP95Ms: number;
  journalFloorP50Ms: number;
  journalFloorP95Ms: number;
  leads: number;
  deals: number;
}

export function printBrowser(browser: BrowserFigures): void {
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
}
