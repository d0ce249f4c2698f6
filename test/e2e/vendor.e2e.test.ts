/**
 * The vendor's console, end to end, against the real server (sync, rollup worker, demo program) in
 * the system Chromium: a rep's offline win reaching the vendor's console live once the rep is back
 * online, a target set by the vendor reaching the partner's phone, the console offline from the
 * last synced state, and every vendor screen checked with axe and kept as a phone-sized screenshot.
 * (Opening partners read-only and switching between them: sync.e2e.test.ts.)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  launchBrowser,
  root,
  startServer,
  type Browser,
  type RunningServer,
} from '../support/browser-harness';
import { RepApp } from '../support/pages/rep-app';
import { VendorApp } from '../support/pages/vendor-app';

const SCREENSHOTS = join(root, 'test-results', 'screenshots');
let server: RunningServer | undefined;
let browsers: Browser[] = [];

beforeAll(() => {
  ensureBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterEach(async () => {
  for (const browser of browsers) await browser.close();
  browsers = [];
  await server?.stop();
  server = undefined;
});

/** A device of its own (one browser profile each), on the app's start page. */
async function device<T extends RepApp>(make: (page: Page, origin: string) => T): Promise<T> {
  server ??= await startServer();
  const browser = await launchBrowser();
  browsers.push(browser);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const app = make(page, server.origin);
  await app.open();
  return app;
}
const repDevice = () => device((page, origin) => new RepApp(page, origin));
const vendorDevice = () => device((page, origin) => new VendorApp(page, origin));

