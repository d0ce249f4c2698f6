/**
 * The tabs of one device keep a room's document equal through their channel (sync SPEC T1–T5):
 * two or three "tabs" in one process, each with its own Y.Doc and ledger, over Node's
 * BroadcastChannel (asynchronous like the browser's: the tests wait for a condition, never a time).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { countUnsent, memoryLedger, type SyncLedger } from '../../../src/lib/sync/pending-changes';
import {
  TAB_ORIGIN,
  openTabChannel,
  tabChannelName,
  type TabChannel,
} from '../../../src/lib/sync/tab-channel';
import { createLead, openPartnerDoc, readLead } from '../../../src/lib/sync/partner-doc';
import { lead } from '../../factories/records';

const ROOM = 'program/demo/partner/p1';
let names = 0;
const opened: { channel: TabChannel; ledger: SyncLedger & { destroy(): void } }[] = [];

afterEach(() => {
  for (const { channel, ledger } of opened.splice(0)) {
    channel.close();
    ledger.destroy();
  }
});

interface Tab {
  doc: Y.Doc;
  channel: TabChannel;
  /** The ledger as the room's connection sees it. */
  ledger: SyncLedger;
  /** Origins of the transactions applied to this tab's doc. */
  origins: unknown[];
}

function openTab(name: string, doc = new Y.Doc()): Tab {
  const ledger = memoryLedger(doc);
  const origins: unknown[] = [];
  doc.on('afterTransaction', (transaction: Y.Transaction) => origins.push(transaction.origin));
  const channel = openTabChannel({ doc, name, ledger, BroadcastChannel });
  opened.push({ channel, ledger });
  return { doc, channel, ledger: channel.ledger, origins };
}

const freshName = (userId = 'r1', room = ROOM) => tabChannelName(`tabs-test-${++names}`, userId, room);
const unsent = (tab: Tab) => countUnsent(tab.ledger.localChanges(), tab.ledger.serverState()?.stateVector);
const companyIn = (tab: Tab, id: string) => readLead(openPartnerDoc(tab.doc), id)?.company;

describe('T1 — a local change goes to the other tabs', () => {
  it('a lead saved in one tab is in the other tab’s document, without a server', async () => {
    const name = freshName();
    const a = openTab(name);
    const b = openTab(name);
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1', company: 'Ganga Looms' }));
    await vi.waitFor(() => expect(companyIn(b, 'L1')).toBe('Ganga Looms'));
    createLead(openPartnerDoc(b.doc), lead({ id: 'L2', company: 'Yamuna Weaves' }));
    await vi.waitFor(() => expect(companyIn(a, 'L2')).toBe('Yamuna Weaves'));
  });

  it('does not send on what came from the server or from another tab', async () => {
    const name = freshName();
    const a = openTab(name);
    createLead(openPartnerDoc(a.doc), lead({ id: 'L0' }));
    const b = openTab(name);
    // B has L0 once A has answered its hello: the tabs are in step.
    await vi.waitFor(() => expect(companyIn(b, 'L0')).toBeDefined());
    const before = a.origins.length;
    const server = new Y.Doc();
    createLead(openPartnerDoc(server), lead({ id: 'L-server' }));
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(server), 'the server');
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1' }));
    await vi.waitFor(() => expect(companyIn(b, 'L1')).toBeDefined());
    // A tab's messages arrive in order: had the server's update been sent, it would be here by now.
    expect(companyIn(b, 'L-server')).toBeUndefined();
    createLead(openPartnerDoc(b.doc), lead({ id: 'L2' }));
    await vi.waitFor(() => expect(companyIn(a, 'L2')).toBeDefined());
    // Since then A applied B's one change and nothing else: L1 did not come back to it.
    expect(a.origins.slice(before).filter((origin) => origin === TAB_ORIGIN)).toHaveLength(1);
  });
});

describe('T2 — applied with TAB_ORIGIN', () => {
  it('the other tab applies the change with TAB_ORIGIN, never as a local change of its own', async () => {
    const name = freshName();
    const a = openTab(name);
    const b = openTab(name);
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1' }));
    await vi.waitFor(() => expect(b.origins).toContain(TAB_ORIGIN));
    // B made no change: its ledger holds A's mark (T3), not one of B's client.
    expect(b.ledger.localChanges().map((change) => change.client)).toEqual([a.doc.clientID]);
  });
});

