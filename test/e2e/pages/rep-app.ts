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
    readonly origin: string,
  ) {}

  async open(path = '/'): Promise<void> {
    await this.page.goto(new URL(path, this.origin).href);
  }

  /** First start: who I am; with or without the partner's demo records. */
  async start(partner: string, withDemoRecords: boolean): Promise<void> {
    await this.page.getByLabel('My partner company').selectOption({ label: partner });
    const demo = this.page.getByLabel("Start with my partner's demo leads and deals");
    if ((await demo.isChecked()) !== withDemoRecords) await demo.click();
    await this.page.getByRole('button', { name: 'Start' }).click();
    await this.heading(/^Hello/).waitFor();
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
    return scope.getByRole('article').filter({ has: this.page.getByRole('heading', { name: label, exact: true }) }).locator('.value');
  }

  section(name: string | RegExp): Locator {
    return this.page.getByRole('region', { name });
  }

  async logLead(fields: { company: string; contact: string; channel: string; phone?: string }): Promise<void> {
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
      const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations;
    });
    return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
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
