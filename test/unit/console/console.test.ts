/**
 * The vendor console's state (src/lib/console/console.svelte.ts) over a real session: the program's
 * figures, ranking and attention come from the rollups room (targets from the program document),
 * and follow a rollup the server writes while the console is open. Fake socket and server,
 * fake-indexeddb.
 */
import 'fake-indexeddb/auto';
import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Session, type SignInRecord } from '../../../src/lib/app/session';
import type { ProgramDirectory } from '../../../src/lib/domain/schema';
import { claimsOf } from '../../../src/lib/app/sign-in';
import { DEFAULT_STAGE_PROBABILITY } from '../../../src/lib/domain';
import { buildRollup, parseDay } from '../../../src/lib/kpi';
import { packRollup } from '../../../src/lib/kpi/packed';
import {
  copyProgramSettings,
  initProgram,
  openProgramDoc,
  setTarget,
  writeRollup,
} from '../../../src/lib/sync/program-doc';
import { VendorConsole } from '../../../src/lib/console/console.svelte';
import { deal } from '../../factories/records';
import { FakeNetwork, FakeSyncServer } from '../../factories/fake-sync-socket';
import { sessionsForTests } from '../../factories/sessions';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const DAY = 86_400_000;
const program = {
  id: 'demo',
  name: 'Acme',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
const directory: ProgramDirectory = {
  program,
  partners: [
    { id: 'p1', programId: 'demo', name: 'Sunrise Systems', createdAt: 0 },
    { id: 'p2', programId: 'demo', name: 'BluePeak IT', createdAt: 0 },
  ],
  reps: [],
};

const won = (partnerId: string, amount: number, daysAgo: number) =>
  deal({
    partnerId,
    repId: `${partnerId}-r1`,
    stage: 'won',
    amount,
    createdAt: NOW - (daysAgo + 20) * DAY,
    closedAt: NOW - daysAgo * DAY,
  });

const sessions = sessionsForTests('vendor-console');

async function vendorSession(net: FakeNetwork, now: () => number = () => NOW): Promise<Session> {
  const session = sessions.session({ WebSocket: net.WebSocket, now });
  const jwt = new UnsecuredJWT({ programId: 'demo', role: 'vendor_manager' })
    .setSubject('v-anita')
    .setExpirationTime(Math.floor((NOW + DAY) / 1000))
    .encode();
  const record: SignInRecord = { token: jwt, claims: claimsOf(jwt)!, partnerId: 'p1' };
  await session.signInWith(record, directory);
  return session;
}

/** The program room and the rollups room, as the server has them, and the session's sockets to each. */
function servers(net: FakeNetwork) {
  const program = new FakeSyncServer();
  const rollups = new FakeSyncServer({ readOnly: true });
  const programDoc = openProgramDoc(program.doc);
  initProgram(programDoc, { program: directory.program, partners: directory.partners, reps: [], staff: [] });
  copyProgramSettings(programDoc, openProgramDoc(rollups.doc));
  return {
    program,
    rollups,
    programSocket: net.sockets.find((socket) => socket.url.endsWith('/program/demo'))!,
    rollupsSocket: net.sockets.find((socket) => socket.url.endsWith('/program/demo/rollups'))!,
  };
}

describe('the vendor console', () => {
  it('ranks the partners and says who needs attention, from the program document', async () => {
    const net = new FakeNetwork();
    const session = await vendorSession(net);
    const room = servers(net);
    writeRollup(openProgramDoc(room.rollups.doc), 'p1', {
      lastSyncAt: NOW - 3_600_000,
      series: packRollup(buildRollup(program.timeZone, [], [won('p1', 900_00, 2), won('p1', 100_00, 3)])),
    });
    setTarget(openProgramDoc(room.program.doc), 'p1', '2026-Q4', {
      revenue: 5_000_00,
      deals: 5,
      setAt: NOW,
      setBy: 'v-anita',
    });
    room.program.handshake(room.programSocket);
    room.rollups.handshake(room.rollupsSocket);
    await session.programDocs.store!.settled();
    await session.programDocs.figures!.settled();

    const vendor = new VendorConsole(session);
    expect(vendor.figures?.current).toMatchObject({ dealCount: 2, revenue: 1_000_00 });
    expect(vendor.ranking.map((row) => [row.rank, row.name, row.won, row.freshness.stale])).toEqual([
      [1, 'Sunrise Systems', 2, false],
      [null, 'BluePeak IT', 0, true],
    ]);
    // BluePeak has never synced; Sunrise's ₹4,000 left of its target has no pipeline at all.
    expect(
      vendor.attention.map((entry) => [entry.partnerId, entry.reasons.map((reason) => reason.kind)]),
    ).toEqual([
      ['p1', ['pipelineBelowTarget']],
      ['p2', ['noFigures']],
    ]);
    expect(vendor.quarterFigures('p1')).toEqual({
      quarter: '2026-Q4',
      revenueWon: 1_000_00,
      dealsWon: 2,
      openPipeline: 0,
    });
  });

  it('takes the program’s figures of any period from its buckets by day; compares partners over the whole months that cover it', async () => {
    const net = new FakeNetwork();
    const session = await vendorSession(net);
    const room = servers(net);
    // Won 2 and 10 days before 28 Nov: the 26th and the 18th.
    writeRollup(openProgramDoc(room.rollups.doc), 'p1', {
      lastSyncAt: NOW,
      series: packRollup(buildRollup(program.timeZone, [], [won('p1', 900_00, 2), won('p1', 100_00, 10)])),
    });
    room.program.handshake(room.programSocket);
    room.rollups.handshake(room.rollupsSocket);
    await session.programDocs.store!.settled();
    await session.programDocs.figures!.settled();
    const vendor = new VendorConsole(session);
    vendor.selection = { choice: 'custom', from: '2026-11-20', to: '2026-11-27' };
    expect(vendor.figures?.current).toMatchObject({ dealCount: 1, revenue: 900_00 });
    expect(vendor.partnerRanges).toMatchObject({
      widened: true,
      range: { fromDay: parseDay('2026-11-01'), toDay: parseDay('2026-12-01') },
    });
    expect(vendor.ranking[0]).toMatchObject({ partnerId: 'p1', won: 2, revenue: 1_000_00 });
    expect(vendor.partnerFigures('p1')?.current).toMatchObject({ dealCount: 2 });
    vendor.selection = { choice: 'thisMonth', from: '', to: '' };
    expect(vendor.partnerRanges).toMatchObject({ widened: false });
    expect(vendor.figures?.current).toMatchObject({ dealCount: 2, revenue: 1_000_00 });
  });

  it('follows a rollup the server writes while it is open', async () => {
    const net = new FakeNetwork();
    const session = await vendorSession(net);
    const room = servers(net);
    room.program.handshake(room.programSocket);
    room.rollups.handshake(room.rollupsSocket);
    await session.programDocs.store!.settled();
    await session.programDocs.figures!.settled();
    const vendor = new VendorConsole(session);
    expect(vendor.figures?.current.dealCount).toBe(0);

    room.rollups.change(room.rollupsSocket, (doc) =>
      writeRollup(openProgramDoc(doc), 'p2', {
        lastSyncAt: NOW,
        series: packRollup(buildRollup(program.timeZone, [], [won('p2', 500_00, 1)])),
      }),
    );
    await session.programDocs.figures!.settled();
    expect(vendor.figures?.current).toMatchObject({ dealCount: 1, revenue: 500_00 });
    expect(vendor.ranking[0]).toMatchObject({
      partnerId: 'p2',
      won: 1,
      freshness: { amount: 0, unit: 'minute' },
    });
  });

  it("says how fresh each partner's figures are by the session's clock as it moves on", async () => {
    const net = new FakeNetwork();
    let clock = NOW;
    const session = await vendorSession(net, () => clock);
    const room = servers(net);
    writeRollup(openProgramDoc(room.rollups.doc), 'p1', {
      lastSyncAt: NOW,
      series: packRollup(buildRollup(program.timeZone, [], [won('p1', 500_00, 1)])),
    });
    room.program.handshake(room.programSocket);
    room.rollups.handshake(room.rollupsSocket);
    await session.programDocs.store!.settled();
    await session.programDocs.figures!.settled();
    const vendor = new VendorConsole(session);
    expect(vendor.ranking[0]!.freshness).toMatchObject({ amount: 0, unit: 'minute', stale: false });

    clock = NOW + 2 * 3_600_000;
    session.tick();
    expect(vendor.ranking[0]!.freshness).toMatchObject({ amount: 2, unit: 'hour', stale: false });
    clock = NOW + 4 * DAY;
    session.tick();
    expect(vendor.ranking[0]!.freshness.stale).toBe(true);
  });
});
