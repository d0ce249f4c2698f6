/**
 * The deal screens' service (#13 items 1, 9, 14): when a logged deal started, close dates that are
 * in the future, and a lead that converts once — through a real partner store over fake-indexeddb.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { getLocale, overwriteGetLocale } from '$lib/paraglide/runtime';
import { defaultStartedOn, emptyDealForm, moveStage, saveDeal, type DealForm } from '$lib/deals/deal.service';
import { dealIdFromLead } from '$lib/app/ids';
import type { ReadySession } from '$lib/app/session';
import { DEFAULT_STAGE_PROBABILITY, type Deal, type Lead, type Program } from '$lib/domain';
import { PartnerKpiDb } from '../../../src/lib/store/db';
import { PartnerStore } from '../../../src/lib/store/partner-store';
import { lead as leadOf } from '../../factories/records';

const appLocale = getLocale;
afterEach(() => overwriteGetLocale(appLocale));

const TZ = 'Asia/Kolkata';
/** 2026-01-10, 17:30 in Kolkata. */
const NOW = Date.parse('2026-01-10T17:30:00+05:30');
const noonOf = (day: string) => Date.parse(`${day}T12:00:00+05:30`);
const program: Program = {
  id: 'demo',
  name: 'Demo',
  currency: 'INR',
  timeZone: TZ,
  stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
};

let names = 0;
const databases: PartnerKpiDb[] = [];
const stores: PartnerStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

/** A rep's session over a real partner store, ready as the services take it. */
async function repSession(): Promise<{ session: ReadySession; store: PartnerStore }> {
  const db = new PartnerKpiDb(`deal-service-test-${++names}`);
  databases.push(db);
  const store = await PartnerStore.open(db, 'program/demo/partner/p1', TZ);
  await store.ready;
  stores.push(store);
  const session: ReadySession = {
    program,
    identity: { programId: 'demo', partnerId: 'p1', repId: 'r1' },
    now: () => NOW,
    store,
  };
  return { session, store };
}

const form = (changes: Partial<DealForm>): DealForm => ({
  title: 'Licence',
  amount: '100',
  channel: 'paid',
  stage: 'proposal',
  probability: '50',
  expectedClose: '',
  closedOn: '',
  lostReason: '',
  startedOn: '',
  ...changes,
});

async function saved(session: ReadySession, changes: Partial<DealForm>, lead?: Lead): Promise<Deal> {
  const result = await saveDeal(session, form(changes), undefined, lead);
  if (!('id' in result)) throw new Error(`not saved: ${JSON.stringify(result.errors)}`);
  const row = (await session.store.loadRows()).deals.find((deal) => deal.id === result.id);
  if (!row) throw new Error('no row');
  return row;
}

async function errorsOf(session: ReadySession, changes: Partial<DealForm>): Promise<Record<string, string>> {
  const result = await saveDeal(session, form(changes));
  if (!('errors' in result)) throw new Error('expected errors');
  return result.errors;
}

describe('Log a deal: when it started (#13 item 1)', () => {
  it('shows today by default, or the close date of a deal logged as won or lost when that is earlier', () => {
    expect(defaultStartedOn({ stage: 'proposal', closedOn: '' }, '2026-01-10')).toBe('2026-01-10');
    expect(defaultStartedOn({ stage: 'won', closedOn: '2026-01-03' }, '2026-01-10')).toBe('2026-01-03');
    expect(defaultStartedOn({ stage: 'lost', closedOn: '' }, '2026-01-10')).toBe('2026-01-10');
    // An open deal keeps no close date: a stale one in the form does not move the start.
    expect(defaultStartedOn({ stage: 'negotiation', closedOn: '2026-01-03' }, '2026-01-10')).toBe(
      '2026-01-10',
    );
  });

  it('creates the deal on the day the rep says it started (noon of a past day, now for today)', async () => {
    const { session } = await repSession();
    expect((await saved(session, { startedOn: '2025-12-01' })).createdAt).toBe(noonOf('2025-12-01'));
    expect((await saved(session, { startedOn: '2026-01-10' })).createdAt).toBe(NOW);
    expect((await saved(session, {})).createdAt).toBe(NOW);
  });

  it('takes last week’s win with the day it started: a cycle from that day to the close', async () => {
    const { session } = await repSession();
    const won = await saved(session, { stage: 'won', closedOn: '2026-01-03', startedOn: '2025-12-20' });
    expect(won.createdAt).toBe(noonOf('2025-12-20'));
    expect(won.closedAt).toBe(noonOf('2026-01-03'));
    expect(won.stageLog?.map((change) => change.stage)).toEqual(['won']);
    // Started and closed on one past day: a cycle of zero, never negative.
    const sameDay = await saved(session, {
      stage: 'lost',
      lostReason: 'price',
      closedOn: '2026-01-05',
      startedOn: '2026-01-05',
    });
    expect(sameDay.closedAt! - sameDay.createdAt).toBe(0);
  });

  it('refuses a start after the close date, or in the future, with a sentence naming the field', async () => {
    const { session, store } = await repSession();
    await expect(
      errorsOf(session, { stage: 'won', closedOn: '2026-01-03', startedOn: '2026-01-05' }),
    ).resolves.toEqual({
      startedOn: 'Deal started on cannot be after the close date.',
    });
    await expect(errorsOf(session, { startedOn: '2026-01-11' })).resolves.toEqual({
      startedOn: 'Deal started on cannot be in the future.',
    });
    await expect(errorsOf(session, { startedOn: '11/01/2026' })).resolves.toEqual({
      startedOn: 'Deal started on is not a date.',
    });
    overwriteGetLocale(() => 'hi');
    await expect(
      errorsOf(session, { stage: 'won', closedOn: '2026-01-03', startedOn: '2026-01-05' }),
    ).resolves.toEqual({
      startedOn: 'डील शुरू होने की तारीख समापन तारीख के बाद की नहीं हो सकती।',
    });
    expect((await store.loadRows()).deals).toEqual([]);
  });
});

