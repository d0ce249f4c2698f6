/**
 * The vendor's console as a channel manager uses it: signing in as one of the vendor's people, the
 * console's tabs, a partner's page (its figures, its target, its records read-only) and the
 * partner ranking. Locators by role and label; the rep app's helpers (sync indicator, KPI cards,
 * field errors, axe) are inherited.
 */
import type { Locator } from 'playwright-core';
import { RepApp } from './rep-app';

export type VendorTab = 'Program' | 'Partners' | 'Channels' | 'Settings';

export class VendorApp extends RepApp {
  /**
   * Signs in as one of the vendor's people (by default the first listed), opening `openPartner`'s
   * records first; waits for the console, for the app to work offline, and for both documents to be
   * synced.
   */
  async signInAsVendor(openPartner: string, person?: string | RegExp): Promise<void> {
    await this.page.getByLabel('My partner company').selectOption({ label: 'Vendor (channel team)' });
    if (person !== undefined) {
      const option = this.page.getByLabel('I am').getByRole('option', { name: person });
      await this.page.getByLabel('I am').selectOption({ label: (await option.first().textContent()) ?? '' });
    }
    await this.page.getByLabel('Partner to open').selectOption({ label: openPartner });
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.heading('Program').waitFor();
    await this.waitUntilOfflineReady();
    await this.heading('Program').waitFor();
    await this.syncSays('Up to date');
  }

  async vendorTab(name: VendorTab): Promise<void> {
    await this.page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
    await this.heading(name).waitFor();
  }

  /** Partners → the partner's page. */
  async openPartnerPage(name: string): Promise<void> {
    await this.vendorTab('Partners');
    await this.rankingEntry(name).getByRole('link', { name }).click();
    await this.heading(name).waitFor();
  }

  /** A partner's entry in the ranking. */
  rankingEntry(name: string): Locator {
    return this.page
      .getByRole('main')
      .getByRole('listitem')
      .filter({ has: this.page.getByRole('heading', { name: new RegExp(`${name}$`), level: 3 }) });
  }

  /** One figure of a partner's ranking entry ('Deals won', 'Revenue won', 'Figures as of'…): the definition of that term. */
  rankingFigure(name: string, label: string): Locator {
    return this.rankingEntry(name)
      .getByRole('term')
      .filter({ hasText: new RegExp(`^${label}$`) })
      .locator('xpath=following-sibling::dd[1]');
  }

  /** On a partner's page: sets a target (the quarter as shown, e.g. 'Q4 2026'; the current one by default). */
  async fillTarget(fields: { revenue: string; deals: string; quarter?: string }): Promise<void> {
    if (fields.quarter) await this.page.getByLabel('Quarter').selectOption({ label: fields.quarter });
    await this.page.getByLabel(/^Revenue target/).fill(fields.revenue);
    await this.page.getByLabel('Deals to win').fill(fields.deals);
    await this.page.getByRole('button', { name: 'Save target' }).click();
  }

  /** On a partner's page: opens its own records (read-only) on one of the partner screens. */
  async openRecords(screen: 'Deals' | 'Leads' | 'KPIs'): Promise<void> {
    await this.page
      .getByRole('region', { name: /^Its records/ })
      .getByRole('button', { name: screen, exact: true })
      .click();
    await this.heading(screen).waitFor();
  }

  /** Marks the page, so that a test can tell it was not reloaded since. */
  async markPage(): Promise<void> {
    await this.page.evaluate(() => {
      (window as unknown as { notReloaded?: boolean }).notReloaded = true;
    });
  }

  async stillSamePage(): Promise<boolean> {
    return this.page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);
  }
}