describe('T3 — one count of unsent changes', () => {
  it('both tabs count the change as unsent, and both stop once the server acknowledged it to one of them', async () => {
    const name = freshName();
    const a = openTab(name);
    const b = openTab(name);
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1' }));
    createLead(openPartnerDoc(b.doc), lead({ id: 'L2' }));
    await vi.waitFor(() => expect([unsent(a), unsent(b)]).toEqual([2, 2]));

    // A's connection hears the server has both.
    a.ledger.remember({ stateVector: Y.decodeStateVector(Y.encodeStateVector(a.doc)), syncedAt: 1_000 });
    expect(unsent(a)).toBe(0);
    await vi.waitFor(() => expect(unsent(b)).toBe(0));
    expect(b.ledger.serverState()?.syncedAt).toBe(1_000);
  });

  it('an older acknowledgement heard from another tab takes nothing back', async () => {
    const name = freshName();
    const a = openTab(name);
    const b = openTab(name);
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1' }));
    await vi.waitFor(() => expect(unsent(b)).toBe(1));
    b.ledger.remember({ stateVector: Y.decodeStateVector(Y.encodeStateVector(b.doc)), syncedAt: 2_000 });
    await vi.waitFor(() => expect(unsent(a)).toBe(0));
    a.ledger.remember({ stateVector: new Map(), syncedAt: undefined });
    // A itself took the older state (the last acknowledgement wins, C2); B keeps the server's larger one.
    await vi.waitFor(() =>
      expect(b.ledger.serverState()?.stateVector.get(a.doc.clientID)).toBeGreaterThan(0),
    );
    expect(unsent(b)).toBe(0);
  });
});

describe('T4 — a tab that opens catches up', () => {
  it('gets what the open tabs hold that it lacks, with their unsent marks, and gives them what it holds', async () => {
    const name = freshName();
    const a = openTab(name);
    // Made before the second tab opened, and not in the storage the newcomer loads from.
    createLead(openPartnerDoc(a.doc), lead({ id: 'L-a', company: 'Kosi Traders' }));
    const stored = new Y.Doc();
    // The newcomer replayed a journal the first tab never heard of.
    createLead(openPartnerDoc(stored), lead({ id: 'L-journal', company: 'Narmada Mills' }));
    const b = openTab(name, stored);
    await vi.waitFor(() => expect(companyIn(b, 'L-a')).toBe('Kosi Traders'));
    await vi.waitFor(() => expect(companyIn(a, 'L-journal')).toBe('Narmada Mills'));
    // A's change is unsent, and B counts it too (the journal's marks are the replaying store's, C3).
    expect(unsent(b)).toBe(1);
    expect(Y.decodeStateVector(Y.encodeStateVector(a.doc))).toEqual(
      Y.decodeStateVector(Y.encodeStateVector(b.doc)),
    );
  });
});

describe('T5 — one channel per database, person and room', () => {
  it('tabs of another person, room or database hear nothing', async () => {
    const database = `tabs-test-${++names}`;
    const a = openTab(tabChannelName(database, 'r1', ROOM));
    const otherPerson = openTab(tabChannelName(database, 'r2', ROOM));
    const otherRoom = openTab(tabChannelName(database, 'r1', 'program/demo/partner/p2'));
    const otherDatabase = openTab(tabChannelName(`${database}-x`, 'r1', ROOM));
    const same = openTab(tabChannelName(database, 'r1', ROOM));
    createLead(openPartnerDoc(a.doc), lead({ id: 'L1' }));
    await vi.waitFor(() => expect(companyIn(same, 'L1')).toBeDefined());
    for (const tab of [otherPerson, otherRoom, otherDatabase]) expect(companyIn(tab, 'L1')).toBeUndefined();
  });

  it('ignores what is not a message of this protocol, and an update Yjs refuses', async () => {
    const name = freshName();
    const a = openTab(name);
    const intruder = new BroadcastChannel(name);
    intruder.postMessage('hello');
    intruder.postMessage({ v: 2, type: 'update', from: 'x', update: new Uint8Array([1]) });
    intruder.postMessage({ v: 1, type: 'update', from: 'x', update: 'not bytes', localChanges: [] });
    intruder.postMessage({
      v: 1,
      type: 'update',
      from: 'x',
      update: new Uint8Array([255, 255, 255]),
      localChanges: [],
    });
    intruder.postMessage({
      v: 1,
      type: 'update',
      from: 'x',
      update: new Uint8Array([0, 0]),
      localChanges: [{ client: 'x', clock: 1 }],
    });
    const b = openTab(name);
    intruder.close();
    createLead(openPartnerDoc(b.doc), lead({ id: 'L1' }));
    // The channel still works after the junk, and nothing of it was taken in.
    await vi.waitFor(() => expect(companyIn(a, 'L1')).toBeDefined());
    expect(unsent(a)).toBe(1);
  });
});
