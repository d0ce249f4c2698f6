/**
 * The demo program on the server: on first start (no rooms stored at all), the program document
 * and one document per partner are built from the same generated demo the app shows, and their
 * updates appended to the rooms. A stored document is never recreated (SPEC S6, P3): returning
 * devices would duplicate its content.
 */
import * as Y from 'yjs';
import type { Deal, Lead, Partner, Rep, StaffMember } from '../src/lib/domain/schema';
import { generateDemoProgram, type DemoProgram } from '../src/lib/demo/generate';
import { demoEndAt, DEMO_PROGRAM_ID, DEMO_SEED } from '../src/lib/demo/demo-program';
import { addMonths, DAY_MS, localDayOf, monthStart, startOfLocalDay } from '../src/lib/kpi/calendar';
import { createRecords, openPartnerDoc } from '../src/lib/sync/partner-doc';
import {
  copyProgramSettings,
  initProgram,
  openProgramDoc,
  projectFigures,
  projectPartnerView,
  readPartners,
  readReps,
  readStaff,
  setTarget,
  type ProgramDoc,
} from '../src/lib/sync/program-doc';
import { foldPartner, writePartnerRollup } from './rollup/fold';
import {
  channelRoom,
  parseRoom,
  partnerRoom,
  programRoom,
  rollupDaysRoom,
  rollupsRoom,
} from '../src/lib/sync/rooms';
import type { FoldStore, RoomStorage } from './storage/storage';
import type { SyncServer } from './sync/sync-server';

/** The vendor's staff of the demo program. */
export const DEMO_STAFF: readonly StaffMember[] = [
  { id: 'v-anita', name: 'Anita Rao', role: 'vendor_manager' },
  { id: 'v-rahul', name: 'Rahul Mehta', role: 'vendor_manager' },
];

/** Partners that get a target for the current quarter: a few, so the screens also show one without. */
const TARGETED_PARTNERS = 4;
/** Targets ask for a little more than the partner won in the previous quarter. */
const TARGET_GROWTH = 1.15;
/** Revenue targets are round: whole thousands of major units (paise → ₹1,000). */
const TARGET_ROUNDING = 100_000;

import type { DemoUser } from '../src/lib/sync/protocol';
export type { DemoUser };

export interface DemoDocsOptions {
  /**
   * The instant the demo is made at: the history runs up to that instant, as in the app
   * (demo.service.ts). Without it, the generator's fixed end (DEMO_END).
   */
  now?: number;
  seed?: number;
  /** Overrides the end date derived from `now`. */
  end?: string;
  /** Scales the program (tests make it smaller, the bench larger). */
  leadsPerRepMonth?: number;
}

export interface DemoProgramDocs {
  programId: string;
  /** The vendor's program document (room `program/<id>`). */
  programUpdate: Uint8Array;
  /** The vendor's figures: the program's buckets by day, every partner's by month (room `program/<id>/rollups`). */
  rollupsUpdate: Uint8Array;
  /** The partners' buckets by day, the server's alone (`program/<p>/rollups/days`). */
  rollupDaysUpdate: Uint8Array;
  partnerUpdates: Map<string, Uint8Array>;
  /** What each partner may read of the program (room `program/<id>/partner/<partner>/channel`). */
  channelUpdates: Map<string, Uint8Array>;
  users: DemoUser[];
}

function demoOf(options: DemoDocsOptions): DemoProgram {
  // The same options as the app's demo (loadDemo): its seed, stage logs, and the history of today up
  // to `now` (nothing later today has happened yet).
  const end = options.end ?? (options.now === undefined ? undefined : demoEndAt(options.now));
  const demo = generateDemoProgram({
    seed: options.seed ?? DEMO_SEED,
    stageLog: true,
    ...(end === undefined ? {} : { end }),
    ...(options.now === undefined || options.end !== undefined ? {} : { now: options.now }),
    ...(options.leadsPerRepMonth === undefined ? {} : { leadsPerRepMonth: options.leadsPerRepMonth }),
  });
  return demo;
}