describe('the vendor console', () => {
  it('shows a deal a rep won offline on the console, live, once the rep is back online', async () => {
    const vendor = await vendorDevice();
    await vendor.signInAsVendor('Northstar Tech');
    const rep = await repDevice();
    await rep.signIn('Northstar Tech');
    await rep.waitForRecords();

    await vendor.openPartnerPage('Northstar Tech');
    const wonBefore = Number(await vendor.kpi('Deals won').textContent());
    const revenueBefore = (await vendor.kpi('Revenue won').textContent()) ?? '';
    await vendor.markPage();

    // The rep's phone loses its signal and logs a lead, converts it and wins the deal.
    await rep.page.context().setOffline(true);
    await rep.syncSays(/Offline/);
    await rep.logLead({ company: 'Godavari Agro Exports', contact: 'Lakshmi Rao', channel: 'Referral' });
    await rep.convertToDeal('420000');
    await rep.markWon();
    await rep.syncSays('3 changes not yet sent');
    await expect(vendor.kpi('Deals won').textContent()).resolves.toBe(String(wonBefore));

    // Signal again: the server stores the changes, folds the partner's buckets into the program
    // document, and the vendor's open console follows.
    await rep.page.context().setOffline(false);
    await rep.syncSays('All changes saved to server');
    await vendor
      .kpi('Deals won')
      .filter({ hasText: new RegExp(`^${wonBefore + 1}$`) })
      .waitFor();
    await vendor.kpi('Revenue won').filter({ hasNotText: revenueBefore }).waitFor();
    await expect(vendor.stillSamePage()).resolves.toBe(true);

    // The ranking says the same, and that the figures are fresh.
    await vendor.vendorTab('Partners');
    await expect(vendor.rankingFigure('Northstar Tech', 'Deals won').textContent()).resolves.toBe(
      String(wonBefore + 1),
    );
    await expect(vendor.rankingFigure('Northstar Tech', 'Figures as of').textContent()).resolves.toMatch(
      /just now|minutes? ago/,
    );
    await expect(vendor.stillSamePage()).resolves.toBe(true);
  });

  it('sets a target, refusing bad input next to its fields; the partner’s phone shows it with its pipeline coverage', async () => {
    const vendor = await vendorDevice();
    await vendor.signInAsVendor('Northstar Tech');
    const rep = await repDevice();
    await rep.signIn('Northstar Tech');

    await vendor.openPartnerPage('Northstar Tech');
    await vendor.fillTarget({ revenue: 'lots', deals: '2.5' });
    await expect(vendor.errorFor(/^Revenue target/)).resolves.toMatch(/"lots" is not an amount/);
    await expect(vendor.errorFor('Deals to win')).resolves.toBe(
      'Deals to win must be a whole number of deals.',
    );
    // A target of nothing is refused, not saved as ₹0 and 0 deals (#13 item 14).
    await vendor.fillTarget({ revenue: '0', deals: '' });
    await expect
      .poll(() => vendor.errorFor(/^Revenue target/))
      .toBe('A target needs revenue or deals to win above 0: set one of them, or both.');

    await vendor.fillTarget({ revenue: '25,00,000', deals: '37' });
    await vendor.page.getByRole('status').filter({ hasText: 'Target saved.' }).waitFor();
    await vendor.syncSays('Up to date');
    await vendor
      .section(/^Target for Q\d \d{4}$/)
      .getByText(/ of 37$/)
      .waitFor();

    // On the partner's phone, without a reload: the target, what is won of it, and the coverage.
    const target = rep.section(/^Target for Q\d \d{4}$/);
    await target.getByText(/ of 37$/).waitFor();
    await expect(target.textContent()).resolves.toMatch(/of ₹25\u00a0L/);
    await expect(target.textContent()).resolves.toMatch(/Pipeline coverage/);

    // A partner's people are offered no target form, nor the console.
    await rep.open('/vendor/partners/p-northstar');
    await rep.heading("For the vendor's channel team").waitFor();
    await expect(rep.page.getByRole('button', { name: 'Save target' }).count()).resolves.toBe(0);
  });

  it('works offline from the last synced state: the console, the ranking, and a partner opened before', async () => {
    const vendor = await vendorDevice();
    await vendor.signInAsVendor('Kaveri Solutions');
    await vendor.page.getByLabel('Period').selectOption({ label: 'Last 12 months' });
    const wonOnline = await vendor.kpi('Deals won').textContent();

    await vendor.page.context().setOffline(true);
    await vendor.page.reload();
    await vendor.heading('Program').waitFor();
    await vendor.syncSays(/Offline/);
    await vendor.page.getByLabel('Period').selectOption({ label: 'Last 12 months' });
    await expect(vendor.kpi('Deals won').textContent()).resolves.toBe(wonOnline);
    await vendor.vendorTab('Partners');
    await expect(vendor.rankingFigure('Kaveri Solutions', 'Deals won').textContent()).resolves.toMatch(
      /^\d+$/,
    );
    await vendor.openPartnerPage('Kaveri Solutions');
    await vendor.openRecords('Deals');
    await vendor.page.getByRole('main').getByRole('listitem').first().getByRole('link').waitFor();
    // The read-only screens name the partner and lead back to its page in the console (#13 item 14).
    const viewing = vendor.page.getByRole('navigation', { name: 'Partner being viewed' });
    await expect(viewing.textContent()).resolves.toContain("Kaveri Solutions's records, read-only");
    await viewing.getByRole('link', { name: '← Back to the console' }).click();
    await vendor.heading('Kaveri Solutions').waitFor();
  });

  it('has no serious accessibility problem on any vendor screen, and a phone-sized screenshot of each', async () => {
    const vendor = await vendorDevice();
    await vendor.signInAsVendor('Sunrise Systems');
    const screens: [string, () => Promise<void>][] = [
      [
        'vendor-program',
        async () => {
          await vendor.vendorTab('Program');
          await vendor.page.getByRole('heading', { name: 'Partners that need attention' }).waitFor();
        },
      ],
      [
        'vendor-partners',
        async () => {
          await vendor.vendorTab('Partners');
          await vendor.rankingEntry('Sunrise Systems').waitFor();
        },
      ],
      [
        'vendor-channels',
        async () => {
          await vendor.vendorTab('Channels');
          await vendor.page.getByRole('heading', { name: 'Close rate by month, last 12 months' }).waitFor();
        },
      ],
      [
        'vendor-partner',
        async () => {
          await vendor.openPartnerPage('Lotus Infotech');
          await vendor.page.getByRole('heading', { name: 'Set a target' }).waitFor();
        },
      ],
    ];
    const problems: Record<string, string[]> = {};
    for (const [name, show] of screens) {
      await show();
      await vendor.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
      const violations = await vendor.accessibilityViolations();
      if (violations.length)
        problems[name] = violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
        );
    }
    expect(problems).toEqual({});
  });
});
