/**
 * The partner rep's app as a person uses it: a small class of locators by role and label, and
 * intent methods (Actual Budget's page models are the example).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Download, Locator, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

export class RepApp {
  constructor(
    readonly page: Page,
    /** The server's origin; without it, paths open on the origin the page is on (a script that navigated first). */
    readonly origin?: string,
  ) {}

  async open(path = '/'): Promise<void> {
    await this.page.goto(new URL(path, this.origin ?? this.page.url()).href);
  }

  /**
   * Signs in as one of the demo program's people: a partner (or 'Vendor (channel team)'), then the
   * person (by default the first listed: the partner's manager), and for a vendor manager the
   * partner to open. Then waits until the app works offline (past the service worker's one-time
   * "Ready to work offline" notice, which would cover the bottom of a form) and the partner's data
   * is synced from the server.
   */
  async signIn(partner: string, person?: string | RegExp, openPartner?: string): Promise<void> {
    await this.page.getByLabel('My partner company').selectOption({ label: partner });
    if (person !== undefined) {
      const option = this.page.getByLabel('I am').getByRole('option', { name: person });
      await this.page.getByLabel('I am').selectOption({ label: (await option.first().textContent()) ?? '' });
    }
    if (openPartner !== undefined)
      await this.page.getByLabel('Partner to open').selectOption({ label: openPartner });
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.heading(/^Hello/).waitFor();
    await this.waitUntilOfflineReady();
    await this.heading(/^Hello/).waitFor();
    // A read-only person (a vendor manager) has nothing to save: their data is "up to date".
    await this.syncSays(/All changes saved to server|Up to date/);
  }

  /** The header's sync indicator (a live status inside the banner). */
  get syncStatus(): Locator {
    return this.page.getByRole('banner').getByRole('status');
  }

  /** Waits until the sync indicator says this. */
  async syncSays(text: string | RegExp): Promise<void> {
    await this.syncStatus.filter({ hasText: text }).waitFor();
  }

  /** Waits until the partner's records are on the device (the lead list has some), then goes back to Today. */
  async waitForRecords(): Promise<void> {
    await this.tab('Leads');
    await this.page.getByText(/^Leads shown: [1-9]/).waitFor();
    await this.tab('Today');
  }

  /** How many leads the Leads screen lists (with its filters as they are). */
  async leadCount(): Promise<number> {
    await this.tab('Leads');
    // Counts are shown grouped (1,550).
    const text = (await this.page.getByText(/^Leads shown: \d+/).textContent())?.replace(/,/g, '') ?? '';
    return Number(/\d+/.exec(text)?.[0]);
  }

  /** How many deals the Deals screen counts, over all stages. */
  async dealCount(): Promise<number> {
    await this.tab('Deals');
    const headings = await this.page.getByRole('main').getByRole('heading', { level: 2 }).allTextContents();
    return headings.reduce(
      (sum, heading) => sum + Number(/([\d,]+) ·/.exec(heading)?.[1]?.replace(/,/g, '') ?? 0),
      0,
    );
  }

  heading(name: string | RegExp): Locator {
    return this.page.getByRole('heading', { name, level: 1 });
  }

  async tab(name: 'Today' | 'Leads' | 'Deals' | 'KPIs' | 'Settings'): Promise<void> {
    await this.page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
    await this.heading(name === 'Today' ? /^Hello/ : name).waitFor();
  }

  /** The value shown on a KPI card of a section ('My month', a partner's month, or the KPI screen). */
  kpi(label: string, section?: Locator): Locator {
    const scope = section ?? this.page.getByRole('main');
    return scope
      .getByRole('article')
      .filter({ has: this.page.getByRole('heading', { name: label, exact: true }) })
      .locator('.value');
  }

  section(name: string | RegExp): Locator {
    return this.page.getByRole('region', { name });
  }

  async logLead(fields: {
    company: string;
    contact: string;
    channel: string;
    phone?: string;
  }): Promise<void> {
    await this.page.getByRole('link', { name: 'Log a lead' }).first().click();
    await this.page.getByLabel('Company').fill(fields.company);
    await this.page.getByLabel('Contact name').fill(fields.contact);
    if (fields.phone) await this.page.getByLabel('Phone').fill(fields.phone);
    await this.page.getByLabel('Channel').selectOption({ label: fields.channel });
    await this.page.getByRole('button', { name: 'Save' }).click();
    await this.heading(fields.company).waitFor();
  }

  /** On a lead's page: convert it into a deal of this amount (major units). */
  async convertToDeal(amount: string): Promise<void> {
    await this.page.getByRole('link', { name: 'Convert to a deal' }).click();
    await this.page.getByLabel(/^Amount/).fill(amount);
    await this.page.getByRole('button', { name: 'Save' }).click();
    await this.page.getByRole('heading', { name: 'Move to stage' }).waitFor();
  }

  async markWon(): Promise<void> {
    await this.page.getByRole('button', { name: 'Mark won' }).click();
    await this.page.getByRole('status').filter({ hasText: 'Deal won' }).waitFor();
  }

  /** On a lead's or a deal's page: Delete, answering the question it asks (returned) with OK or Cancel. */
  async delete(answer: 'ok' | 'cancel'): Promise<string> {
    const asked = new Promise<string>((resolve) => {
      this.page.once('dialog', (dialog) => {
        resolve(dialog.message());
        void (answer === 'ok' ? dialog.accept() : dialog.dismiss());
      });
    });
    await this.page.getByRole('button', { name: 'Delete', exact: true }).click();
    return asked;
  }

  /** Settings → Export as CSV: both files, saved into `folder`, by name. */
  async exportCsv(folder: string): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    const saved: Promise<void>[] = [];
    const bothSaved = new Promise<void>((resolve) => {
      const onDownload = (download: Download) => {
        const path = join(folder, download.suggestedFilename());
        files[download.suggestedFilename()] = path;
        saved.push(download.saveAs(path));
        if (saved.length === 2) {
          this.page.off('download', onDownload);
          resolve();
        }
      };
      this.page.on('download', onDownload);
    });
    await this.page.getByRole('button', { name: 'Export as CSV' }).click();
    await bothSaved;
    await Promise.all(saved);
    return files;
  }

  /** The error shown for a form field: the text its input is described by. */
  async errorFor(label: string | RegExp): Promise<string> {
    const id = await this.page.getByLabel(label).getAttribute('aria-describedby');
    return id ? ((await this.page.locator(`[id="${id}"]`).textContent()) ?? '') : '';
  }

  async setLanguage(label: string): Promise<void> {
    await this.page.getByRole('combobox', { name: /^(Language|भाषा)$/ }).selectOption({ label });
  }

  /** Runs axe-core on the current screen; the serious and critical violations. */
  async accessibilityViolations(): Promise<AxeViolation[]> {
    await this.page.addScriptTag({ content: AXE_SOURCE });
    const violations = await this.page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> };
        }
      ).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations;
    });
    return violations.filter(
      (violation) => violation.impact === 'serious' || violation.impact === 'critical',
    );
  }

  /** Waits until the service worker controls the page, so that the app loads with no server. */
  async waitUntilOfflineReady(): Promise<void> {
    await this.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await this.page.reload();
    await this.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  }
}
