/**
 * Two tabs of the app in one browser (sync SPEC T1–T6), in the system Chromium on the production
 * build against the real server: a lead logged in one tab is listed in the other without a reload,
 * with the server running and with it stopped; both tabs count the unsent change alike; signing
 * out in one tab signs the other out too.
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

let server: RunningServer | undefined;
let browser: Browser | undefined;

beforeAll(() => ensureBuilt());
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await server?.stop();
  server = undefined;
});

describe('two tabs of one browser', () => {
  it('T1, T3, T5, T6: a lead logged in one tab shows in the other at once, online and with the server stopped; signing out in one signs out both', async () => {
    server = await startServer();
    browser = await launchBrowser();
    const first = new RepApp(browser.context.pages()[0] ?? (await browser.context.newPage()), server.origin);
    await first.open();
    await first.signIn('Kaveri Solutions');
    const second = new RepApp(await browser.context.newPage(), server.origin);
    await second.open('/leads');
    await second.heading('Leads').waitFor();

    await first.logLead({ company: 'Ganga Looms', contact: 'Ravi Nair', channel: 'Paid' });
    await second.page.getByRole('link', { name: /Ganga Looms/ }).waitFor();

    // No server: the tabs still meet, and both count the change the server does not have.
    await server.stop();
    await first.syncSays(/Offline/);
    await first.tab('Leads');
    await first.logLead({ company: 'Yamuna Weaves', contact: 'Sita Das', channel: 'Referral' });
    await second.page.getByRole('link', { name: /Yamuna Weaves/ }).waitFor();
    await first.syncSays('1 change not yet sent');
    await second.syncSays('1 change not yet sent');

    // An edit in the second tab reaches the lead's page, open in the first since it was saved.
    await first.heading('Yamuna Weaves').waitFor();
    await second.page.getByRole('link', { name: /Yamuna Weaves/ }).click();
    await second.page.getByLabel('Contact name').fill('Sita K. Das');
    await second.page.getByRole('button', { name: 'Save' }).click();
    await second.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await first.page.waitForFunction(
      () => document.querySelector<HTMLInputElement>('#contactName')?.value === 'Sita K. Das',
    );
    await first.syncSays('2 changes not yet sent');

    await first.tab('Settings');
    first.page.once('dialog', (dialog) => void dialog.accept());
    await first.page.getByRole('button', { name: 'Sign out' }).click();
    await first.heading('Sign in').waitFor();
    await second.heading('Sign in').waitFor();
    // Nothing of the partner is left in the database the tabs share.
    const left = await second.page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const request = indexedDB.open('partner-kpi');
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const db = request.result;
            const counting = db.transaction(['updates', 'leads', 'deals'], 'readonly');
            const counts = ['updates', 'leads', 'deals'].map((name) => counting.objectStore(name).count());
            counting.oncomplete = () => {
              db.close();
              resolve(counts.reduce((sum, count) => sum + count.result, 0));
            };
          };
        }),
    );
    expect(left).toBe(0);
  });
});
