/**
 * What a screen derives from the session follows the data by itself, as Svelte's effects see it:
 * the KPI buckets and the records after another device's change, the program-level document's
 * directory once it syncs, and the partner's sync state once its link is made. (The buckets change
 * in place: the part that owns them says when.) Compiled for the client, where effects run
 * (vite.config.ts); real stores over fake-indexeddb, the fake socket and server of the connection tests.
 */
import 'fake-indexeddb/auto';
import { UnsecuredJWT } from 'jose';
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { SignInRecord } from '../../../../src/lib/app/session';
import { claimsOf } from '../../../../src/lib/app/sign-in';
import { DEFAULT_STAGE_PROBABILITY, type ProgramDirectory } from '../../../../src/lib/domain';
import type { Rollup } from '../../../../src/lib/kpi/buckets';
import { createLead, openPartnerDoc } from '../../../../src/lib/sync/partner-doc';
import { initProgram, openProgramDoc, projectPartnerView } from '../../../../src/lib/sync/program-doc';
import { FakeNetwork, FakeSyncServer, type FakeSocket } from '../../../factories/fake-sync-socket';
import { lead } from '../../../factories/records';
import { sessionsForTests } from '../../../factories/sessions';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const program = {
  id: 'demo',
  name: 'Acme Cloud Partner Program',
  currency: 'INR',
  timeZone: 'Asia/Kolkata',
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};
/** What the sign-in gives before the program-level document has synced: the partner's id as its name. */
const directory: ProgramDirectory = {
  program,
  partners: [{ id: 'p1', programId: 'demo', name: 'p1', createdAt: 0 }],
  reps: [{ id: 'r1', partnerId: 'p1', name: 'r1', role: 'rep', createdAt: 0 }],
};

function signIn(): SignInRecord {
  const jwt = new UnsecuredJWT({ programId: 'demo', role: 'rep', partnerId: 'p1' })
    .setSubject('r1')
    .setExpirationTime(Math.floor((NOW + 3_600_000) / 1000))
    .encode();
  return { token: jwt, claims: claimsOf(jwt)!, partnerId: 'p1' };
}

/** The server's channel room of p1, projected from a program document with the partner's real name. */
function channelServer(): FakeSyncServer {
  const programServer = new FakeSyncServer();
  initProgram(openProgramDoc(programServer.doc), {
    program,
    partners: [{ id: 'p1', programId: 'demo', name: 'Sunrise Systems', createdAt: 0 }],
    reps: [{ id: 'r1', partnerId: 'p1', name: 'Asha Rao', role: 'rep', createdAt: 0 }],
    staff: [],
  });
  const channel = new FakeSyncServer({ readOnly: true });
  projectPartnerView(openProgramDoc(programServer.doc), openProgramDoc(channel.doc), 'p1');
  return channel;
}

const sessions = sessionsForTests('session-reactivity');

const partnerSocket = (net: FakeNetwork): FakeSocket =>
  net.sockets.find((socket) => socket.url.endsWith('/sync/program/demo/partner/p1'))!;
const channelSocket = (net: FakeNetwork): FakeSocket =>
  net.sockets.find((socket) => socket.url.endsWith('/partner/p1/channel'))!;

/** The leads the KPI buckets count. */
const leadsCounted = (rollup: Rollup) =>
  [...rollup.series.values()]
    .flatMap((series) => [...series.days.values()])
    .reduce((sum, bucket) => sum + bucket.leads, 0);

/** Runs `read` in an effect, as a screen would, and returns what it last saw; `stop` ends it. */
function follow<T>(read: () => T): { readonly seen: T; stop: () => void } {
  let seen!: T;
  const stop = $effect.root(() => {
    $effect(() => {
      seen = read();
    });
  });
  flushSync();
  return {
    get seen() {
      flushSync();
      return seen;
    },
    stop,
  };
}

describe('what a screen derives from the session', () => {
  it('follows the KPI buckets and the records as another device’s lead arrives', async () => {
    const net = new FakeNetwork();
    const session = sessions.session({ WebSocket: net.WebSocket, now: () => NOW });
    await session.signInWith(signIn(), directory);
    const server = new FakeSyncServer();
    server.handshake(partnerSocket(net));
    const ready = session.ready!;
    const kpis = follow(() => leadsCounted(ready.rollup));
    const rows = follow(() => session.leads.length);
    expect([kpis.seen, rows.seen]).toEqual([0, 0]);

    server.change(partnerSocket(net), (doc) =>
      createLead(openPartnerDoc(doc), lead({ id: 'L-remote', partnerId: 'p1', repId: 'r2' })),
    );
    await session.store!.settled();

    expect([kpis.seen, rows.seen]).toEqual([1, 1]);
    kpis.stop();
    rows.stop();
  });

  it('follows the directory of the program-level document once it syncs', async () => {
    const net = new FakeNetwork();
    const session = sessions.session({ WebSocket: net.WebSocket, now: () => NOW });
    const names = follow(() => [session.partner?.name, session.personName]);
    expect(names.seen).toEqual([undefined, '']);
    await session.signInWith(signIn(), directory);
    expect(names.seen).toEqual(['p1', 'r1']);

    channelServer().handshake(channelSocket(net));
    await session.programDocs.store!.settled();

    expect(names.seen).toEqual(['Sunrise Systems', 'Asha Rao']);
    names.stop();
  });

  it('follows the partner’s sync state from before it is linked', async () => {
    const net = new FakeNetwork();
    const session = sessions.session({ WebSocket: net.WebSocket, now: () => NOW });
    const status = follow(() => session.sync?.status);
    expect(status.seen).toBeUndefined();
    await session.signInWith(signIn(), directory);

    new FakeSyncServer().handshake(partnerSocket(net));

    expect(status.seen).toBe('synced');
    status.stop();
  });
});
