/**
 * The rules of src/lib/sync/SPEC.md, one test (or a few) per rule, named after it.
 *
 * Replicas are Y.Docs with fixed client ids that exchange updates by hand (Y.encodeStateAsUpdate /
 * Y.applyUpdate), in the order each test chooses: no network, no timers, no sleeps.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { validateDeal, validateLead, type Deal, type Lead } from '../../../src/lib/domain';
import {
  LOCAL_ORIGIN,
  PARTNER_DOC_SCHEMA_VERSION,
  PartnerDocError,
  createDeal,
  createLead,
  createRecords,
  deleteRecord,
  docSchemaVersion,
  findRecordProblems,
  onRecordsChanged,
  openPartnerDoc,
  readAll,
  readAlsoSet,
  readDeal,
  readLead,
  readStageHistory,
  recordProblems,
  updateDeal,
  updateLead,
  writeTogether,
  type PartnerDoc,
  type RecordsChanged,
} from '../../../src/lib/sync/partner-doc';
import { EDIT_LOG_LIMIT, editKey, encodeStored } from '../../../src/lib/sync/record-layout';
import { BASE_INSTANT, DAY_MS, deal as dealFixture, lead as leadFixture } from '../../factories/records';

const HOUR = 3_600_000;
const T0 = BASE_INSTANT;
const REMOTE = 'remote';

/** A replica with a fixed Yjs client id (the higher one wins a same-key conflict). */
function replica(clientID: number, state?: Uint8Array): PartnerDoc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  if (state) Y.applyUpdate(doc, state, REMOTE);
  return openPartnerDoc(doc);
}

/** Sends `from` everything `to` has not seen yet. */
function send(from: PartnerDoc, to: PartnerDoc) {
  Y.applyUpdate(to.doc, Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc)), REMOTE);
}

function syncAll(...replicas: PartnerDoc[]) {
  for (const from of replicas) for (const to of replicas) if (from !== to) send(from, to);
}

/** Two replicas of one document holding `records`, created on the first and synced to the second. */
function pairWith(records: { leads?: Lead[]; deals?: Deal[] }): [PartnerDoc, PartnerDoc] {
  const a = replica(1);
  createRecords(a, records, 'p1-r1');
  const b = replica(2);
  send(a, b);
  return [a, b];
}

const sortById = <T extends { id: string }>(records: T[]) =>
  [...records].sort((x, y) => (x.id < y.id ? -1 : 1));

function expectSameRecords(...replicas: PartnerDoc[]) {
  const [first, ...rest] = replicas
    .map(readAll)
    .map(({ leads, deals }) => ({ leads: sortById(leads), deals: sortById(deals) }));
  for (const other of rest) expect(other).toEqual(first);
}

function keysOf(pd: PartnerDoc, kind: 'leads' | 'deals') {
  return [...pd.doc.getMap(kind).keys()].sort();
}

describe('S1: layout', () => {
  it('S1: a record is one base key holding its JSON text; edits and stage changes are keys of their own', () => {
    const lead = leadFixture({ id: 'L1' });
    const deal = dealFixture({ id: 'D1', createdAt: T0 });
    const [a] = pairWith({ leads: [lead], deals: [deal] });
    updateLead(a, 'L1', { company: 'Beta Ltd' });
    updateDeal(a, 'D1', { title: 'Renewal', stage: 'qualified', updatedAt: T0 + HOUR }, 'p1-r2');
    expect(keysOf(a, 'leads')).toEqual(['L1', 'L1/company']);
    // The title's edit entry too (S13): who set it, when, from what.
    expect(keysOf(a, 'deals')).toEqual([
      'D1',
      `D1/edit/${T0 + HOUR}/p1-r2/title`,
      `D1/stage/${T0 + HOUR}/p1-r2`,
      'D1/title',
    ]);
    expect(JSON.parse(a.doc.getMap('leads').get('L1') as string)).toEqual(lead);
  });

  it('S1: ids may contain dots: the separator is "/", which no id contains', () => {
    const pd = replica(1);
    createDeal(pd, dealFixture({ id: 'D1' }), 'p1-r1');
    createDeal(pd, dealFixture({ id: 'D1.title', title: 'Other deal' }), 'p1-r1');
    updateDeal(pd, 'D1', { title: 'Edited', updatedAt: T0 + HOUR }, 'p1-r1');
    expect(readDeal(pd, 'D1.title')?.title).toBe('Other deal');
    expect(readDeal(pd, 'D1')?.title).toBe('Edited');
    expect(readDeal(pd, 'D1/title')).toBeUndefined();
  });
});

