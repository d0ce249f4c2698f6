/**
 * Settings → export and import by role (#13 item 7): a rep takes away their own leads and deals, a
 * partner manager the whole partner's, vendor staff nothing; import follows the same lines, and a
 * file of an older version (no notes column) does not clear what the device holds.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { m } from '$lib/paraglide/messages';
import { PartnerKpiDb } from '../../../src/lib/store/db';
import { PartnerStore } from '../../../src/lib/store/partner-store';
import { getLocale, overwriteGetLocale, type Locale } from '$lib/paraglide/runtime';
import {
  exportDealsCsv,
  exportLeadsCsv,
  LEAD_SPEC_COLUMNS,
  snakeCase,
} from '../../../src/lib/csv/interchange';
import {
  exportDescription,
  exportFiles,
  exportScope,
  importFiles,
  keepAbsentFields,
  type Holder,
  type TransferSession,
} from '../../../src/lib/app/transfer.service';
import type { Deal, Lead, Rep, Role } from '../../../src/lib/domain';
import type { DealRow, LeadRow } from '../../../src/lib/store/db';
import { deal, lead } from '../../factories/records';

const appLocale = getLocale;
const speak = (locale: Locale) => overwriteGetLocale(() => locale);
afterEach(() => overwriteGetLocale(appLocale));

const person = (id: string, role: Role = 'rep'): Rep => ({
  id,
  partnerId: 'p1',
  name: id,
  role,
  createdAt: 0,
});
const PEOPLE = [person('p1-m1', 'partner_manager'), person('p1-r1'), person('p1-r2'), person('p1-r3')];

/** The records a partner's device holds: three reps', one deleted, one quarantined. */
function deviceRecords() {
  const leads: LeadRow[] = [
    lead({ id: 'L1', repId: 'p1-r1', notes: 'Call back after Diwali, "budget" approved' }),
    lead({ id: 'L2', repId: 'p1-r1', phone: '+91 98765 43210' }),
    lead({ id: 'L3', repId: 'p1-r2', email: 'ravi@example.com' }),
    lead({ id: 'L4', repId: 'p1-r1', deletedAt: 1 }),
    {
      ...lead({ id: 'L5', repId: 'p1-r1' }),
      problems: [{ field: 'company', message: 'Company is required.' }],
    },
  ];
  const deals: DealRow[] = [
    deal({ id: 'D1', repId: 'p1-r1', leadId: 'L1' }),
    deal({ id: 'D2', repId: 'p1-r3' }),
    deal({ id: 'D3', repId: 'p1-m1' }),
  ];
  return { leads, deals };
}

const rep: Holder = { role: 'rep', partnerId: 'p1', repId: 'p1-r1' };
const manager: Holder = { role: 'partner_manager', partnerId: 'p1', repId: 'p1-m1' };
const vendor: Holder = { role: 'vendor_manager', partnerId: 'p1', repId: 'v1' };

const ids = (rows: readonly { id: string }[]) => rows.map((row) => row.id);

describe('what each role exports', () => {
  it("a rep exports their own leads and deals, not a colleague's, nor deleted or quarantined ones", () => {
    const { leads, deals } = deviceRecords();
    const scope = exportScope(rep, leads, deals);
    expect(scope.kind).toBe('own');
    if (scope.kind === 'none') return;
    expect(ids(scope.leads)).toEqual(['L1', 'L2']);
    expect(ids(scope.deals)).toEqual(['D1']);
    expect(scope.withProblems).toBe(1);
  });

  it("a partner manager exports everyone's records of the partner; vendor staff nothing", () => {
    const { leads, deals } = deviceRecords();
    const scope = exportScope(manager, leads, deals);
    expect(scope.kind === 'team' && [ids(scope.leads), ids(scope.deals), scope.people]).toEqual([
      ['L1', 'L2', 'L3'],
      ['D1', 'D2', 'D3'],
      4,
    ]);
    expect(exportScope(vendor, leads, deals)).toEqual({ kind: 'none' });
    expect(exportScope({ ...rep, role: undefined }, leads, deals)).toEqual({ kind: 'none' });
  });

  it('the Settings screen says exactly what goes out, in English and Hindi', () => {
    const { leads, deals } = deviceRecords();
    speak('en');
    expect(exportDescription(exportScope(rep, leads, deals), 'Acme', 'en-IN')).toEqual([
      "Your own 2 leads and 1 deal, with your contacts' names, phone numbers, emails and notes. Your colleagues' records are not included.",
      '1 record with a problem is left out until it is fixed.',
    ]);
    expect(exportDescription(exportScope(manager, leads, deals), 'Acme', 'en-IN')).toEqual([
      "Everyone's records at Acme (4 people): 3 leads and 3 deals, with contacts' names, phone numbers, emails and notes.",
      '1 record with a problem is left out until it is fixed.',
    ]);
    expect(exportDescription({ kind: 'none' }, 'Acme', 'en-IN')[0]).toMatch(
      /^Nothing to export here: as the vendor/,
    );
    speak('hi');
    expect(exportDescription(exportScope(rep, leads.slice(0, 2), deals), 'Acme', 'hi-IN-u-nu-deva')).toEqual([
      'केवल आपकी अपनी २ लीड और १ डील, आपके संपर्कों के नाम, फ़ोन नंबर, ईमेल और नोट्स के साथ। आपके साथियों के रिकॉर्ड इसमें शामिल नहीं हैं।',
    ]);
  });
});

