/**
 * Sync, end to end: two devices of one partner against the real server (sync endpoint, demo
 * program, demo sign-in), in the system Chromium on the production build. One device's change shows
 * live on the other; the header counts changes made offline and says when all are saved; signing
 * out warns with that count; a refused token keeps every change and offers to sign in again; a
 * vendor manager opens a partner read-only and switches partners without signing out.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
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
import type { Page } from 'playwright-core';

let server: RunningServer | undefined;
let browsers: Browser[] = [];

beforeAll(() => ensureBuilt());
afterEach(async () => {
  for (const browser of browsers) await browser.close();
  browsers = [];
  await server?.stop();
  server = undefined;
});

/** The top folders of the origin's private file system (the save journals are under `journal`: src/lib/store/journal.ts). */
function storageFolders(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const names: string[] = [];
    const root = (await navigator.storage.getDirectory()) as unknown as { keys(): AsyncIterable<string> };
    for await (const name of root.keys()) names.push(name);
    return names;
  });
}

async function openApp(path = '/'): Promise<RepApp> {
  server ??= await startServer();
  const browser = await launchBrowser();
  browsers.push(browser);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const app = new RepApp(page, server.origin);
  await app.open(path);
  return app;
}

describe('sync between devices', () => {
  it('shows a lead logged on one device live on the other; counts changes made offline and sends them when the network returns', async () => {
    const phone = await openApp();
    await phone.signIn('Kaveri Solutions');
    const tablet = await openApp();
    await tablet.signIn('Kaveri Solutions');
    await tablet.tab('Leads');

    await phone.logLead({ company: 'Ganga Looms', contact: 'Ravi Nair', channel: 'Paid' });
    await phone.syncSays('All changes saved to server');
    await tablet.page.getByRole('link', { name: /Ganga Looms/ }).waitFor();

    // The lead's page on the tablet follows an edit made on the phone, in the form too.
    await tablet.page.getByRole('link', { name: /Ganga Looms/ }).click();
    await tablet.heading('Ganga Looms').waitFor();
    await phone.page.getByLabel('Contact name').fill('Ravi K. Nair');
    await phone.page.getByRole('button', { name: 'Save' }).click();
    await phone.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await tablet.page.waitForFunction(
      () => document.querySelector<HTMLInputElement>('#contactName')?.value === 'Ravi K. Nair',
    );
    await tablet.tab('Leads');

    await phone.page.context().setOffline(true);
    await phone.syncSays(/Offline/);
    await phone.tab('Leads');
    await phone.logLead({ company: 'Yamuna Weaves', contact: 'Sita Das', channel: 'Referral' });
    await phone.syncSays('1 change not yet sent');
    await expect(tablet.page.getByRole('link', { name: /Yamuna Weaves/ }).count()).resolves.toBe(0);

    await phone.page.context().setOffline(false);
    await phone.syncSays('All changes saved to server');
    await tablet.page.getByRole('link', { name: /Yamuna Weaves/ }).waitFor();
    await expect(phone.syncStatus.textContent()).resolves.toMatch(/Last synced/);
  });

  it('warns before signing out with unsent changes, naming how many; signing out then removes the data', async () => {
    const app = await openApp();
    await app.signIn('Metro Digital');
    await app.page.context().setOffline(true);
    await app.logLead({ company: 'Kosi Traders', contact: 'Anil Jha', channel: 'Owned' });
    await app.syncSays('1 change not yet sent');
    await app.tab('Settings');

    const dismissed = new Promise<string>((resolve) =>
      app.page.once('dialog', (dialog) => {
        resolve(dialog.message());
        void dialog.dismiss();
      }),
    );
    await app.page.getByRole('button', { name: 'Sign out' }).click();
    expect(await dismissed).toBe(
      '1 change has not been sent to the server yet and will be lost. Sign out anyway?',
    );
    await expect(app.page.getByRole('heading', { name: 'Settings', level: 1 }).count()).resolves.toBe(1);

    // The lead was saved to this tab's journal too: that goes as well.
    expect(await storageFolders(app.page)).toContain('journal');
    app.page.once('dialog', (dialog) => void dialog.accept());
    await app.page.getByRole('button', { name: 'Sign out' }).click();
    await app.heading('Sign in').waitFor();
    expect(await storageFolders(app.page)).not.toContain('journal');
    await app.page.context().setOffline(false);
    await app.open('/leads');
    await app.heading('Sign in').waitFor();
  });
});

