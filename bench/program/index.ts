/**
 * A program of many large partners, in `npm run bench`: 1,000 partners of 4,000 leads and 2,000
 * deals each (generated: windows of a large seeded demo program, each given to many partners). It
 * prints
 * - the size of the vendor's documents (the program document and the rollups room, as stored)
 *   and of the server's room of days, which no device downloads;
 * - how long the server takes to fold one partner's single edit and publish it: from a rep's
 *   edit sent to the update reaching a vendor's socket on the rollups room, through the real
 *   server (tokens, SQLite, the rollup worker with no delay), p50 and p95 over many edits;
 * - the vendor console in headless Chromium (production build): from opening the sign-in link to
 *   the program's KPIs on screen (everything downloaded), then on reload (from the device).
 * Medians of several runs; a budget is met when the median meets it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { signToken } from '../../server/auth/tokens';
import { readConfig } from '../../server/config';
import { startServer } from '../../server/main';
import { openSqliteStorage } from '../../server/storage/sqlite-storage';
import { PROGRAM_KPIS_ON_SCREEN } from '../../src/lib/app/marks';
import { generateDemoProgram } from '../../src/lib/demo/generate';
import type { Deal, Lead, Partner, Rep } from '../../src/lib/domain';
import { buildRollup, seriesKey, type Rollup } from '../../src/lib/kpi';
import { createRecords, openPartnerDoc, readDeal, updateDeal } from '../../src/lib/sync/partner-doc';
import {
  copyProgramSettings,
  initProgram,
  openProgramDoc,
  projectFigures,
  writeRollup,
} from '../../src/lib/sync/program-doc';
import { partnerRoom, programRoom, rollupDaysRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import { buildDir, ensureBuilt, launchBrowser } from '../../test/support/browser-harness';

export const PROGRAM_TARGETS = { consoleMs: 1500, vendorDocsMb: 10, foldP95Ms: 50 };
const PROGRAM = 'scale';
const SECRET = 'a-bench-secret-of-at-least-thirty-two-bytes';
const EDITS = 60;
const WARM_UP_EDITS = 5;
const RELOADS = 5;

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const verdict = (value: number, target: number) => (value <= target ? 'met' : 'MISSED');

interface Base {
  leads: Lead[];
  deals: Deal[];
  rollup: Rollup;
}

/** Windows of `leadCount` leads (and up to `dealCount` of their deals) of a 24-month demo program. */
function baseRecords(leadCount: number, dealCount: number): Base[] {
  const demo = generateDemoProgram({ seed: 7, leadsPerRepMonth: 60, months: 24 });
  const bases: Base[] = [];
  for (let from = 0; from + leadCount <= demo.leads.length; from += leadCount) {
    const leads = demo.leads.slice(from, from + leadCount);
    const kept = new Set(leads.map((lead) => lead.id));
    const deals = demo.deals
      .filter((deal) => deal.leadId !== undefined && kept.has(deal.leadId))
      .slice(0, dealCount);
    bases.push({ leads, deals, rollup: buildRollup(demo.program.timeZone, leads, deals) });
  }
  return bases;
}

/** The same buckets, counted for another partner. */
function relabelled(rollup: Rollup, partnerId: string): Rollup {
  return {
    tz: rollup.tz,
    series: new Map(
      [...rollup.series.values()].map((series) => [
        seriesKey(partnerId, series.repId, series.channel),
        { ...series, partnerId, index: undefined },
      ]),
    ),
  };
}

const partnerIdOf = (i: number) => `p-${String(i + 1).padStart(4, '0')}`;

interface Generated {
  dataDir: string;
  vendorDocsBytes: number;
  programBytes: number;
  rollupsBytes: number;
  daysBytes: number;
  writeMs: number;
  deals: Deal[];
}