/** A session of `who` on a device holding `records`, with a store that keeps what is imported. */
function sessionOf(who: Holder, records = deviceRecords()) {
  const written: { leads: Lead[]; deals: Deal[] }[] = [];
  const session: TransferSession = {
    role: who.role,
    identity: { partnerId: who.partnerId, repId: who.repId },
    leads: records.leads,
    deals: records.deals,
    partner: { name: 'Acme' },
    directory: { reps: PEOPLE },
    program: { timeZone: 'Asia/Kolkata' },
    now: () => Date.UTC(2026, 2, 1),
    store: {
      importRecords: async (leads: Lead[], deals: Deal[]) => {
        written.push({ leads, deals });
        return { ok: true, value: { leads: leads.length, deals: deals.length, kept: 0 } };
      },
    },
  };
  return { session, written };
}

const file = (name: string, text: string) => ({ name, text });

describe('what each role imports', () => {
  it("a rep's own export imports back unchanged", async () => {
    const { session, written } = sessionOf(rep);
    const files = await exportFiles(session);
    expect(files?.leads.split('\n')[0]).toContain(',notes');
    const result = await importFiles(session, {
      leads: file('leads.csv', files!.leads),
      deals: file('deals.csv', files!.deals),
    });
    expect(result).toEqual({ ok: true, leads: 2, deals: 1, kept: 0 });
    const { leads, deals } = deviceRecords();
    expect(written[0]!.leads).toEqual(leads.slice(0, 2));
    expect(written[0]!.deals).toEqual(deals.slice(0, 1));
  });

  it('a line with an empty updated_at keeps the device’s updatedAt for a deal it holds', async () => {
    const device = deal({ id: 'D1', repId: 'p1-r1', leadId: 'L1', updatedAt: Date.UTC(2026, 1, 1) });
    const records = { ...deviceRecords(), deals: [device] };
    const { session, written } = sessionOf(rep, records);
    const fresh = deal({ id: 'D9', repId: 'p1-r1', createdAt: Date.UTC(2026, 0, 3) });
    const lines = exportDealsCsv([{ ...device, title: 'Renamed' }, fresh])
      .trimEnd()
      .split('\n');
    const column = lines[0]!.split(',').indexOf('updated_at');
    const blank = (line: string) =>
      line
        .split(',')
        .map((cell, i) => (i === column ? '' : cell))
        .join(',');
    const text = [lines[0], ...lines.slice(1).map(blank)].join('\n') + '\n';
    expect(await importFiles(session, { deals: file('deals.csv', text) })).toEqual({
      ok: true,
      leads: 0,
      deals: 2,
      kept: 0,
    });
    // The device's copy's time, not one derived from the line's dates (older, so it would read as stale)…
    expect(written[0]!.deals[0]).toMatchObject({
      id: 'D1',
      title: 'Renamed',
      updatedAt: Date.UTC(2026, 1, 1),
    });
    // …and a new deal's, derived from its dates.
    expect(written[0]!.deals[1]).toMatchObject({ id: 'D9', updatedAt: Date.UTC(2026, 0, 3) });
  });

  it('through a real store: an export imported after the device changed a deal keeps the change, and says so', async () => {
    const db = new PartnerKpiDb(`csv-transfer-test-${Date.now()}`);
    const store = await PartnerStore.open(db, 'program/demo/partner/p1', 'Asia/Kolkata');
    await store.ready;
    try {
      const original = deal({ id: 'D1', repId: 'p1-r1', amount: 100_00, updatedAt: Date.UTC(2026, 0, 6) });
      expect((await store.createDeal(original, 'p1-r1')).ok).toBe(true);
      const sessionNow = async (now: number): Promise<TransferSession> => ({
        ...sessionOf(rep).session,
        ...(await store.loadRows()),
        store,
        now: () => now,
      });
      const exported = (await exportFiles(await sessionNow(Date.UTC(2026, 0, 7))))!.deals;
      const changed = await store.updateDeal(
        'D1',
        { amount: 250_00, updatedAt: Date.UTC(2026, 0, 8) },
        'p1-r1',
      );
      expect(changed.ok).toBe(true);

      expect(
        await importFiles(await sessionNow(Date.UTC(2026, 0, 9)), { deals: file('deals.csv', exported) }),
      ).toEqual({
        ok: true,
        leads: 0,
        deals: 0,
        kept: 1,
      });
      expect((await store.loadRows()).deals[0]).toMatchObject({ amount: 250_00 });
      speak('en');
      expect(m.import_kept({ count: '1' })).toBe(
        '1 record was changed or deleted on this device after the file was made: it was kept as the device has it.',
      );
    } finally {
      await store.close();
      db.close();
      await Dexie.delete(db.name);
    }
  });

  it("refuses a rep's file holding another rep's records or another partner's, naming each line, and writes nothing", async () => {
    const { session, written } = sessionOf(rep);
    const { leads } = deviceRecords();
    const text = exportLeadsCsv([leads[0]!, leads[2]!, lead({ id: 'L9', partnerId: 'p2', repId: 'p1-r1' })]);
    speak('en');
    const result = await importFiles(session, { leads: file('leads.csv', text) });
    expect(result).toEqual({
      ok: false,
      errors: [
        'leads.csv:3: rep_id "p1-r2" is someone else: as a rep you import only your own leads and deals.',
        'leads.csv:4: partner_id "p2" is another partner\'s: this device holds the records of Acme only.',
      ],
    });
    expect(written).toEqual([]);
  });

  it("refuses a rep's record that would take over a colleague's by its id", async () => {
    const { session, written } = sessionOf(rep);
    const taken = deal({ id: 'D2', repId: 'p1-r1' });
    speak('en');
    const result = await importFiles(session, { deals: file('deals.csv', exportDealsCsv([taken])) });
    expect(result).toEqual({
      ok: false,
      errors: [
        "deals.csv:2: D2 is already a record of p1-r3: as a rep you cannot change someone else's records.",
      ],
    });
    expect(written).toEqual([]);
  });

  it("a partner manager imports any of the partner's people's records, not a stranger's", async () => {
    const { session, written } = sessionOf(manager);
    const files = (await exportFiles(session))!;
    expect(
      await importFiles(session, {
        leads: file('leads.csv', files.leads),
        deals: file('deals.csv', files.deals),
      }),
    ).toEqual({ ok: true, leads: 3, deals: 3, kept: 0 });
    expect(written).toHaveLength(1);
    speak('hi');
    const stranger = exportLeadsCsv([lead({ id: 'L9', repId: 'x-r9' })]);
    expect(await importFiles(session, { leads: file('leads.csv', stranger) })).toEqual({
      ok: false,
      errors: ['leads.csv:2: rep_id "x-r9" Acme में कोई नहीं है।'],
    });
    expect(written).toHaveLength(1);
  });

  it('vendor staff import nothing', async () => {
    const { session, written } = sessionOf(vendor);
    speak('en');
    expect(await exportFiles(session)).toBeUndefined();
    const text = exportLeadsCsv([lead({ id: 'L9', repId: 'p1-r1' })]);
    expect(await importFiles(session, { leads: file('leads.csv', text) })).toEqual({
      ok: false,
      errors: ['Your access is read-only: nothing can be imported.'],
    });
    expect(written).toEqual([]);
  });

  it('a file of the first version (no notes column) keeps the notes the device holds; an empty notes cell clears them', async () => {
    const { session, written } = sessionOf(rep);
    const header = LEAD_SPEC_COLUMNS.map(snakeCase).join(',');
    const oldFile = `${header}\nL1,p1,p1-r1,2026-01-10T12:00:00Z,paid,new,Acme Pvt Ltd,Asha Rao,,,\n`;
    expect(await importFiles(session, { leads: file('leads.csv', oldFile) })).toEqual({
      ok: true,
      leads: 1,
      deals: 0,
      kept: 0,
    });
    expect(written[0]!.leads[0]!.notes).toBe('Call back after Diwali, "budget" approved');
    const cleared = `${header},notes\nL1,p1,p1-r1,2026-01-10T12:00:00Z,paid,new,Acme Pvt Ltd,Asha Rao,,,,\n`;
    expect(await importFiles(session, { leads: file('leads.csv', cleared) })).toEqual({
      ok: true,
      leads: 1,
      deals: 0,
      kept: 0,
    });
    expect('notes' in written[1]!.leads[0]!).toBe(false);
  });

  it('keepAbsentFields takes from the stored record only the columns the file did not have', () => {
    const stored = lead({ id: 'L1', notes: 'kept', phone: '+91 98765 43210' });
    const fromFile = lead({ id: 'L1', company: 'New name' });
    const columns = ['company', 'phone', 'notes'];
    expect(keepAbsentFields(fromFile, stored, columns, ['company', 'phone'])).toEqual({
      ...fromFile,
      notes: 'kept',
    });
    expect(keepAbsentFields(fromFile, undefined, columns, ['company'])).toEqual(fromFile);
  });
});
