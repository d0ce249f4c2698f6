/**
 * Two devices of one partner set the same deal's amount while the server is down (sync SPEC S3,
 * S13), in the system Chromium on the production build: once the server is back, both show the
 * same amount, and the same line naming the other value ("… also set Amount to … at …").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const browsers: Browser[] = [];
let dataDir: string | undefined;

beforeAll(() => ensureBuilt());
afterEach(async () => {
  for (const browser of browsers.splice(0)) await browser.close();
  await server?.stop();
  server = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function device(origin: string): Promise<RepApp> {
  const browser = await launchBrowser();
  browsers.push(browser);
  const app = new RepApp(browser.context.pages()[0] ?? (await browser.context.newPage()), origin);
  await app.open();
  await app.signIn('Kaveri Solutions');
  return app;
}

async function setAmount(app: RepApp, amount: string): Promise<void> {
  await app.page.getByLabel(/^Amount/).fill(amount);
  await app.page.getByRole('region', { name: 'Edit' }).getByRole('button', { name: 'Save' }).click();
  await app.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
}

describe('concurrent edits of one field', () => {
  it('S13: both devices keep the same amount and show the same line for the other one', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-e2e-data-'));
    server = await startServer(0, dataDir);
    const port = Number(new URL(server.origin).port);
    const phone = await device(server.origin);
    const laptop = await device(server.origin);

    await phone.tab('Deals');
    await phone.page.locator('a.item').first().click();
    // The click navigates in the app: read the address once it is the deal's.
    await phone.page.waitForURL(/\/deals\/[^/]+$/);
    const dealPath = new URL(phone.page.url()).pathname;
    await laptop.open(dealPath);
    const title = (await phone.page.getByRole('heading', { level: 1 }).textContent()) ?? '';
    await laptop.heading(title).waitFor();

    // No server: neither device sees the other's edit.
    await server.stop();
    await phone.syncSays(/Offline/);
    await laptop.syncSays(/Offline/);
    await setAmount(phone, '420000');
    await setAmount(laptop, '510000');

    server = await startServer(port, dataDir);
    await phone.syncSays('All changes saved to server');
    await laptop.syncSays('All changes saved to server');
    const lines = [phone, laptop].map((app) =>
      app.page.getByRole('region', { name: 'Also set at the same time' }).getByRole('listitem'),
    );
    await lines[0]!.first().waitFor();
    await lines[1]!.first().waitFor();
    const [onPhone = [], onLaptop = []] = await Promise.all(lines.map((line) => line.allTextContents()));
    expect(onPhone).toEqual(onLaptop);
    expect(onPhone).toHaveLength(1);
    const amounts = await Promise.all(
      [phone, laptop].map((app) => app.page.getByLabel(/^Amount/).inputValue()),
    );
    expect(amounts[0]).toBe(amounts[1]);
    // The line names the amount that was not kept, as the deal cards show money.
    expect(onPhone[0]).toMatch(
      Number(amounts[0]) === 420000 ? /also set Amount to ₹5\.1\sL at / : /also set Amount to ₹4\.2\sL at /,
    );
  });
});