describe('S2: creation whole and field-level merge', () => {
  it('S2: two devices editing different fields of one deal offline both keep their edit', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    updateDeal(a, 'D1', { title: 'Cloud migration', updatedAt: T0 + HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { amount: 250_000, updatedAt: T0 + 2 * HOUR }, 'p1-r2');
    syncAll(a, b);
    expectSameRecords(a, b);
    expect(readDeal(a, 'D1')).toMatchObject({
      title: 'Cloud migration',
      amount: 250_000,
      updatedAt: T0 + 2 * HOUR,
    });
  });

  it('S2: different fields of one lead, three replicas, updates delivered in different orders', () => {
    const a = replica(1);
    createLead(a, leadFixture({ id: 'L1' }));
    const b = replica(2, Y.encodeStateAsUpdate(a.doc));
    const c = replica(3, Y.encodeStateAsUpdate(a.doc));
    updateLead(a, 'L1', { company: 'Gamma Pvt Ltd' });
    updateLead(b, 'L1', { status: 'qualified', qualifiedAt: T0 + DAY_MS });
    updateLead(c, 'L1', { notes: 'Call back after Diwali' });
    send(c, a);
    send(b, a);
    send(a, b);
    send(a, c);
    send(c, b);
    send(b, c);
    expectSameRecords(a, b, c);
    expect(readLead(c, 'L1')).toMatchObject({
      company: 'Gamma Pvt Ltd',
      status: 'qualified',
      qualifiedAt: T0 + DAY_MS,
      notes: 'Call back after Diwali',
    });
  });

  it('S2: only changed fields become overrides; a change to the current value writes nothing', () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1', company: 'Acme Pvt Ltd' })] });
    const updates: Uint8Array[] = [];
    a.doc.on('update', (update: Uint8Array) => updates.push(update));
    updateLead(a, 'L1', { company: 'Acme Pvt Ltd', contactName: 'Ravi Iyer' });
    expect(keysOf(a, 'leads')).toEqual(['L1', 'L1/contactName']);
    updateLead(a, 'L1', { company: 'Acme Pvt Ltd' });
    expect(updates).toHaveLength(1);
  });

  it('S2: a field given as undefined is cleared, and the clearing merges like any edit', () => {
    const [a, b] = pairWith({
      leads: [leadFixture({ id: 'L1', notes: 'Old note', email: 'asha@acme.example' })],
    });
    updateLead(a, 'L1', { notes: undefined });
    updateLead(b, 'L1', { email: 'rao@acme.example' });
    syncAll(a, b);
    const read = readLead(b, 'L1');
    expect(read).not.toHaveProperty('notes');
    expect(read?.email).toBe('rao@acme.example');
  });

  it('S2: text is stored trimmed, as validation returns it', () => {
    const pd = replica(1);
    createLead(pd, leadFixture({ id: 'L1', company: '  Acme Pvt Ltd ' }));
    updateLead(pd, 'L1', { contactName: ' Ravi Iyer  ' });
    expect(readLead(pd, 'L1')).toMatchObject({ company: 'Acme Pvt Ltd', contactName: 'Ravi Iyer' });
  });

  it('S2: records read back pass validation', () => {
    const [a] = pairWith({
      leads: [leadFixture({ id: 'L1' })],
      deals: [dealFixture({ id: 'D1', stage: 'proposal' })],
    });
    updateDeal(a, 'D1', { stage: 'lost', lostReason: 'price', updatedAt: T0 + 3 * DAY_MS }, 'p1-r1');
    const { leads, deals } = readAll(a);
    expect(leads.map((lead) => validateLead(lead).ok)).toEqual([true]);
    expect(deals.map((deal) => validateDeal(deal).ok)).toEqual([true]);
  });
});

describe('S3: the same field', () => {
  it('S3: concurrent edits of one field converge on every replica to the higher client id', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    updateDeal(a, 'D1', { title: 'From device 1', updatedAt: T0 + 2 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { title: 'From device 2', updatedAt: T0 + HOUR }, 'p1-r2');
    send(a, b);
    send(b, a);
    expectSameRecords(a, b);
    expect(readDeal(a, 'D1')?.title).toBe('From device 2');
  });

  it('S3: updatedAt never goes back: a late edit made on a slow clock keeps the later instant', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    updateDeal(a, 'D1', { title: 'First', updatedAt: T0 + 5 * HOUR }, 'p1-r1');
    updateDeal(a, 'D1', { title: 'Second', updatedAt: T0 + HOUR }, 'p1-r1');
    expect(readDeal(a, 'D1')).toMatchObject({ title: 'Second', updatedAt: T0 + 5 * HOUR });
  });

  it('S3: a deal needs updatedAt with every change', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    expect(() => updateDeal(a, 'D1', { title: 'No time' }, 'p1-r1')).toThrow(PartnerDocError);
  });
});