describe('close dates in the future (#13 item 14)', () => {
  it('are refused when logging a deal as won or lost, not changed to today', async () => {
    const { session, store } = await repSession();
    await expect(errorsOf(session, { stage: 'won', closedOn: '2026-01-11' })).resolves.toEqual({
      closedAt: 'Close date cannot be in the future.',
    });
    overwriteGetLocale(() => 'hi');
    await expect(errorsOf(session, { stage: 'won', closedOn: '2026-01-11' })).resolves.toEqual({
      closedAt: 'समापन तारीख भविष्य की नहीं हो सकती।',
    });
    expect((await store.loadRows()).deals).toEqual([]);
  });

  it('are refused by Mark won and Mark lost; the deal stays open', async () => {
    const { session } = await repSession();
    const deal = await saved(session, {});
    await expect(moveStage(session, deal, 'won', { closedOn: '2026-01-11' })).resolves.toEqual({
      closedAt: 'Close date cannot be in the future.',
    });
    await expect(
      moveStage(session, deal, 'lost', { closedOn: '2026-02-01', lostReason: 'price' }),
    ).resolves.toEqual({ closedAt: 'Close date cannot be in the future.' });
    const row = (await session.store.loadRows()).deals.find((candidate) => candidate.id === deal.id);
    expect(row).toMatchObject({ stage: 'proposal' });
    expect(row?.closedAt).toBeUndefined();
    // Today is a close date like any past day.
    await expect(moveStage(session, deal, 'won', { closedOn: '2026-01-10' })).resolves.toEqual({});
  });

  it('are refused when editing a deal', async () => {
    const { session } = await repSession();
    const deal = await saved(session, {});
    const result = await saveDeal(
      session,
      form({ stage: 'won', closedOn: '2026-01-12' }),
      deal,
      undefined,
      new Set(['stage', 'closedOn'] as const),
    );
    expect(result).toEqual({ errors: { closedAt: 'Close date cannot be in the future.' } });
  });
});

