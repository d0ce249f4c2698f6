/**
 * The rep's forms on a phone (390 × 844), end to end against the production build (#13 items 1, 8,
 * 9 and 14): a deal logged with the day it started, close dates that cannot be before the deal began
 * or in the future, Mark won not offered on a won deal, a lead that converts once — Back after
 * converting never gives a second deal — and what is typed kept on the device until it is saved.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureBuilt,
  launchBrowser,
  startServer,
  type Browser,
  type RunningServer,
} from '../support/browser-harness';
import { RepApp } from '../support/pages/rep-app';

/** The demo program's zone: the dates a rep types are days there. */
const TZ = 'Asia/Kolkata';
const DAY_MS = 86_400_000;
/** The day `daysFromToday` days from today in the program's zone, as a date input takes it. */
const day = (daysFromToday: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(Date.now() + daysFromToday * DAY_MS);
/** A day as the deal page shows it ("created 5 Jan 2026"). */
const shown = (date: string) =>
  new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium', timeZone: TZ }).format(
    Date.parse(`${date}T12:00:00+05:30`),
  );

let server: RunningServer | undefined;
let browsers: Browser[] = [];
beforeAll(() => ensureBuilt());
afterEach(async () => {
  for (const browser of browsers) await browser.close();
  browsers = [];
  await server?.stop();
  server = undefined;
});

async function signedInRep(): Promise<RepApp> {
  server ??= await startServer();
  const browser = await launchBrowser({ width: 390, height: 844 });
  browsers.push(browser);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const app = new RepApp(page, server.origin);
  await app.open();
  await app.signIn('Northstar Tech');
  await app.waitForRecords();
  return app;
}

