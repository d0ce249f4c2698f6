/**
 * The partner rep's app, end to end, in the system Chromium against the production build served by
 * the real server (sync and the demo program included): a day without signal and its changes sent
 * when the server is back, bad input, Hindi, CSV export and import on another device, accessibility
 * and a phone-sized screenshot of every screen. Everyone signs in as one of the demo's people.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import * as Y from 'yjs';
import { createLead, openPartnerDoc } from '../../src/lib/sync/partner-doc';
import { encodeRecord } from '../../src/lib/store/journal-file';
import { partnerRoom } from '../../src/lib/sync/rooms';
import { lead } from '../factories/records';

const SCREENSHOTS = join(root, 'test-results', 'screenshots');
let server: RunningServer | undefined;
let browsers: Browser[] = [];
/** Cleanups of the current test, after its browsers and server are gone. */
const afterThisTest: (() => void)[] = [];

beforeAll(() => {
  ensureBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterEach(async () => {
  for (const browser of browsers) await browser.close();
  browsers = [];
  await server?.stop();
  server = undefined;
  for (const cleanup of afterThisTest.splice(0)) cleanup();
});

async function openApp(): Promise<RepApp> {
  server ??= await startServer();
  const browser = await launchBrowser();
  browsers.push(browser);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const app = new RepApp(page, server.origin);
  await app.open();
  return app;
}

describe('the rep app', () => {
  it('works a day without signal: log a lead, convert it, win the deal; after a reload everything is there and counted, and sent once the server is back', async () => {
    // The server's data outlives this first server: it comes back with it below.
    const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-e2e-data-'));
    afterThisTest.push(() => rmSync(dataDir, { recursive: true, force: true }));
    server = await startServer(0, dataDir);
    const { origin } = server;
    const app = await openApp();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    // Signal is lost once every room has synced (the records come before the program's channel does).
    await app.syncSays(/All changes saved to server/);
    await server.stop();

    await app.page.reload();
    const myMonth = app.section(/^My month/);
    const wonBefore = Number(await app.kpi('Deals won', myMonth).textContent());
    const revenueBefore = await app.kpi('Revenue won', myMonth).textContent();
    await app.syncSays(/All changes saved to server/);

    await app.logLead({
      company: 'Kaveri Handlooms Pvt Ltd',
      contact: 'Meera Iyer',
      channel: 'Referral',
      phone: '+91 98765 43210',
    });
    await app.convertToDeal('420000');
    await app.markWon();
    await app.tab('Today');
    await expect(app.kpi('Deals won', myMonth).textContent()).resolves.toBe(String(wonBefore + 1));
    await expect(app.kpi('Revenue won', myMonth).textContent()).resolves.not.toBe(revenueBefore);
    // The lead, the conversion and the win: three changes the server does not have.
    await app.syncSays('3 changes not yet sent');

    await app.page.reload();
    await app.heading(/^Hello/).waitFor();
    await expect(app.kpi('Deals won', myMonth).textContent()).resolves.toBe(String(wonBefore + 1));
    await app.syncSays('3 changes not yet sent');
    await app.tab('Leads');
    await expect(
      app.page.getByRole('link', { name: /Kaveri Handlooms Pvt Ltd/ }).textContent(),
    ).resolves.toContain('Converted');
    await app.tab('Deals');
    await app.page
      .getByRole('region', { name: /^Won/ })
      .getByRole('link', { name: /Kaveri Handlooms Pvt Ltd/ })
      .waitFor();

    // The server comes back (same port, same data): the changes are sent and stored.
    server = await startServer(Number(new URL(origin).port), dataDir);
    await app.syncSays('All changes saved to server');
    const other = await openApp();
    await other.signIn('Northstar Tech');
    await other.tab('Leads');
    await expect(
      other.page.getByRole('link', { name: /Kaveri Handlooms Pvt Ltd/ }).textContent(),
    ).resolves.toContain('Converted');
  });

  it('keeps a save that reached only the journal when the app stopped before IndexedDB had it', async () => {
    const app = await openApp();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    const leadsBefore = await app.leadCount();
    // What a tab that stopped between the two writes of a save leaves: a journal file of its own in
    // the Origin Private File System, here with a lead the IndexedDB log never had.
    const partnerDoc = openPartnerDoc(new Y.Doc());
    createLead(
      partnerDoc,
      lead({
        id: 'L-journal-1',
        partnerId: 'p-northstar',
        repId: 'northstar-r1',
        company: 'Journal Kept Traders',
        createdAt: Date.now(),
      }),
    );
    const update = Y.encodeStateAsUpdate(partnerDoc.doc);
    const record = encodeRecord({
      update,
      localChanges: [
        { client: partnerDoc.doc.clientID, clock: Y.getState(partnerDoc.doc.store, partnerDoc.doc.clientID) },
      ],
    });
    const folder = `journal/${encodeURIComponent(partnerRoom('demo', 'p-northstar'))}`;
    await app.page.evaluate(
      async ({ folder, bytes }) => {
        let directory = await navigator.storage.getDirectory();
        for (const name of folder.split('/'))
          directory = await directory.getDirectoryHandle(name, { create: true });
        const writable = await (
          await directory.getFileHandle('stopped-tab.journal', { create: true })
        ).createWritable();
        await writable.write(new Uint8Array(bytes));
        await writable.close();
      },
      { folder, bytes: [...record] },
    );

    // On the Leads screen, where leadCount left it. Its first screen shows the stored rows; the lead
    // only the journal had follows once the records are loaded and the journal replayed.
    await app.page.reload();
    await app.heading('Leads').waitFor();
    await expect.poll(() => app.leadCount()).toBe(leadsBefore + 1);
    await app.page.getByLabel('Search').fill('Journal Kept');
    await app.page.getByRole('link', { name: /Journal Kept Traders/ }).waitFor();
    // Replayed into the log, the file is removed; the lead stays without it.
    const files = () =>
      app.page.evaluate(async (folder) => {
        let directory = await navigator.storage.getDirectory();
        for (const name of folder.split('/')) directory = await directory.getDirectoryHandle(name);
        const names: string[] = [];
        for await (const name of (directory as unknown as { keys(): AsyncIterable<string> }).keys())
          names.push(name);
        return names;
      }, folder);
    await expect.poll(files).not.toContain('stopped-tab.journal');
    await app.page.reload();
    await app.heading('Leads').waitFor();
    await app.page.getByLabel('Search').fill('');
    expect(await app.leadCount()).toBe(leadsBefore + 1);
    // Sent to the server as the device's own change.
    await app.syncSays(/All changes saved to server/);
  });

  it('shows a list’s first screen from the stored rows before the records are loaded: the rows and counts the loaded list then shows, edits included', async () => {
    const app = await openApp();
    await app.signIn('Sunrise Systems');
    await app.waitForRecords();
    await app.logLead({ company: 'Narmada Agro Pvt Ltd', contact: 'Ravi Kumar', channel: 'Paid' });
    // What the list shows the first time it has rows, and whether the records were loaded by then.
    await app.page.addInitScript(() => {
      const capture = () => {
        const target = window as unknown as { firstScreen?: unknown };
        const items = document.querySelectorAll('main ul.list li');
        if (target.firstScreen || items.length === 0) return;
        target.firstScreen = {
          recordsLoaded: performance.getEntriesByName('partner-kpi:open-rows').length > 0,
          items: [...items].map((item) => item.textContent),
          counts: [...document.querySelectorAll('main [role=status], main h2')].map(
            (element) => element.textContent,
          ),
        };
      };
      new MutationObserver(capture).observe(document, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    const shown = () =>
      app.page.evaluate(() => ({
        items: [...document.querySelectorAll('main ul.list li')].map((item) => item.textContent),
        counts: [...document.querySelectorAll('main [role=status], main h2')].map(
          (element) => element.textContent,
        ),
      }));
    for (const list of ['leads', 'deals']) {
      await app.open(`/${list}`);
      await app.page.waitForFunction(() => performance.getEntriesByName('partner-kpi:open-rows').length > 0);
      const first = await app.page.evaluate(
        () =>
          (
            window as unknown as {
              firstScreen: { recordsLoaded: boolean; items: string[]; counts: string[] };
            }
          ).firstScreen,
      );
      expect(first.recordsLoaded).toBe(false);
      expect(first.items.length).toBeGreaterThan(10);
      // The loaded records on screen (a frame after they are in): the same rows, the same counts.
      await app.page.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
      );
      expect(await shown()).toEqual({ items: first.items, counts: first.counts });
      if (list === 'leads') expect(first.items[0]).toContain('Narmada Agro Pvt Ltd');
    }
  });

  it('shows where the partner stands in the program, from aggregates that name no other partner', async () => {
    const app = await openApp();
    await app.signIn('Sunrise Systems');
    await app.waitForRecords();
    const standing = app.section(/^Where you stand in the program/);
    await standing.getByText('program median').first().waitFor();
    const text = await standing.innerText();
    expect(text).toMatch(
      /Win rate\s+(yours .+ · program median .+ · top quarter from|not enough partners to compare)/,
    );
    for (const other of [
      'BluePeak IT',
      'Kaveri Solutions',
      'Lotus Infotech',
      'Metro Digital',
      'Northstar Tech',
    ])
      expect(text).not.toContain(other);
    await app.tab('KPIs');
    await app.page.getByRole('radio', { name: /Sunrise Systems/ }).check();
    await app
      .section(/^Where you stand in the program/)
      .getByText('program median')
      .first()
      .waitFor();
  });

  it('deletes a deal and a lead only once the person says OK, then shows the list without them', async () => {
    const app = await openApp();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    await app.logLead({ company: 'Deleted Later Traders', contact: 'Ravi Kumar', channel: 'Referral' });
    await app.convertToDeal('125000');
    const record = app.page.getByRole('link', { name: /Deleted Later Traders/ });

    await expect(app.delete('cancel')).resolves.toBe('Delete this deal? It will no longer count anywhere.');
    // Cancelled: still there after a reload, and still deletable.
    await app.page.reload();
    await app.heading('Deleted Later Traders').waitFor();
    await app.page.getByRole('button', { name: 'Delete', exact: true }).waitFor();

    await app.delete('ok');
    await app.heading('Deals').waitFor();
    await record.first().waitFor({ state: 'detached' });
    await app.page.goBack();
    await app.page.getByText('Deleted', { exact: true }).waitFor();
    expect(await app.page.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(0);

    await app.tab('Leads');
    await record.first().click();
    await app.heading('Deleted Later Traders').waitFor();
    await expect(app.delete('ok')).resolves.toBe('Delete this lead? It will no longer count anywhere.');
    await app.heading('Leads').waitFor();
    await record.first().waitFor({ state: 'detached' });
    await app.page.goBack();
    await app.page.getByText('Deleted', { exact: true }).waitFor();
    expect(await app.page.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(0);
  });

  it('shows every problem of invalid input next to its field and saves nothing', async () => {
    const app = await openApp();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    const dealsBefore = await app.dealCount();
    await app.tab('Today');
    await app.page.getByRole('link', { name: 'Log a deal' }).click();
    await app.page.getByLabel(/^Amount/).fill('-500');
    await app.page.getByLabel('Probability (%)').fill('150');
    await app.page.getByRole('button', { name: 'Save' }).click();

    await expect(app.errorFor('Title')).resolves.toMatch(/Title is required/);
    await expect(app.errorFor(/^Amount/)).resolves.toMatch(/never negative/);
    await expect(app.errorFor('Channel')).resolves.toMatch(/Channel is required/);
    await expect(app.errorFor('Probability (%)')).resolves.toMatch(/between 0 and 100/);
    await expect(app.dealCount()).resolves.toBe(dealsBefore);
    await expect(app.syncStatus.textContent()).resolves.toContain('All changes saved to server');
  });

  it('switches to Hindi: the text and the units change, the digits stay', async () => {
    const app = await openApp();
    await app.signIn('Sunrise Systems');
    await app.waitForRecords();
    await app.tab('KPIs');
    await app.page.getByLabel('Period').selectOption({ label: 'Last 12 months' });
    const englishRevenue = await app.kpi('Revenue won').textContent();
    expect(englishRevenue).toMatch(/^₹[\d.]+\u00a0(L|Cr)$/);

    await app.tab('Settings');
    await app.setLanguage('हिन्दी');
    await app.page.getByRole('navigation').getByRole('link', { name: 'KPI', exact: true }).click();
    await app.page.getByLabel('अवधि').selectOption({ label: 'पिछले 12 महीने' });
    const hindiRevenue = await app.kpi('जीता राजस्व').textContent();
    // One number format in both languages: the same Latin digits, the unit in Hindi (docs/languages.md).
    expect(hindiRevenue).toMatch(/^₹[\d.]+\u00a0(लाख|करोड़)$/);
    expect(hindiRevenue!.replace('लाख', 'L').replace('करोड़', 'Cr')).toBe(englishRevenue);
    await expect(app.page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('KPI');
    await expect(app.page.locator('html').getAttribute('lang')).resolves.toBe('hi');
    await expect(app.syncStatus.textContent()).resolves.toContain('सभी बदलाव सर्वर पर सहेजे गए');
  });

  it('exports CSV, and importing it on another device of the partner gives the same KPIs and changes nothing', async () => {
    const source = await openApp();
    await source.signIn('BluePeak IT');
    await source.waitForRecords();
    const kpisOf = async (app: RepApp) => {
      await app.tab('KPIs');
      await app.page.getByRole('radio', { name: 'BluePeak IT' }).check();
      await app.page.getByLabel('Period').selectOption({ label: 'Last 12 months' });
      return app.page.getByRole('article').allTextContents();
    };
    const before = await kpisOf(source);

    await source.tab('Settings');
    const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-export-'));
    const files = await source.exportCsv(folder);
    expect(Object.keys(files).sort()).toEqual(['deals.csv', 'leads.csv']);
    expect(readFileSync(files['leads.csv']!, 'utf8').split('\n')[0]).toBe(
      'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at,notes',
    );

    const target = await openApp();
    await target.signIn('BluePeak IT');
    await target.waitForRecords();
    await target.tab('Settings');
    await target.page.getByLabel('leads.csv').setInputFiles(files['leads.csv']!);
    await target.page.getByLabel('deals.csv').setInputFiles(files['deals.csv']!);
    await target.page.getByRole('button', { name: 'Import', exact: true }).click();
    await target.page
      .getByRole('status')
      .filter({ hasText: /^Imported/ })
      .waitFor();
    expect(await kpisOf(target)).toEqual(before);
    // The same records again: nothing new to send.
    await expect(target.syncStatus.textContent()).resolves.toContain('All changes saved to server');
  });

  it('refuses a bad CSV file whole, naming its first 20 bad lines and how many more there are', async () => {
    const app = await openApp();
    await app.signIn('Northstar Tech');
    await app.waitForRecords();
    const leadsBefore = await app.leadCount();
    await app.tab('Settings');
    const folder = mkdtempSync(join(tmpdir(), 'partner-kpi-bad-'));
    const path = join(folder, 'leads.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path,
      'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at\n' +
        'L1,p-northstar,northstar-r1,2026-01-05T10:00:00+05:30,paid,new,Acme,Asha,,,\n' +
        Array.from(
          { length: 25 },
          (_, i) => `L${i + 2},p-northstar,northstar-r1,2026-01-05T10:00:00+05:30,tv,new,Beta,Ravi,,,\n`,
        ).join(''),
    );
    await app.page.getByLabel('leads.csv').setInputFiles(path);
    await app.page.getByRole('button', { name: 'Import', exact: true }).click();
    const alert = app.page.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(/leads\.csv:3: channel/);
    await expect(alert.getByRole('listitem').count()).resolves.toBe(20);
    await expect(alert.textContent()).resolves.toMatch(/and 5 more/);
    await expect(app.leadCount()).resolves.toBe(leadsBefore);
  });

  it('has no serious accessibility problem on any screen, and a phone-sized screenshot of each', async () => {
    const app = await openApp();
    await app.signIn('Sunrise Systems');
    await app.waitForRecords();
    const screens: [string, () => Promise<void>][] = [
      ['today', () => app.tab('Today')],
      ['leads', () => app.tab('Leads')],
      [
        'lead',
        async () => {
          await app.page.getByRole('main').getByRole('listitem').first().getByRole('link').click();
          await app.page.getByRole('heading', { name: 'Edit' }).waitFor();
        },
      ],
      [
        'new-lead',
        async () => {
          await app.open('/leads/new');
          await app.heading('Log a lead').waitFor();
        },
      ],
      ['deals', () => app.tab('Deals')],
      [
        'deal',
        async () => {
          await app.page
            .getByRole('region', { name: /^Negotiation/ })
            .getByRole('link')
            .first()
            .click();
          await app.page.getByRole('heading', { name: 'Stage history' }).waitFor();
        },
      ],
      [
        'kpis',
        async () => {
          await app.tab('KPIs');
          await app.page.getByRole('heading', { name: 'Pipeline by stage' }).waitFor();
        },
      ],
      ['settings', () => app.tab('Settings')],
      [
        'signin',
        async () => {
          await app.open('/signin');
          await app.heading('Sign in').waitFor();
          await app.page.getByLabel('I am').waitFor();
        },
      ],
    ];
    const problems: Record<string, string[]> = {};
    for (const [name, show] of screens) {
      await show();
      await app.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
      const violations = await app.accessibilityViolations();
      if (violations.length)
        problems[name] = violations.map(
          (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
        );
    }
    expect(problems).toEqual({});
  });
});