describe('converting a lead (#13 item 9)', () => {
  async function withLead() {
    const { session, store } = await repSession();
    const lead = leadOf({
      id: 'L1',
      partnerId: 'p1',
      repId: 'r1',
      channel: 'referral',
      status: 'qualified',
      createdAt: NOW - 86_400_000,
    });
    expect((await store.createLead(lead)).ok).toBe(true);
    return { session, store, lead };
  }

  it('converts once: the same form saved again (Back after a save) is refused, in the interface’s language', async () => {
    const { session, store, lead } = await withLead();
    const first = await saveDeal(session, emptyConvertForm(session, lead), undefined, lead);
    expect('id' in first).toBe(true);
    // The page still holds the lead as it was when the form opened (not yet converted).
    const again = await saveDeal(session, emptyConvertForm(session, lead), undefined, lead);
    expect(again).toEqual({ errors: { form: 'This lead has already been converted into a deal.' } });
    const { deals, leads } = await store.loadRows();
    expect(deals.filter((deal) => deal.leadId === 'L1')).toHaveLength(1);
    expect(leads[0]).toMatchObject({ status: 'converted' });
    // A form opened once the lead is converted is refused before the store is asked.
    overwriteGetLocale(() => 'hi');
    await expect(
      saveDeal(session, emptyConvertForm(session, leads[0]!), undefined, leads[0]),
    ).resolves.toEqual({
      errors: { form: 'यह लीड पहले ही डील में बदली जा चुकी है।' },
    });
  });

  it('two devices converting one lead offline make one deal once they sync (sync SPEC S11)', async () => {
    const a = await withLead();
    const b = await repSession();
    const exchange = (from: PartnerStore, to: PartnerStore) =>
      Y.applyUpdate(
        to.partnerDoc.doc,
        Y.encodeStateAsUpdate(from.partnerDoc.doc, Y.encodeStateVector(to.partnerDoc.doc)),
        'server',
      );
    exchange(a.store, b.store);
    await b.store.settled();
    const [leadOnB] = (await b.store.loadRows()).leads;
    // Offline, each device converts the lead with a form of its own.
    const onA = await saveDeal(
      a.session,
      { ...emptyConvertForm(a.session, a.lead), amount: '42000' },
      undefined,
      a.lead,
    );
    const onB = await saveDeal(
      b.session,
      { ...emptyConvertForm(b.session, leadOnB!), amount: '50000' },
      undefined,
      leadOnB,
    );
    expect('id' in onA && 'id' in onB && onA.id === onB.id).toBe(true);
    exchange(a.store, b.store);
    exchange(b.store, a.store);
    await Promise.all([a.store.settled(), b.store.settled()]);
    const rowsA = await a.store.loadRows();
    const rowsB = await b.store.loadRows();
    for (const rows of [rowsA, rowsB]) {
      expect(rows.deals.filter((deal) => deal.leadId === 'L1' && deal.deletedAt === undefined)).toHaveLength(
        1,
      );
      expect(rows.leads[0]).toMatchObject({ status: 'converted' });
    }
    // Both show the same deal: one device's conversion, whole.
    expect(rowsA.deals[0]).toEqual(rowsB.deals[0]);
    // Amounts are kept in minor units (paise).
    expect([4_200_000, 5_000_000]).toContain(rowsA.deals[0]!.amount);
  });

  it('takes a fresh id when the lead’s own deal id belongs to a deal from elsewhere (an imported one)', async () => {
    const { session, store, lead } = await withLead();
    const imported = { ...(await saved(session, { title: 'From the CRM' })), id: dealIdFromLead('L1') };
    expect((await store.importRecords([], [imported], 'r1', NOW)).ok).toBe(true);
    const result = await saveDeal(session, emptyConvertForm(session, lead), undefined, lead);
    expect('id' in result && result.id).toMatch(/^D-[0-9a-f]{12}$/);
    const { deals, leads } = await store.loadRows();
    expect(deals.find((deal) => deal.id === dealIdFromLead('L1'))).toMatchObject({ title: 'From the CRM' });
    expect(deals.filter((deal) => deal.leadId === 'L1')).toHaveLength(1);
    expect(leads[0]).toMatchObject({ status: 'converted' });
  });

  it('refuses to convert again a lead whose deal exists though another device set its status back', async () => {
    const { session, store, lead } = await withLead();
    expect('id' in (await saveDeal(session, emptyConvertForm(session, lead), undefined, lead))).toBe(true);
    // As a concurrent "qualified" from a device that had not seen the conversion may leave it.
    expect((await store.updateLead('L1', { status: 'qualified' })).ok).toBe(true);
    const [reverted] = (await store.loadRows()).leads;
    expect(reverted).toMatchObject({ status: 'qualified' });
    expect(await saveDeal(session, emptyConvertForm(session, reverted!), undefined, reverted)).toEqual({
      errors: { form: 'This lead has already been converted into a deal.' },
    });
    expect((await store.loadRows()).deals).toHaveLength(1);
  });

  it('a double tap saves one deal', async () => {
    const { session, store, lead } = await withLead();
    const results = await Promise.all(
      [1, 2].map(() => saveDeal(session, emptyConvertForm(session, lead), undefined, lead)),
    );
    expect(results.filter((result) => 'id' in result)).toHaveLength(1);
    expect((await store.loadRows()).deals).toHaveLength(1);
  });
});

function emptyConvertForm(session: ReadySession, lead: Lead): DealForm {
  return { ...emptyDealForm(session, lead), amount: '42000' };
}