describe('the deal forms', () => {
  it('log a deal with the day it started; close dates before that day or in the future are refused, and a won deal offers no Mark won', async () => {
    const app = await signedInRep();
    const { page } = app;
    await page.getByRole('link', { name: 'Log a deal' }).first().click();
    await app.heading('Log a deal').waitFor();
    // Until the rep says, the deal starts today.
    await expect(page.getByLabel('Deal started on').inputValue()).resolves.toBe(day(0));
    await page.getByLabel('Title').fill('Ganga Textiles renewal');
    await page.getByLabel(/^Amount/).fill('180000');
    await page.getByLabel('Channel').selectOption({ label: 'Referral' });
    await page.getByLabel('Deal started on').fill(day(2));
    await page.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => app.errorFor('Deal started on'))
      .toMatch(/^Deal started on cannot be in the future\./);

    await page.getByLabel('Deal started on').fill(day(-3));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Move to stage' }).waitFor();
    await page.getByText(`created ${shown(day(-3))}`).waitFor();

    // Won the day before it started: refused, said under the close date, and the deal stays open.
    await page.getByLabel('Close date', { exact: true }).first().fill(day(-5));
    await page.getByRole('button', { name: 'Mark won' }).click();
    await expect
      .poll(() => app.errorFor('Close date'))
      .toBe('Close date cannot be before the deal was created.');
    // In the future: refused too, not changed to today.
    await page.getByLabel('Close date').first().fill(day(1));
    await page.getByRole('button', { name: 'Mark won' }).click();
    await expect.poll(() => app.errorFor('Close date')).toBe('Close date cannot be in the future.');
    await expect(page.getByRole('main').locator('.summary').textContent()).resolves.toContain('Prospecting');
    await expect(page.getByRole('status').filter({ hasText: 'Deal won' }).count()).resolves.toBe(0);

    await page.getByLabel('Close date').first().fill(day(-1));
    await app.markWon();
    await expect(page.getByRole('main').locator('.summary').textContent()).resolves.toContain('Won');
    await expect(page.getByRole('button', { name: 'Mark won' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Mark lost' }).count()).resolves.toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
  });

  it('converts a lead once: Convert → Save → Back → Save gives one deal, and the convert form is not offered again', async () => {
    const app = await signedInRep();
    const { page } = app;
    const dealsBefore = await app.dealCount();
    await app.tab('Today');
    await app.logLead({ company: 'Narmada Agro Exports', contact: 'Ravi Patel', channel: 'Paid' });
    const leadUrl = page.url();
    await app.convertToDeal('250000');

    // Back leaves the deal for the lead's page (the saved form is not in the history any more).
    await page.goBack();
    await app.heading('Narmada Agro Exports').waitFor();
    expect(page.url()).toBe(leadUrl);
    await expect(page.getByRole('link', { name: 'Convert to a deal' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await expect(
      page
        .getByRole('heading', { name: 'Deals from this lead' })
        .locator('xpath=following-sibling::ul[1]/li')
        .count(),
    ).resolves.toBe(1);

    // The convert form itself, opened again (a bookmark, another tab), says the lead is converted.
    await app.open(`/deals/new?lead=${leadUrl.split('/').pop()}`);
    await page.getByText('This lead has already been converted into a deal: a lead converts once.').waitFor();
    await expect(page.getByRole('button', { name: 'Save' }).count()).resolves.toBe(0);
    await expect(app.dealCount()).resolves.toBe(dealsBefore + 1);
  });
});

describe('drafts on the device', () => {
  it('keeps what is typed in Log a lead across another tab, Back and a reload, until it is saved', async () => {
    const app = await signedInRep();
    const { page } = app;
    await page.getByRole('link', { name: 'Log a lead' }).first().click();
    await app.heading('Log a lead').waitFor();
    await page.getByLabel('Company').fill('Tungabhadra Steel');
    await page.getByText('What you type is kept on this device until you save it.').waitFor();
    await page.getByLabel('Contact name').fill('Lakshmi Rao');
    await page.getByLabel('Notes').fill('Wants a demo after the monsoon');

    // Another tab, then Back: everything typed is there.
    await app.tab('Deals');
    await page.goBack();
    await app.heading('Log a lead').waitFor();
    await page.getByText('What you typed earlier is back.', { exact: false }).waitFor();
    await expect(page.getByLabel('Company').inputValue()).resolves.toBe('Tungabhadra Steel');
    await expect(page.getByLabel('Contact name').inputValue()).resolves.toBe('Lakshmi Rao');
    await expect(page.getByLabel('Notes').inputValue()).resolves.toBe('Wants a demo after the monsoon');

    // A reload, too.
    await page.reload();
    await app.heading('Log a lead').waitFor();
    await expect.poll(() => page.getByLabel('Notes').inputValue()).toBe('Wants a demo after the monsoon');
    await page.getByLabel('Channel').selectOption({ label: 'Earned' });
    await page.getByRole('button', { name: 'Save' }).click();
    await app.heading('Tungabhadra Steel').waitFor();

    // Saved: the next lead starts empty.
    await app.tab('Today');
    await page.getByRole('link', { name: 'Log a lead' }).first().click();
    await app.heading('Log a lead').waitFor();
    await expect(page.getByLabel('Company').inputValue()).resolves.toBe('');
    await expect(page.getByText('What you typed earlier is back.', { exact: false }).count()).resolves.toBe(
      0,
    );
  });

  it('keeps an edit of a deal across a reload, in Hindi, and drops it when discarded', async () => {
    const app = await signedInRep();
    const { page } = app;
    await app.tab('Settings');
    await app.setLanguage('हिन्दी');
    await page.getByRole('navigation').getByRole('link', { name: 'डील', exact: true }).click();
    await page.getByRole('main').getByRole('listitem').first().getByRole('link').click();
    const title = page.getByLabel('शीर्षक');
    await title.waitFor();
    const stored = await title.inputValue();
    await title.fill(`${stored} (renewal)`);
    await page.getByText('आप जो लिखते हैं, वह सहेजने तक इसी डिवाइस पर रखा जाता है।').waitFor();

    await page.reload();
    await page.getByText('आपने पहले जो लिखा था, वह वापस आ गया है।', { exact: false }).waitFor();
    await expect(title.inputValue()).resolves.toBe(`${stored} (renewal)`);
    await page.getByRole('button', { name: 'लिखा हुआ हटाएँ' }).click();
    await expect.poll(() => title.inputValue()).toBe(stored);
    await page.reload();
    await title.waitFor();
    await expect(page.getByText('आपने पहले जो लिखा था', { exact: false }).count()).resolves.toBe(0);
    await expect(title.inputValue()).resolves.toBe(stored);
  });
});