describe('S4: the stage group travels as one entry', () => {
  it('S4: concurrent close as lost (earlier) and move to proposal (later): the later wins whole, never won or open with a lost reason', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'qualified' })] });
    updateDeal(a, 'D1', { stage: 'proposal', updatedAt: T0 + 3 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { stage: 'lost', lostReason: 'price', updatedAt: T0 + 2 * HOUR }, 'p1-r2');
    syncAll(a, b);
    for (const pd of [a, b]) {
      const read = readDeal(pd, 'D1');
      expect(read).toMatchObject({ stage: 'proposal', probability: 50 });
      expect(read).not.toHaveProperty('lostReason');
      expect(read).not.toHaveProperty('closedAt');
      expect(recordProblems(pd, 'deal', 'D1')).toEqual([]);
    }
  });

  it('S4: a stage change without probability takes the stage default; closing sets closedAt to the change instant; reopening clears it', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'qualified', probability: 30 })] });
    updateDeal(a, 'D1', { stage: 'won', updatedAt: T0 + DAY_MS }, 'p1-r1');
    expect(readDeal(a, 'D1')).toMatchObject({ stage: 'won', probability: 100, closedAt: T0 + DAY_MS });
    updateDeal(a, 'D1', { stage: 'negotiation', updatedAt: T0 + 2 * DAY_MS }, 'p1-r1');
    const reopened = readDeal(a, 'D1');
    expect(reopened).toMatchObject({ stage: 'negotiation', probability: 75 });
    expect(reopened).not.toHaveProperty('closedAt');
  });

  it('S4: a probability-only change is a stage entry of the same stage, so it follows the latest change too', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'proposal' })] });
    updateDeal(a, 'D1', { probability: 60, updatedAt: T0 + 2 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { stage: 'negotiation', updatedAt: T0 + 3 * HOUR }, 'p1-r2');
    syncAll(a, b);
    expect(readDeal(a, 'D1')).toMatchObject({ stage: 'negotiation', probability: 75 });
    expect(readStageHistory(a, 'D1')?.map(({ stage, probability }) => [stage, probability])).toEqual([
      ['proposal', 50],
      ['proposal', 60],
      ['negotiation', 75],
    ]);
  });

  it('S4: a change that would break an invariant is refused and writes nothing', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'proposal' })] });
    const before = Y.encodeStateVector(a.doc);
    expect(() =>
      updateDeal(a, 'D1', { stage: 'won', lostReason: 'price', updatedAt: T0 + HOUR }, 'p1-r1'),
    ).toThrow(/Lost reason/);
    expect(Y.encodeStateVector(a.doc)).toEqual(before);
  });
});

describe('S5: the stage log', () => {
  it('S5: concurrent stage changes keep both entries and the later at wins on every replica, whatever the delivery order', () => {
    const a = replica(1);
    createDeal(a, dealFixture({ id: 'D1', stage: 'qualified', createdAt: T0 }), 'p1-r1');
    const b = replica(2, Y.encodeStateAsUpdate(a.doc));
    const c = replica(3, Y.encodeStateAsUpdate(a.doc));
    // The lowest client id makes the latest change: a same-key rule would lose it.
    updateDeal(a, 'D1', { stage: 'won', updatedAt: T0 + 5 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { stage: 'negotiation', updatedAt: T0 + 4 * HOUR }, 'p1-r2');
    updateDeal(c, 'D1', { stage: 'lost', lostReason: 'timing', updatedAt: T0 + 3 * HOUR }, 'p1-r3');
    send(c, b);
    send(b, a);
    send(a, c);
    send(b, c);
    send(c, a);
    send(a, b);
    expectSameRecords(a, b, c);
    for (const pd of [a, b, c]) {
      const read = readDeal(pd, 'D1');
      expect(read).toMatchObject({
        stage: 'won',
        closedAt: T0 + 5 * HOUR,
        probability: 100,
        updatedAt: T0 + 5 * HOUR,
      });
      expect(read?.stageLog).toEqual([
        { stage: 'qualified', at: T0, by: 'p1-r1' },
        { stage: 'lost', at: T0 + 3 * HOUR, by: 'p1-r3' },
        { stage: 'negotiation', at: T0 + 4 * HOUR, by: 'p1-r2' },
        { stage: 'won', at: T0 + 5 * HOUR, by: 'p1-r1' },
      ]);
    }
  });

  it('S5: equal instants are decided by `by`, the greater one winning, on every replica', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'qualified' })] });
    updateDeal(a, 'D1', { stage: 'proposal', updatedAt: T0 + HOUR }, 'rep-b');
    updateDeal(b, 'D1', { stage: 'negotiation', updatedAt: T0 + HOUR }, 'rep-a');
    syncAll(a, b);
    expect([readDeal(a, 'D1')?.stage, readDeal(b, 'D1')?.stage]).toEqual(['proposal', 'proposal']);
  });

  it('S5: a new deal gets its initial entry by its creator; a given history is kept and completed', () => {
    const pd = replica(1);
    createDeal(pd, dealFixture({ id: 'D1', createdAt: T0 }), 'p1-r7');
    expect(readDeal(pd, 'D1')?.stageLog).toEqual([{ stage: 'prospecting', at: T0, by: 'p1-r7' }]);
    const imported = dealFixture({
      id: 'D2',
      stage: 'won',
      createdAt: T0,
      closedAt: T0 + 9 * DAY_MS,
      updatedAt: T0 + 9 * DAY_MS,
      stageLog: [
        { stage: 'qualified', at: T0 + DAY_MS, by: 'p1-r1' },
        { stage: 'prospecting', at: T0, by: 'p1-r1' },
      ],
    });
    createDeal(pd, imported, 'importer');
    expect(readDeal(pd, 'D2')?.stageLog).toEqual([
      { stage: 'prospecting', at: T0, by: 'p1-r1' },
      { stage: 'qualified', at: T0 + DAY_MS, by: 'p1-r1' },
      { stage: 'won', at: T0 + 9 * DAY_MS, by: 'importer' },
    ]);
  });

  it('S5: a local change on a clock behind the winning entry is recorded 1 ms after it, so it takes effect', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'qualified' })] });
    updateDeal(b, 'D1', { stage: 'proposal', updatedAt: T0 + 10 * HOUR }, 'p1-r2');
    send(b, a);
    updateDeal(a, 'D1', { stage: 'negotiation', updatedAt: T0 + HOUR }, 'p1-r1');
    send(a, b);
    for (const pd of [a, b]) {
      expect(readDeal(pd, 'D1')?.stage).toBe('negotiation');
      expect(readDeal(pd, 'D1')?.stageLog?.at(-1)).toEqual({
        stage: 'negotiation',
        at: T0 + 10 * HOUR + 1,
        by: 'p1-r1',
      });
    }
  });

  it('S5: the history is append-only: stageLog cannot be written', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    expect(() => updateDeal(a, 'D1', { stageLog: [], updatedAt: T0 + HOUR }, 'p1-r1')).toThrow(/append-only/);
  });

  it('S5: the full history carries the fields of each change', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1', stage: 'proposal' })] });
    updateDeal(
      a,
      'D1',
      { stage: 'lost', lostReason: 'competitor', closedAt: T0 + DAY_MS, updatedAt: T0 + 2 * DAY_MS },
      'p1-r1',
    );
    expect(readStageHistory(a, 'D1')?.at(-1)).toEqual({
      stage: 'lost',
      at: T0 + 2 * DAY_MS,
      by: 'p1-r1',
      probability: 0,
      closedAt: T0 + DAY_MS,
      lostReason: 'competitor',
    });
  });
});