async function generate(partnerCount: number, leadCount: number, dealCount: number): Promise<Generated> {
  const bases = baseRecords(leadCount, dealCount);
  const demo = generateDemoProgram({ seed: 1 });
  const program = { ...demo.program, id: PROGRAM, name: 'A program of many partners' };
  const partners: Partner[] = Array.from({ length: partnerCount }, (_, i) => ({
    id: partnerIdOf(i),
    programId: PROGRAM,
    name: `Partner ${i + 1}`,
    createdAt: demo.now,
  }));
  const reps: Rep[] = partners.flatMap((partner) =>
    Array.from(
      { length: 5 },
      (_, r) =>
        ({
          id: `${partner.id}-r${r}`,
          partnerId: partner.id,
          name: `Rep ${r + 1} of ${partner.name}`,
          role: r === 0 ? 'partner_manager' : 'rep',
          createdAt: demo.now,
        }) satisfies Rep,
    ),
  );
  const programDoc = openProgramDoc();
  initProgram(programDoc, {
    program,
    partners,
    reps,
    staff: [{ id: 'v-1', name: 'Vendor manager', role: 'vendor_manager' }],
  });
  const days = openProgramDoc();
  const figures = openProgramDoc();
  copyProgramSettings(programDoc, days);
  const started = performance.now();
  partners.forEach((partner, i) =>
    writeRollup(days, partner.id, {
      lastSyncAt: demo.now - i * 60_000,
      rollup: relabelled(bases[i % bases.length]!.rollup, partner.id),
    }),
  );
  const writeMs = performance.now() - started;
  copyProgramSettings(programDoc, figures);
  projectFigures(days, figures);

  // The first partner's records, for real: its edits are folded by the server.
  const base = bases[0]!;
  const owned = <T extends { partnerId: string; repId: string }>(record: T): T => ({
    ...record,
    partnerId: partners[0]!.id,
    repId: `${partners[0]!.id}-r1`,
  });
  const partnerDoc = openPartnerDoc();
  const deals = base.deals.map(owned);
  createRecords(partnerDoc, { leads: base.leads.map(owned), deals }, `${partners[0]!.id}-r0`);

  const dataDir = mkdtempSync(join(tmpdir(), 'partner-kpi-program-'));
  const storage = openSqliteStorage(join(dataDir, 'partner-kpi.sqlite'));
  const updates = {
    program: Y.encodeStateAsUpdate(programDoc.doc),
    rollups: Y.encodeStateAsUpdate(figures.doc),
    days: Y.encodeStateAsUpdate(days.doc),
  };
  await storage.append(programRoom(PROGRAM), updates.program);
  await storage.append(rollupsRoom(PROGRAM), updates.rollups);
  await storage.append(rollupDaysRoom(PROGRAM), updates.days);
  const room = partnerRoom(PROGRAM, partners[0]!.id);
  await storage.markFolded(room, await storage.append(room, Y.encodeStateAsUpdate(partnerDoc.doc)));
  await storage.close();
  return {
    dataDir,
    vendorDocsBytes: updates.program.length + updates.rollups.length,
    programBytes: updates.program.length,
    rollupsBytes: updates.rollups.length,
    daysBytes: updates.days.length,
    writeMs,
    deals,
  };
}

function connect(
  origin: string,
  room: string,
  token: string,
): { doc: Y.Doc; provider: WebsocketProvider; synced: Promise<void> } {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${origin.replace('http', 'ws')}/sync`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
  });
  const synced = new Promise<void>((resolve) =>
    provider.on('sync', (isSynced: boolean) => isSynced && resolve()),
  );
  return { doc, provider, synced };
}

/** From a rep's edit sent to the rollups room's update reaching a vendor's socket, edit after edit. */
async function foldLatencies(origin: string, secret: Uint8Array, deals: Deal[]): Promise<number[]> {
  const partnerId = partnerIdOf(0);
  const repToken = await signToken(
    { userId: `${partnerId}-r1`, role: 'rep', programId: PROGRAM, partnerId },
    secret,
    { ttl: '1h' },
  );
  const vendorToken = await signToken({ userId: 'v-1', role: 'vendor_manager', programId: PROGRAM }, secret, {
    ttl: '1h',
  });
  const rep = connect(origin, partnerRoom(PROGRAM, partnerId), repToken);
  const vendor = connect(origin, rollupsRoom(PROGRAM), vendorToken);
  try {
    await Promise.all([rep.synced, vendor.synced]);
    const pd = openPartnerDoc(rep.doc);
    const open = deals.filter((deal) => deal.closedAt === undefined && deal.deletedAt === undefined);
    const latencies: number[] = [];
    for (let i = 0; i < WARM_UP_EDITS + EDITS; i++) {
      const deal = readDeal(pd, open[i % open.length]!.id)!;
      const published = new Promise<number>((resolve) => {
        const seen = (_update: Uint8Array, origin: unknown) => {
          if (origin !== vendor.provider) return;
          vendor.doc.off('update', seen);
          resolve(performance.now());
        };
        vendor.doc.on('update', seen);
      });
      const sent = performance.now();
      updateDeal(pd, deal.id, { amount: deal.amount + 100, updatedAt: Date.now() }, `${partnerId}-r1`);
      const at = await published;
      if (i >= WARM_UP_EDITS) latencies.push(at - sent);
    }
    return latencies;
  } finally {
    // The documents too: each keeps its awareness's timer running until it is destroyed.
    for (const client of [rep, vendor]) {
      client.provider.destroy();
      client.doc.destroy();
    }
  }
}

/** The console opened by signing in from a link (all downloaded), then reloaded (from the device). */
async function consoleOpens(
  origin: string,
  secret: Uint8Array,
): Promise<{ firstMs: number; reloadMs: number[]; storedBytes: number }> {
  ensureBuilt();
  const token = await signToken({ userId: 'v-1', role: 'vendor_manager', programId: PROGRAM }, secret, {
    ttl: '1h',
  });
  const browser = await launchBrowser({ width: 390, height: 844 });
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const onScreen = () =>
      page
        .waitForFunction((name) => performance.getEntriesByName(name)[0]?.startTime, PROGRAM_KPIS_ON_SCREEN, {
          timeout: 120_000,
        })
        .then((handle) => handle.jsonValue() as Promise<number>);
    await page.goto(`${origin}/signin#token=${token}`);
    // A vendor manager's link asks which partner's records to open first: the first one.
    const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
    await page
      .getByRole('combobox', { name: 'Partner to open' })
      .locator('option')
      .first()
      .waitFor({ state: 'attached' });
    const clickedAt = await page.evaluate(() => performance.now());
    await signIn.click();
    const firstMs = (await onScreen()) - clickedAt;
    const reloadMs: number[] = [];
    for (let run = 0; run < RELOADS; run++) {
      await page.reload();
      reloadMs.push(await onScreen());
    }
    const storedBytes = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    return { firstMs, reloadMs, storedBytes };
  } finally {
    await browser.close();
  }
}

