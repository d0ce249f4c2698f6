/**
 * The records of the program bench, written straight into a server's storage: 1,000 partners of
 * 4,000 leads and 2,000 deals each, generated as windows of a large seeded demo program, each window
 * given to many partners. The server's folds of every partner (the room of days, the vendor's
 * rollups) are computed here as the server would write them; the first partner's records are
 * stored for real, so that its edits are folded by the server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { openSqliteStorage } from '../../server/storage/sqlite-storage';
import { generateDemoProgram } from '../../src/lib/demo/generate';
import type { Deal, Lead, Partner, Rep } from '../../src/lib/domain';
import { buildRollup, seriesKey, type Rollup } from '../../src/lib/kpi';
import { createRecords, openPartnerDoc } from '../../src/lib/sync/partner-doc';
import {
  copyProgramSettings,
  initProgram,
  openProgramDoc,
  projectFigures,
  writeRollup,
} from '../../src/lib/sync/program-doc';
import { partnerRoom, programRoom, rollupDaysRoom, rollupsRoom } from '../../src/lib/sync/rooms';

export const PROGRAM = 'scale';

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

export const partnerIdOf = (i: number) => `p-${String(i + 1).padStart(4, '0')}`;

export interface Generated {
  dataDir: string;
  vendorDocsBytes: number;
  programBytes: number;
  rollupsBytes: number;
  daysBytes: number;
  writeMs: number;
  deals: Deal[];
}

/** Writes the program into a new data folder; the sizes of what was written. */
export async function generate(
  partnerCount: number,
  leadCount: number,
  dealCount: number,
): Promise<Generated> {
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