describe('S6: deletion', () => {
  it('S6: delete against a concurrent edit: the edit is kept and the record stays deleted', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })], leads: [leadFixture({ id: 'L1' })] });
    deleteRecord(a, 'deal', 'D1', T0 + 2 * HOUR);
    deleteRecord(a, 'lead', 'L1', T0 + 2 * HOUR);
    updateDeal(b, 'D1', { title: 'Edited offline', stage: 'qualified', updatedAt: T0 + 3 * HOUR }, 'p1-r2');
    updateLead(b, 'L1', { company: 'Edited Pvt Ltd' });
    syncAll(a, b);
    expectSameRecords(a, b);
    expect(readDeal(a, 'D1')).toMatchObject({
      deletedAt: T0 + 2 * HOUR,
      title: 'Edited offline',
      stage: 'qualified',
      updatedAt: T0 + 3 * HOUR,
    });
    expect(readLead(a, 'L1')).toMatchObject({ deletedAt: T0 + 2 * HOUR, company: 'Edited Pvt Ltd' });
  });

  it('S6: deletion never deletes a map key, and deleted records are still read', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    const deletions: string[] = [];
    a.doc
      .getMap('deals')
      .observe((event) =>
        event.changes.keys.forEach((change, key) => change.action === 'delete' && deletions.push(key)),
      );
    deleteRecord(a, 'deal', 'D1', T0 + HOUR);
    expect(deletions).toEqual([]);
    expect(readAll(a).deals.map((deal) => [deal.id, deal.deletedAt, deal.updatedAt])).toEqual([
      ['D1', T0 + HOUR, T0 + HOUR],
    ]);
  });

  it('S6: deleting a deleted record keeps the first deletion', () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    deleteRecord(a, 'lead', 'L1', T0 + HOUR);
    deleteRecord(a, 'lead', 'L1', T0 + 2 * HOUR);
    expect(readLead(a, 'L1')?.deletedAt).toBe(T0 + HOUR);
  });
});

describe('S7: older shapes', () => {
  it('S7: a base stored as a plain object, without a stage log, with stage entries lacking probability', () => {
    const doc = new Y.Doc();
    const deals = doc.getMap<unknown>('deals');
    const old = dealFixture({
      id: 'D1',
      stage: 'won',
      createdAt: T0,
      closedAt: T0 + DAY_MS,
      updatedAt: T0 + DAY_MS,
      repId: 'p1-r4',
    });
    deals.set('D1', { ...old });
    deals.set(`D1/stage/${T0 + 2 * DAY_MS}/p1-r4`, {
      stage: 'negotiation',
      at: T0 + 2 * DAY_MS,
      by: 'p1-r4',
    });
    doc.getMap<unknown>('leads').set('L1', { ...leadFixture({ id: 'L1' }) });
    const pd = openPartnerDoc(doc);
    expect(docSchemaVersion(pd)).toBe(0);
    const read = readDeal(pd, 'D1');
    expect(read).toMatchObject({ stage: 'negotiation', probability: 75, updatedAt: T0 + 2 * DAY_MS });
    expect(read?.stageLog).toEqual([
      { stage: 'won', at: T0 + DAY_MS, by: 'p1-r4' },
      { stage: 'negotiation', at: T0 + 2 * DAY_MS, by: 'p1-r4' },
    ]);
    expect(recordProblems(pd, 'deal', 'D1')).toEqual([]);
    expect(readLead(pd, 'L1')?.id).toBe('L1');
  });

  it('S7: fields and keys written by a newer version are kept in the doc and left out of the records', () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    a.doc.getMap('leads').set('L1/region', 'South');
    a.doc.getMap('leads').set('L1/tags/vip', true);
    expect(readLead(a, 'L1')).not.toHaveProperty('region');
    expect(recordProblems(a, 'lead', 'L1')).toEqual([]);
  });
});