/** `YYYY-Qn` of a day number, and the day its quarter starts. */
function quarterOf(day: number): { quarter: string; fromDay: number } {
  const month = monthStart(day);
  const date = new Date(month * DAY_MS);
  const monthOfYear = date.getUTCMonth();
  return {
    quarter: `${date.getUTCFullYear()}-Q${Math.floor(monthOfYear / 3) + 1}`,
    fromDay: addMonths(month, -(monthOfYear % 3)),
  };
}

/** Targets for the quarter holding the demo's last day, from each partner's previous quarter. */
function demoTargets(pd: ProgramDoc, demo: DemoProgram): void {
  const tz = demo.program.timeZone;
  const dayOf = localDayOf(tz);
  const { quarter, fromDay } = quarterOf(dayOf(demo.now - 1));
  const previousFrom = addMonths(fromDay, -3);
  const setAt = Math.min(startOfLocalDay(fromDay, tz) + 10 * 3_600_000, demo.now - 1);
  for (const partner of demo.partners.slice(0, TARGETED_PARTNERS)) {
    let revenue = 0;
    let won = 0;
    for (const deal of demo.deals) {
      if (deal.partnerId !== partner.id || deal.stage !== 'won' || deal.closedAt === undefined) continue;
      const day = dayOf(deal.closedAt);
      if (day < previousFrom || day >= fromDay) continue;
      revenue += deal.amount;
      won++;
    }
    setTarget(pd, partner.id, quarter, {
      revenue: Math.max(1, Math.round((revenue * TARGET_GROWTH) / TARGET_ROUNDING)) * TARGET_ROUNDING,
      deals: Math.max(1, Math.ceil(won * TARGET_GROWTH)),
      setAt,
      setBy: DEMO_STAFF[0]!.id,
    });
  }
}