describe('refused sign-ins', () => {
  it('a token the server refuses: says the sign-in expired, keeps working and every change, and signing in again sends them', async () => {
    const app = await openApp();
    const { users } = (await (await fetch(`${server!.origin}/api/demo-users`)).json()) as {
      users: { userId: string; role: string; partnerId?: string; partnerName?: string }[];
    };
    const person = users.find((user) => user.partnerName === 'Northstar Tech')!;
    // Signed with another key: it decodes on the device, and the server refuses it (4401).
    const forged = await new SignJWT({ role: person.role, programId: 'demo', partnerId: person.partnerId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(person.userId)
      .setIssuer('partner-kpi')
      .setAudience('partner-kpi-sync')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(randomBytes(32));
    await app.open(`/signin#token=${forged}`);
    await app.heading(/^Hello/).waitFor();
    await app.waitUntilOfflineReady();
    await app.syncSays(/Your sign-in has expired/);
    await expect(app.page.url()).not.toContain(forged);

    await app.logLead({ company: 'Tapti Agro', contact: 'Farah Khan', channel: 'Earned' });
    await app.syncSays('1 change not yet sent');

    await app.page.getByRole('banner').getByRole('link', { name: 'Sign in again' }).click();
    await app.heading('Sign in').waitFor();
    await app.page.getByRole('button', { name: 'Sign in' }).click();
    await app.heading(/^Hello/).waitFor();
    await app.syncSays('All changes saved to server');
    await app.tab('Leads');
    await app.page.getByRole('link', { name: /Tapti Agro/ }).waitFor();
  });
});

describe('read-only', () => {
  it('a vendor manager opens a partner and is offered no editing, and switches to another without signing out', async () => {
    server ??= await startServer();
    const browser = await launchBrowser();
    browsers.push(browser);
    const app = new VendorApp(browser.context.pages()[0] ?? (await browser.context.newPage()), server.origin);
    await app.open();
    await app.signInAsVendor('Lotus Infotech');
    await app.openPartnerPage('Lotus Infotech');
    await app.openRecords('Leads');
    await app.page.getByText(/^Leads shown: [1-9]/).waitFor();
    await expect(app.page.getByRole('link', { name: 'Log a lead' }).count()).resolves.toBe(0);
    await app.page.getByRole('main').getByRole('listitem').first().getByRole('link').click();
    await app.page.getByText("You can view this partner's data but not change it.").waitFor();
    for (const action of ['Qualify', 'Disqualify', 'Save', 'Delete']) {
      await expect(app.page.getByRole('button', { name: action, exact: true }).count()).resolves.toBe(0);
    }
    await expect(app.page.getByRole('link', { name: 'Convert to a deal' }).count()).resolves.toBe(0);

    await app.open('/deals/new');
    await app.page.getByText("You can view this partner's data but not change it.").waitFor();
    await expect(app.page.getByRole('button', { name: 'Save' }).count()).resolves.toBe(0);
    await app.vendorTab('Settings');
    await expect(app.page.getByRole('button', { name: 'Import', exact: true }).count()).resolves.toBe(0);

    // Another partner: its own deals, read-only, and still signed in.
    await app.openPartnerPage('Metro Digital');
    await app.openRecords('Deals');
    await expect(app.page.getByRole('link', { name: 'Log a deal' }).count()).resolves.toBe(0);
    await app.page.getByRole('main').getByRole('listitem').first().getByRole('link').click();
    await app.page.getByText("You can view this partner's data but not change it.").waitFor();
    await app.syncSays('Up to date');
    await expect(app.page.getByRole('banner').textContent()).resolves.toContain('Anita Rao');
    // Nothing to save, so no journal of saves either.
    expect(await storageFolders(app.page)).not.toContain('journal');
  });
});