/** Prints the figures; false when something could not be measured. */
export async function benchProgram({
  partners = 1000,
  leads = 4000,
  deals = 2000,
  browser = true,
} = {}): Promise<boolean> {
  console.log(
    `\nA program of ${partners.toLocaleString('en')} partners × ${leads.toLocaleString('en')} leads and ${deals.toLocaleString('en')} deals each`,
  );
  let generated: Generated | undefined;
  try {
    generated = await generate(partners, leads, deals);
    console.log(
      `  server folds written in ${(generated.writeMs / partners).toFixed(1)} ms a partner (${(generated.writeMs / 1000).toFixed(1)} s for all)`,
    );
    console.log(
      `  vendor's documents: ${mb(generated.vendorDocsBytes)} MB (program ${mb(generated.programBytes)}, rollups ${mb(generated.rollupsBytes)}; budget ${PROGRAM_TARGETS.vendorDocsMb} MB: ${verdict(generated.vendorDocsBytes / 1e6, PROGRAM_TARGETS.vendorDocsMb)}); the server's room of days ${mb(generated.daysBytes)} MB`,
    );
    const staticDir = browser ? buildDir : mkdtempSync(join(tmpdir(), 'partner-kpi-program-static-'));
    if (!browser) writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>bench</title>');
    const server = await startServer({
      config: {
        ...readConfig({ DATA_DIR: generated.dataDir, PORT: '0', HOST: '127.0.0.1', DEMO: 'off' }),
        tokenSecret: SECRET,
      },
      staticDir,
      // Folds at once (the latency is the fold's, not a debounce's); the benchmark as in production.
      rollupDelayMs: 0,
      benchmarkIntervalMs: 5 * 60_000,
      log: () => {},
    });
    try {
      // What a start does first (every channel written, the benchmark published) is done.
      const settling = performance.now();
      await server.settled();
      console.log(
        `  server start-up work (channels, benchmark of ${partners.toLocaleString('en')} partners) done in ${((performance.now() - settling) / 1000).toFixed(1)} s`,
      );
      const secret = new TextEncoder().encode(SECRET);
      const latencies = await foldLatencies(server.origin, secret, generated.deals);
      const p95 = percentile(latencies, 95);
      console.log(
        `  one edit folded and published (rep's edit → vendor's socket, ${latencies.length} edits): p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (budget p95 ${PROGRAM_TARGETS.foldP95Ms} ms: ${verdict(p95, PROGRAM_TARGETS.foldP95Ms)})`,
      );
      if (browser) {
        const opens = await consoleOpens(server.origin.replace('localhost', '127.0.0.1'), secret);
        const reload = percentile(opens.reloadMs, 50);
        console.log(
          `  vendor console, "Sign in" → program KPIs on screen (everything downloaded): ${opens.firstMs.toFixed(0)} ms`,
        );
        console.log(
          `  vendor console, reload → program KPIs on screen: median ${reload.toFixed(0)} ms of ${opens.reloadMs.length} (${Math.min(...opens.reloadMs).toFixed(0)}–${Math.max(...opens.reloadMs).toFixed(0)}; budget ${PROGRAM_TARGETS.consoleMs} ms: ${verdict(reload, PROGRAM_TARGETS.consoleMs)})`,
        );
        console.log(
          `  the vendor's device stores ${mb(opens.storedBytes)} MB (navigator.storage.estimate; with the first partner's records, opened read-only)`,
        );
      }
    } finally {
      await server.close();
      if (!browser) rmSync(staticDir, { recursive: true, force: true });
    }
    return true;
  } catch (error) {
    console.log(`  not measured: ${(error as Error).stack ?? (error as Error).message}`);
    return false;
  } finally {
    if (generated) rmSync(generated.dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 1000);
  process.exitCode = (await benchProgram({
    partners: count,
    browser: !process.argv.includes('--skip-browser'),
  }))
    ? 0
    : 1;
}
