/**
 * Settings → "Export my data" as a rep, end to end (#13 item 7): the screen says what goes out, the
 * two files downloaded in Chromium hold only that rep's records, and a lead's note (Hindi, commas,
 * quotes, line breaks) is in its own column; importing the export again later undoes nothing the
 * device did since.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  launchBrowser,
  startServer,
  type Browser,
  type RunningServer,
} from '../support/browser-harness';
import { RepApp } from '../support/pages/rep-app';
import { VendorApp } from '../support/pages/vendor-app';

let server: RunningServer | undefined;
let browser: Browser | undefined;
const folders: string[] = [];

beforeAll(() => ensureBuilt());
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await server?.stop();
  server = undefined;
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const rowsOf = (path: string) =>
  parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];

describe('Settings → Export my data', () => {
  it("exports a rep's own leads and deals only, as the screen says, with the notes column", async () => {
    server = await startServer();
    browser = await launchBrowser();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const app = new RepApp(page, server.origin);
    await app.open();
    await app.signIn('BluePeak IT', /\(rep\)$/);
    await app.waitForRecords();

    // A lead with a note that a CSV file has to quote.
    const note = 'ग्राहक ने कहा, "अगले महीने"\nCall back: =budget, approved';
    await page.getByRole('link', { name: 'Log a lead' }).first().click();
    await page.getByLabel('Company').fill('Notes Test Pvt Ltd');
    await page.getByLabel('Contact name').fill('Meera Iyer');
    await page.getByLabel('Channel').selectOption({ label: 'Referral' });
    await page.getByLabel('Notes').fill(note);
    await page.getByRole('button', { name: 'Save' }).click();
    await app.heading('Notes Test Pvt Ltd').waitFor();

    await app.tab('Settings');
    const said = page.locator('#export-scope');
    await said
      .filter({
        hasText:
          /^Your own \d+ leads? and \d+ deals?, with your contacts' names, phone numbers, emails and notes\./,
      })
      .waitFor();
    const [, leadCount, dealCount] = /^Your own (\d+) leads? and (\d+) deals?/
      .exec((await said.textContent()) ?? '')!
      .map(Number);

    const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-export-'));
    folders.push(folder);
    const files = await app.exportCsv(folder);
    const leads = rowsOf(files['leads.csv']!);
    const deals = rowsOf(files['deals.csv']!);
    expect(readFileSync(files['leads.csv']!, 'utf8').split('\n')[0]).toBe(
      'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at,notes',
    );
    expect([leads.length, deals.length]).toEqual([leadCount, dealCount]);
    // One person's records: the rep who logged the lead above.
    const rep = leads.find((row) => row['company'] === 'Notes Test Pvt Ltd')!['rep_id'];
    expect(new Set([...leads, ...deals].map((row) => row['rep_id']))).toEqual(new Set([rep]));
    expect(new Set([...leads, ...deals].map((row) => row['partner_id'])).size).toBe(1);
    expect(leads.find((row) => row['company'] === 'Notes Test Pvt Ltd')!['notes']).toBe(note);
    expect(deals.every((row) => row['stage_log'] !== undefined && row['updated_at'] !== '')).toBe(true);
  });

  it('an export imported again after a deal was deleted keeps it deleted, and says one record was kept', async () => {
    server = await startServer();
    browser = await launchBrowser();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const app = new RepApp(page, server.origin);
    await app.open();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    await app.logLead({ company: 'Reimport Check Traders', contact: 'Asha Rao', channel: 'Referral' });
    await app.convertToDeal('125000');

    await app.tab('Settings');
    const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-reimport-'));
    folders.push(folder);
    const files = await app.exportCsv(folder);

    await app.tab('Deals');
    await page
      .getByRole('link', { name: /Reimport Check Traders/ })
      .first()
      .click();
    await app.heading('Reimport Check Traders').waitFor();
    await app.delete('ok');
    await app.heading('Deals').waitFor();
    const deals = await app.dealCount();

    await app.tab('Settings');
    await page.getByLabel('leads.csv').setInputFiles(files['leads.csv']!);
    await page.getByLabel('deals.csv').setInputFiles(files['deals.csv']!);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByRole('status')
      .filter({
        hasText:
          /^Imported \d+ leads? and \d+ deals?\. 1 record was changed or deleted on this device after the file was made: it was kept as the device has it\.$/,
      })
      .waitFor();
    await expect(app.dealCount()).resolves.toBe(deals);
    await expect(page.getByRole('link', { name: /Reimport Check Traders/ }).count()).resolves.toBe(0);
  });

  it("offers vendor staff no export of a partner's records, and says why", async () => {
    server = await startServer();
    browser = await launchBrowser();
    const app = new VendorApp(browser.context.pages()[0] ?? (await browser.context.newPage()), server.origin);
    await app.open();
    await app.signInAsVendor('BluePeak IT');
    await app.vendorTab('Settings');
    await app.page
      .getByText(/^Nothing to export here: as the vendor you see a partner's leads and deals read-only/)
      .waitFor();
    await expect(app.page.getByRole('button', { name: 'Export as CSV' }).count()).resolves.toBe(0);
  });
});