describe('S8: schema version', () => {
  it('S8: opening writes nothing; the first write stamps the version', () => {
    const pd = replica(1);
    const updates: Uint8Array[] = [];
    pd.doc.on('update', (update: Uint8Array) => updates.push(update));
    const reopened = openPartnerDoc(pd.doc);
    expect(updates).toHaveLength(0);
    expect(docSchemaVersion(reopened)).toBe(0);
    createLead(pd, leadFixture({ id: 'L1' }));
    expect(docSchemaVersion(pd)).toBe(PARTNER_DOC_SCHEMA_VERSION);
    expect(updates).toHaveLength(1);
  });

  it('S8: a client never lowers the version written by a newer one', () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    a.doc.getMap('meta').set('schemaVersion', PARTNER_DOC_SCHEMA_VERSION + 1);
    updateLead(a, 'L1', { company: 'Still writable Ltd' });
    expect(docSchemaVersion(a)).toBe(PARTNER_DOC_SCHEMA_VERSION + 1);
  });
});

describe('S9: quarantine', () => {
  it('S9: a record that does not validate is still read, and its problems are reported', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    // A buggy or foreign writer: a negative amount, and a stage entry that is not one.
    b.doc.getMap('deals').set('D1/amount', -5);
    b.doc.getMap('deals').set(`D1/stage/${T0}/x`, 'not an entry');
    send(b, a);
    expect(readDeal(a, 'D1')?.amount).toBe(-5);
    expect(recordProblems(a, 'deal', 'D1')).toMatchObject([
      { field: 'amount', message: 'Amount cannot be negative.' },
      { field: 'stageLog', message: '1 stage change(s) could not be read and were ignored.' },
    ]);
    expect(findRecordProblems(a).map(({ kind, id }) => [kind, id])).toEqual([['deal', 'D1']]);
  });

  it('S9: a quarantined record can be repaired, but a local write never adds a problem', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    a.doc.getMap('deals').set('D1/amount', -5);
    updateDeal(a, 'D1', { title: 'Still editable', updatedAt: T0 + HOUR }, 'p1-r1');
    expect(() => updateDeal(a, 'D1', { currency: 'rupees', updatedAt: T0 + HOUR }, 'p1-r1')).toThrow(
      /Currency/,
    );
    updateDeal(a, 'D1', { amount: 5_000, updatedAt: T0 + 2 * HOUR }, 'p1-r1');
    expect(recordProblems(a, 'deal', 'D1')).toEqual([]);
  });

  it('S9: invalid records are refused at creation', () => {
    const pd = replica(1);
    expect(() => createDeal(pd, dealFixture({ id: 'D1', amount: 10.5 }), 'p1-r1')).toThrow(PartnerDocError);
    expect(() => createDeal(pd, dealFixture({ id: 'D2' }), 'not an id')).toThrow(/stageLog\.0\.by/);
    expect(() =>
      createRecords(
        pd,
        { leads: [leadFixture({ id: 'L1' }), leadFixture({ id: 'L2', company: '' })] },
        'p1-r1',
      ),
    ).toThrow(/Company/);
    expect(readAll(pd)).toEqual({ leads: [], deals: [] });
  });

  it('S9: edits that arrive before their record stay hidden until it does', () => {
    const a = replica(1);
    createLead(a, leadFixture({ id: 'L1' }));
    const b = replica(2, Y.encodeStateAsUpdate(a.doc));
    updateLead(b, 'L1', { company: 'Edited Pvt Ltd' });
    const c = replica(3, Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc)));
    expect(readAll(c).leads).toEqual([]);
    expect(recordProblems(c, 'lead', 'L1')[0]?.message).toMatch(/arrived before the record/);
    const changed: RecordsChanged[] = [];
    onRecordsChanged(c, (ids) => changed.push(ids));
    send(a, c);
    expect(changed).toEqual([{ leads: new Set(['L1']), deals: new Set() }]);
    expect(readLead(c, 'L1')?.company).toBe('Edited Pvt Ltd');
  });
});

