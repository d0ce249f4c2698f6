/**
 * Partners of one program are competitors: nothing of one partner may reach another's device
 * (server/auth/acl.ts, sync SPEC P7). Over the real server with the demo program seeded, every
 * partner's manager, and reps of two partners, open every room of the program, take whatever the server gives them,
 * and no byte of it names another partner: its id or name, its people, its records' ids, companies,
 * contacts or titles. Vendor staff, for contrast, do receive every partner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import { openPartnerDoc, readAll } from '../../src/lib/sync/partner-doc';
import { openProgramDoc, readBenchmark, readPartners, readReps } from '../../src/lib/sync/program-doc';
import { formatDay, PERIOD_PRESETS, presetRange } from '../../src/lib/kpi/calendar';
import { channelRoom, partnerRoom, programRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { TokenClaims } from '../../server/auth/claims';
import { createHarness, rawSocket, syncMessage, type Harness } from './sync-harness';

const PROGRAM = 'demo';
let harness: Harness;
/** What names each partner, by partner id. */
const namesOf = new Map<string, Set<string>>();
let partnerIds: string[] = [];
let everyRoom: string[] = [];

async function docOf(room: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  for (const update of (await harness.server.storage.load(room)).updates) Y.applyUpdate(doc, update);
  return doc;
}

beforeAll(async () => {
  harness = await createHarness({ demo: true });
  // The benchmark is published on start: wait for it, so that what is checked is what partners get.
  await harness.server.settled();
  const program = openProgramDoc(await docOf(programRoom(PROGRAM)));
  const partners = readPartners(program);
  partnerIds = partners.map((partner) => partner.id);
  for (const partner of partners) {
    const names = new Set<string>([partner.id, partner.name]);
    for (const rep of readReps(program).filter((one) => one.partnerId === partner.id))
      names.add(rep.id).add(rep.name);
    const { leads, deals } = readAll(openPartnerDoc(await docOf(partnerRoom(PROGRAM, partner.id))));
    for (const lead of leads) names.add(lead.id).add(lead.company).add(lead.contactName);
    for (const deal of deals) names.add(deal.id).add(deal.title);
    namesOf.set(partner.id, names);
  }
  everyRoom = [
    programRoom(PROGRAM),
    rollupsRoom(PROGRAM),
    ...partnerIds.flatMap((id) => [partnerRoom(PROGRAM, id), channelRoom(PROGRAM, id)]),
  ];
}, 60_000);

afterAll(() => harness.cleanup());

/** Everything the server sends a socket of `claims` in `room`: its whole state where it may read, nothing where it may not. */
async function received(
  claims: TokenClaims,
  room: string,
): Promise<{ bytes: Buffer; refused: number | undefined }> {
  const socket = await rawSocket(harness, room, await harness.token(claims));
  socket.send(syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, new Y.Doc())));
  const outcome = await Promise.race([
    socket.closed,
    socket.reply(syncProtocol.messageYjsSyncStep2).then(() => undefined),
  ]);
  socket.ws.close();
  return { bytes: Buffer.concat(socket.messages), refused: outcome };
}

/**
 * The names of other partners than `own` that occur in `bytes`: an id as a whole token, a name,
 * company or title as a whole JSON string (records are JSON text in the documents). A name that its
 * own data also uses is not another's: the demo draws companies and people from one word list.
 */
function othersNamed(bytes: Buffer, own: string): string[] {
  const ownNames = namesOf.get(own)!;
  const text = bytes.toString('utf8');
  const tokens = new Set(text.split(/[^A-Za-z0-9_.:-]+/));
  const strings = new Set([...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!));
  const found: string[] = [];
  for (const [partnerId, names] of namesOf) {
    if (partnerId === own) continue;
    for (const name of names) {
      if (!ownNames.has(name) && (tokens.has(name) || strings.has(name))) found.push(`${partnerId}: ${name}`);
    }
  }
  return found;
}

describe('P7 — no partner learns anything of another from the server', () => {
  it(
    'holds for every partner’s manager and for reps, in every room of the program',
    { timeout: 120_000 },
    async () => {
      let opened = 0;
      let people = 0;
      for (const [index, partnerId] of partnerIds.entries()) {
        const staff = harness.server.demoUsers.filter((user) => user.partnerId === partnerId);
        // Every partner's manager; a rep (the same grants, another role) of the first two partners.
        const chosen = [
          staff.find((user) => user.role === 'partner_manager')!,
          ...(index < 2 ? [staff.find((user) => user.role === 'rep')!] : []),
        ];
        people += chosen.length;
        for (const person of chosen) {
          const claims: TokenClaims = {
            userId: person.userId,
            role: person.role,
            programId: PROGRAM,
            partnerId,
          };
          for (const room of everyRoom) {
            const { bytes, refused } = await received(claims, room);
            const readable =
              room === partnerRoom(PROGRAM, partnerId) || room === channelRoom(PROGRAM, partnerId);
            expect(refused, `${person.userId} in ${room}`).toBe(readable ? undefined : 4403);
            expect(othersNamed(bytes, partnerId), `${person.userId} in ${room}`).toEqual([]);
            if (readable) opened++;
          }
        }
      }
      // The guard: each person read its own two rooms, and the check had names to look for.
      expect(opened).toBe(people * 2);
      expect(partnerIds.length).toBeGreaterThanOrEqual(5);
      expect([...namesOf.values()].every((names) => names.size > 50)).toBe(true);
    },
  );

  it('gives vendor staff every partner, for contrast: the check finds names where they are', async () => {
    const staff = harness.server.demoUsers.find((user) => user.role === 'vendor_manager')!;
    const { bytes } = await received(
      { userId: staff.userId, role: 'vendor_manager', programId: PROGRAM },
      programRoom(PROGRAM),
    );
    expect(othersNamed(bytes, partnerIds[0]!).length).toBeGreaterThan(0);
  });

  it('publishes to each partner, in its channel, the benchmark of the app’s periods over the other partners', async () => {
    const rep = harness.server.demoUsers.find((user) => user.role === 'rep')!;
    const client = harness.connect(
      channelRoom(PROGRAM, rep.partnerId!),
      await harness.token({
        userId: rep.userId,
        role: rep.role,
        programId: PROGRAM,
        partnerId: rep.partnerId!,
      }),
    );
    await client.synced;
    const pd = openProgramDoc(client.doc);
    const tz = 'Asia/Kolkata'; // the demo program's zone
    for (const preset of PERIOD_PRESETS) {
      const range = presetRange(preset, Date.now(), tz);
      const published = readBenchmark(pd, { from: formatDay(range.fromDay), to: formatDay(range.toDay), tz });
      expect(published, preset).toBeDefined();
    }
    const lastYear = presetRange('last12Months', Date.now(), tz);
    const figure = readBenchmark(pd, {
      from: formatDay(lastYear.fromDay),
      to: formatDay(lastYear.toDay),
      tz,
    })!.metrics.winRate;
    // Its own figure left out: the other five partners.
    expect(figure).toMatchObject({ partners: partnerIds.length - 1 });
  });
});