/** Who can sign in to a program: its staff, then each partner's people (manager first), not deleted ones. */
export function programUsers(pd: ProgramDoc, programId: string): DemoUser[] {
  const partners = new Map<string, Partner>(
    readPartners(pd)
      .filter((partner) => partner.deletedAt === undefined)
      .map((partner) => [partner.id, partner]),
  );
  const users: DemoUser[] = readStaff(pd)
    .filter((member) => member.deletedAt === undefined)
    .map((member) => ({ userId: member.id, name: member.name, role: member.role, programId }));
  const rank = (rep: Rep) => (rep.role === 'partner_manager' ? 0 : 1);
  const reps = readReps(pd)
    .filter((rep) => rep.deletedAt === undefined && partners.has(rep.partnerId))
    .sort((a, b) =>
      a.partnerId !== b.partnerId
        ? a.partnerId < b.partnerId
          ? -1
          : 1
        : rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  for (const rep of reps)
    users.push({
      userId: rep.id,
      name: rep.name,
      role: rep.role,
      programId,
      partnerId: rep.partnerId,
      partnerName: partners.get(rep.partnerId)!.name,
    });
  return users;
}

/**
 * The demo program as documents: the program document (program, partners, reps, the two vendor
 * staff, targets for the current quarter, and every partner's rollup folded with lastSyncAt = the
 * seeding instant, `options.now`, or else the demo's `now`) and one partner document per partner holding its leads and deals. Pure apart from
 * the Yjs client ids: the same options give the same records.
 */
export function demoProgramDocs(options: DemoDocsOptions = {}): DemoProgramDocs {
  const demo = demoOf(options);
  const programId = demo.program.id;
  const tz = demo.program.timeZone;
  const programDoc = openProgramDoc();
  initProgram(programDoc, {
    program: demo.program,
    partners: demo.partners,
    reps: demo.reps,
    staff: DEMO_STAFF,
  });
  demoTargets(programDoc, demo);
  const rollupsDoc = openProgramDoc();
  const daysDoc = openProgramDoc();
  copyProgramSettings(programDoc, rollupsDoc);
  copyProgramSettings(programDoc, daysDoc);

  const leadsOf = new Map<string, Lead[]>(demo.partners.map((partner) => [partner.id, []]));
  const dealsOf = new Map<string, Deal[]>(demo.partners.map((partner) => [partner.id, []]));
  for (const lead of demo.leads) leadsOf.get(lead.partnerId)?.push(lead);
  for (const deal of demo.deals) dealsOf.get(deal.partnerId)?.push(deal);

  // The demo's history runs to the end of today; the figures were synced when it was seeded, not
  // then (a lastSyncAt in the future would read "just now" for hours).
  const syncedAt = options.now ?? demo.now;
  const partnerUpdates = new Map<string, Uint8Array>();
  for (const partner of demo.partners) {
    const partnerDoc = openPartnerDoc();
    // Deals carry their stage logs, so `by` is only a fallback; the partner's manager made them.
    const manager =
      demo.reps.find((rep) => rep.partnerId === partner.id && rep.role === 'partner_manager') ??
      demo.reps.find((rep) => rep.partnerId === partner.id);
    createRecords(
      partnerDoc,
      { leads: leadsOf.get(partner.id)!, deals: dealsOf.get(partner.id)! },
      manager?.id ?? partner.id,
    );
    writePartnerRollup(daysDoc, partner.id, foldPartner(partnerDoc.doc, tz, partner.id), syncedAt);
    partnerUpdates.set(partner.id, Y.encodeStateAsUpdate(partnerDoc.doc));
    partnerDoc.close();
  }
  const channelUpdates = new Map<string, Uint8Array>();
  for (const partner of demo.partners) {
    const channel = openProgramDoc();
    projectPartnerView(programDoc, channel, partner.id);
    channelUpdates.set(partner.id, Y.encodeStateAsUpdate(channel.doc));
    channel.close();
  }
  const users = programUsers(programDoc, programId);
  const programUpdate = Y.encodeStateAsUpdate(programDoc.doc);
  projectFigures(daysDoc, rollupsDoc);
  const rollupsUpdate = Y.encodeStateAsUpdate(rollupsDoc.doc);
  const rollupDaysUpdate = Y.encodeStateAsUpdate(daysDoc.doc);
  programDoc.close();
  rollupsDoc.close();
  daysDoc.close();
  return { programId, programUpdate, rollupsUpdate, rollupDaysUpdate, partnerUpdates, channelUpdates, users };
}

/**
 * Seeds the demo program when the storage holds no room at all (the server's first start), and
 * returns its users; otherwise does nothing and returns undefined — a stored document is never
 * recreated, and a server whose rooms were all compacted away still has rooms. The program room is
 * written first, so an interrupted seed leaves the directory. `now` defaults to the clock: this
 * runs once, at start-up.
 */
export async function seedIfEmpty(
  storage: RoomStorage & FoldStore,
  options: DemoDocsOptions = {},
): Promise<DemoUser[] | undefined> {
  if ((await storage.rooms()).length > 0) return undefined;
  const docs = demoProgramDocs({ ...options, now: options.now ?? Date.now() });
  await storage.append(programRoom(docs.programId), docs.programUpdate);
  await storage.append(rollupDaysRoom(docs.programId), docs.rollupDaysUpdate);
  await storage.append(rollupsRoom(docs.programId), docs.rollupsUpdate);
  for (const [partnerId, update] of docs.partnerUpdates) {
    const room = partnerRoom(docs.programId, partnerId);
    // The rollups room above already holds this room's rollup.
    await storage.markFolded(room, await storage.append(room, update));
    await storage.append(channelRoom(docs.programId, partnerId), docs.channelUpdates.get(partnerId)!);
  }
  return docs.users;
}

/** The demo program's users as its stored program document lists them (every start, seeded or not). */
export async function demoUsersOf(sync: SyncServer, programId = DEMO_PROGRAM_ID): Promise<DemoUser[]> {
  const name = parseRoom(programRoom(programId));
  if (!name) throw new Error(`${programId} is not a program id`);
  const room = sync.room(name);
  const release = room.hold();
  try {
    await room.loaded;
    const pd = openProgramDoc(room.doc);
    try {
      return programUsers(pd, programId);
    } finally {
      pd.close();
    }
  } finally {
    release();
    sync.unloadIfIdle(room);
  }
}