describe('S10: transactions and change notifications', () => {
  it('S10: each call is one transaction, with the local origin, and listeners get the ids that changed', () => {
    const [a, b] = pairWith({
      deals: [dealFixture({ id: 'D1' }), dealFixture({ id: 'D2' })],
      leads: [leadFixture({ id: 'L1' })],
    });
    const seen: [RecordsChanged, unknown][] = [];
    const stop = onRecordsChanged(a, (changed, origin) => seen.push([changed, origin]));
    const updates: Uint8Array[] = [];
    a.doc.on('update', (update: Uint8Array) => updates.push(update));
    updateDeal(a, 'D1', { title: 'New', amount: 7, stage: 'won', updatedAt: T0 + HOUR }, 'p1-r1');
    expect(updates).toHaveLength(1);
    updateLead(b, 'L1', { company: 'Remote Ltd' });
    updateDeal(b, 'D2', { title: 'Remote', updatedAt: T0 + HOUR }, 'p1-r2');
    send(b, a);
    expect(seen).toEqual([
      [{ leads: new Set(), deals: new Set(['D1']) }, LOCAL_ORIGIN],
      [{ leads: new Set(['L1']), deals: new Set(['D2']) }, REMOTE],
    ]);
    stop();
    createLead(a, leadFixture({ id: 'L2' }));
    expect(seen).toHaveLength(2);
  });

  it("S10: calls inside an outer transaction read each other's writes and make one transaction with its origin", () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    const seen: [RecordsChanged, unknown][] = [];
    onRecordsChanged(a, (changed, origin) => seen.push([changed, origin]));
    const updates: Uint8Array[] = [];
    a.doc.on('update', (update: Uint8Array) => updates.push(update));
    a.doc.transact(() => {
      createDeal(a, dealFixture({ id: 'D9', stage: 'qualified', leadId: 'L1' }), 'p1-r1');
      updateDeal(a, 'D9', { stage: 'proposal', updatedAt: T0 + HOUR }, 'p1-r1');
      updateDeal(a, 'D9', { stage: 'negotiation', updatedAt: T0 + HOUR }, 'p1-r1');
      updateLead(a, 'L1', { status: 'converted' });
      expect(readDeal(a, 'D9')?.stageLog?.map((change) => change.stage)).toEqual([
        'qualified',
        'proposal',
        'negotiation',
      ]);
    }, 'convert');
    expect(updates).toHaveLength(1);
    expect(seen).toEqual([[{ leads: new Set(['L1']), deals: new Set(['D9']) }, 'convert']]);
    expect(readDeal(a, 'D9')?.stageLog?.at(-1)).toEqual({
      stage: 'negotiation',
      at: T0 + HOUR + 1,
      by: 'p1-r1',
    });
  });

  it('S10: writeTogether makes several calls one transaction with the local origin, each reading the writes before it', () => {
    const [a, b] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    const seen: [RecordsChanged, unknown][] = [];
    onRecordsChanged(a, (changed, origin) => seen.push([changed, origin]));
    const updates: Uint8Array[] = [];
    a.doc.on('update', (update: Uint8Array) => updates.push(update));
    writeTogether(a, () => {
      createDeal(a, dealFixture({ id: 'D9', stage: 'qualified', leadId: 'L1' }), 'p1-r1');
      updateDeal(a, 'D9', { stage: 'proposal', updatedAt: T0 + HOUR }, 'p1-r1');
      updateLead(a, 'L1', { status: 'converted' });
    });
    expect(updates).toHaveLength(1);
    expect(seen).toEqual([[{ leads: new Set(['L1']), deals: new Set(['D9']) }, LOCAL_ORIGIN]]);
    expect(readDeal(a, 'D9')?.stageLog?.map((change) => change.stage)).toEqual(['qualified', 'proposal']);
    Y.applyUpdate(b.doc, updates[0]!, REMOTE);
    expect(readLead(b, 'L1')?.status).toBe('converted');
    expect(readDeal(b, 'D9')).toEqual(readDeal(a, 'D9'));
    // Writes that change nothing make no update.
    writeTogether(a, () => updateLead(a, 'L1', { status: 'converted' }));
    expect(updates).toHaveLength(1);
  });

  it('S10: a listener reading during the notification sees the records as changed', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    const titles: (string | undefined)[] = [];
    onRecordsChanged(a, (changed) => changed.deals.forEach((id) => titles.push(readDeal(a, id)?.title)));
    updateDeal(b, 'D1', { title: 'Seen in the listener', updatedAt: T0 + HOUR }, 'p1-r2');
    send(b, a);
    expect(titles).toEqual(['Seen in the listener']);
  });

  it('S10: a document loaded after opening is indexed through the same path as one loaded before', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    updateDeal(a, 'D1', { title: 'Edited', stage: 'proposal', updatedAt: T0 + HOUR }, 'p1-r1');
    const state = Y.encodeStateAsUpdate(a.doc);
    const before = replica(5);
    Y.applyUpdate(before.doc, state);
    const after = replica(6, state);
    expect(readAll(before)).toEqual(readAll(after));
    expect(readDeal(after, 'D1')).toMatchObject({ title: 'Edited', stage: 'proposal' });
  });
});

describe('S11: ids', () => {
  it('S11: creating an id that exists is refused', () => {
    const [a] = pairWith({ leads: [leadFixture({ id: 'L1' })], deals: [dealFixture({ id: 'D1' })] });
    expect(() => createLead(a, leadFixture({ id: 'L1' }))).toThrow(/already exists/);
    expect(() => createDeal(a, dealFixture({ id: 'D1' }), 'p1-r1')).toThrow(/already exists/);
    expect(() => updateDeal(a, 'D1', { id: 'D9', updatedAt: T0 }, 'p1-r1')).toThrow(/cannot change/);
    expect(() => updateLead(a, 'L404', { company: 'Nobody' })).toThrow(/There is no lead/);
  });
});

describe('S12: no clock', () => {
  it('S12: every instant in the doc comes from the arguments', () => {
    const pd = replica(1);
    createDeal(pd, dealFixture({ id: 'D1', createdAt: 1_000, updatedAt: 1_000 }), 'p1-r1');
    updateDeal(pd, 'D1', { stage: 'won', updatedAt: 2_000 }, 'p1-r1');
    deleteRecord(pd, 'deal', 'D1', 3_000);
    const read = readDeal(pd, 'D1');
    expect([
      read?.createdAt,
      read?.closedAt,
      read?.deletedAt,
      read?.updatedAt,
      ...(read?.stageLog ?? []).map((change) => change.at),
    ]).toEqual([1_000, 2_000, 3_000, 3_000, 1_000, 2_000]);
  });
});

describe('S13: the edit log', () => {
  const editKeys = (pd: PartnerDoc, kind: 'leads' | 'deals') =>
    keysOf(pd, kind).filter((key) => key.includes('/edit/'));

  it('S13: two devices set one field at the same time: after exchanging updates both show the same value and the same "also set" line', () => {
    const [phone, laptop] = pairWith({
      deals: [dealFixture({ id: 'D1', amount: 3_000_000_00 })],
      leads: [leadFixture({ id: 'L1', company: 'Ganga Looms' })],
    });
    // Offline, from the same amount: Priya on her phone, Ravi on the laptop.
    updateDeal(phone, 'D1', { amount: 4_20_000_00, updatedAt: T0 + 10 * HOUR + 14 * 60_000 }, 'p1-priya');
    updateDeal(laptop, 'D1', { amount: 5_00_000_00, updatedAt: T0 + 10 * HOUR + 20 * 60_000 }, 'p1-ravi');
    updateLead(phone, 'L1', { company: 'Ganga Looms Pvt Ltd' }, { by: 'p1-priya', at: T0 + HOUR });
    updateLead(laptop, 'L1', { company: 'Ganga Looms & Sons' }, { by: 'p1-ravi', at: T0 + 2 * HOUR });
    send(phone, laptop);
    send(laptop, phone);

    expectSameRecords(phone, laptop);
    // The higher client id won (S3); the loser's value is still there, on both.
    expect(readDeal(phone, 'D1')?.amount).toBe(5_00_000_00);
    expect(readAlsoSet(phone, 'deal', 'D1')).toEqual([
      { field: 'amount', value: 4_20_000_00, by: 'p1-priya', at: T0 + 10 * HOUR + 14 * 60_000 },
    ]);
    expect(readAlsoSet(laptop, 'deal', 'D1')).toEqual(readAlsoSet(phone, 'deal', 'D1'));
    expect(readLead(laptop, 'L1')?.company).toBe('Ganga Looms & Sons');
    expect(readAlsoSet(laptop, 'lead', 'L1')).toEqual([
      { field: 'company', value: 'Ganga Looms Pvt Ltd', by: 'p1-priya', at: T0 + HOUR },
    ]);
    expect(readAlsoSet(phone, 'lead', 'L1')).toEqual(readAlsoSet(laptop, 'lead', 'L1'));
  });

  it('S13: an edit made after seeing the other is no conflict, and an edit made from the winner hides one', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1', title: 'Licence' })] });
    updateDeal(a, 'D1', { title: 'Licence 2027', updatedAt: T0 + HOUR }, 'p1-r1');
    send(a, b);
    updateDeal(b, 'D1', { title: 'Licence 2027-28', updatedAt: T0 + 2 * HOUR }, 'p1-r2');
    syncAll(a, b);
    expect(readAlsoSet(a, 'deal', 'D1')).toEqual([]);

    // A conflict, shown...
    updateDeal(a, 'D1', { title: 'From A', updatedAt: T0 + 3 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { title: 'From B', updatedAt: T0 + 3 * HOUR }, 'p1-r2');
    syncAll(a, b);
    expect(readAlsoSet(a, 'deal', 'D1')).toEqual([
      { field: 'title', value: 'From A', by: 'p1-r1', at: T0 + 3 * HOUR },
    ]);
    // ...until someone who saw the winner sets the field again.
    updateDeal(a, 'D1', { title: 'Settled', updatedAt: T0 + 4 * HOUR }, 'p1-r1');
    syncAll(a, b);
    expect([readAlsoSet(a, 'deal', 'D1'), readAlsoSet(b, 'deal', 'D1')]).toEqual([[], []]);
  });

  it('S13: a value set, reverted by someone who saw it, then changed concurrently with another, is no loser', () => {
    const [a, b] = pairWith({ leads: [leadFixture({ id: 'L1', company: 'Alpha' })] });
    updateLead(a, 'L1', { company: 'Beta' }, { by: 'p1-r1', at: T0 + HOUR });
    send(a, b);
    updateLead(b, 'L1', { company: 'Alpha' }, { by: 'p1-r2', at: T0 + 2 * HOUR });
    syncAll(a, b);
    updateLead(a, 'L1', { company: 'Gamma' }, { by: 'p1-r1', at: T0 + 3 * HOUR });
    syncAll(a, b);
    expect(readAlsoSet(b, 'lead', 'L1')).toEqual([]);
  });

  it('S13: the log keeps the last EDIT_LOG_LIMIT entries of a record, the same ones on every replica', () => {
    const [a, b] = pairWith({ deals: [dealFixture({ id: 'D1' })] });
    for (let n = 1; n <= EDIT_LOG_LIMIT + 4; n++)
      updateDeal(a, 'D1', { title: `Title ${n}`, updatedAt: T0 + n * HOUR }, 'p1-r1');
    expect(editKeys(a, 'deals')).toHaveLength(EDIT_LOG_LIMIT);
    expect(editKeys(a, 'deals')).not.toContain(editKey('D1', T0 + HOUR, 'p1-r1', 'title'));
    // Both replicas trim at once, each by its own view; the union of what they removed goes.
    send(a, b);
    updateDeal(a, 'D1', { amount: 7_00, updatedAt: T0 + 100 * HOUR }, 'p1-r1');
    updateDeal(b, 'D1', { amount: 9_00, updatedAt: T0 + 101 * HOUR }, 'p1-r2');
    syncAll(a, b);
    expect(editKeys(a, 'deals')).toEqual(editKeys(b, 'deals'));
    // Both removed the same oldest entry and each added one: one over, until the next write.
    expect(editKeys(a, 'deals')).toHaveLength(EDIT_LOG_LIMIT + 1);
    expect(editKeys(a, 'deals')).toContain(editKey('D1', T0 + 101 * HOUR, 'p1-r2', 'amount'));
    expectSameRecords(a, b);
    expect(readAlsoSet(a, 'deal', 'D1')).toEqual(readAlsoSet(b, 'deal', 'D1'));
    expect(readAlsoSet(a, 'deal', 'D1').map((line) => line.field)).toEqual(['amount']);
    updateDeal(b, 'D1', { title: 'Last', updatedAt: T0 + 102 * HOUR }, 'p1-r2');
    expect(editKeys(b, 'deals')).toHaveLength(EDIT_LOG_LIMIT);
  });

  it('S13 (S9): entries of a foreign writer are checked — malformed ones are ignored, a value invalid for its field is not shown', () => {
    const [a] = pairWith({ deals: [dealFixture({ id: 'D1', amount: 100_00 })] });
    updateDeal(a, 'D1', { amount: 200_00, updatedAt: T0 + HOUR }, 'p1-r2');
    const map = a.doc.getMap('deals');
    a.doc.transact(() => {
      // A "concurrent" negative amount, an object value, a stage "edit", garbage.
      map.set(
        editKey('D1', T0 + HOUR, 'p1-x', 'amount'),
        encodeStored({ field: 'amount', value: -5, base: 100_00, at: T0 + HOUR, by: 'p1-x' }),
      );
      map.set(
        editKey('D1', T0 + HOUR, 'p1-y', 'amount'),
        encodeStored({ field: 'amount', value: { $: 1 }, base: 100_00, at: T0 + HOUR, by: 'p1-y' }),
      );
      map.set(
        editKey('D1', T0 + HOUR, 'p1-z', 'stage'),
        encodeStored({ field: 'stage', value: 'won', base: 'prospecting', at: T0 + HOUR, by: 'p1-z' }),
      );
      map.set(editKey('D1', T0 + HOUR, 'p1-w', 'amount'), 'not json');
      map.set(
        editKey('D1', Number.NaN, 'p1-v', 'amount'),
        encodeStored({ field: 'amount', value: 1_00, base: 100_00, at: null, by: 'p1-v' }),
      );
      // A valid one, which does lose.
      map.set(
        editKey('D1', T0 + HOUR, 'p1-u', 'amount'),
        encodeStored({ field: 'amount', value: 150_00, base: 100_00, at: T0 + HOUR, by: 'p1-u' }),
      );
    }, REMOTE);
    expect(readAlsoSet(a, 'deal', 'D1')).toEqual([
      { field: 'amount', value: 150_00, by: 'p1-u', at: T0 + HOUR },
    ]);
    expect(recordProblems(a, 'deal', 'D1')).toEqual([]);
    expect(readDeal(a, 'D1')?.amount).toBe(200_00);
  });

  it('S13: records written without the log (before it existed, or without who and when) show nothing', () => {
    const [a, b] = pairWith({ leads: [leadFixture({ id: 'L1' })] });
    updateLead(a, 'L1', { company: 'One' });
    updateLead(b, 'L1', { company: 'Two' });
    syncAll(a, b);
    expect(readAlsoSet(a, 'lead', 'L1')).toEqual([]);
    expect(editKeys(a, 'leads')).toEqual([]);
  });
});
