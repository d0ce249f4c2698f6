/**
 * The server's fold (server/rollup/fold.ts): a partner's document → packed buckets → the program
 * document. The KPIs from folded buckets must be the KPIs of the records, quarantined records must
 * count nowhere (as on the device), and the partners' rollups must add up to the program's.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { Deal, Lead } from '../../../../src/lib/domain';
import { generateDemoProgram } from '../../../../src/lib/demo/generate';
import {
  buildRollup,
  computeKpis,
  emptyRollup,
  mergeRollups,
  parsePeriod,
  toReport,
  type KpiQuery,
  type Rollup,
  type Scope,
} from '../../../../src/lib/kpi';
import { unpackRollup } from '../../../../src/lib/kpi/packed';
import {
  createRecords,
  deleteRecord,
  openPartnerDoc,
  readDeal,
  recordProblems,
  updateDeal,
  updateLead,
  type PartnerDoc,
} from '../../../../src/lib/sync/partner-doc';
import { initProgram, openProgramDoc, readRollups, readTotals } from '../../../../src/lib/sync/program-doc';
import { PartnerFold, foldPartner, writePartnerRollup } from '../../../../server/rollup/fold';
import { referenceReport } from '../../../factories/reference-kpis';

const demo = generateDemoProgram({ seed: 5, end: '2026-07-01', months: 9, leadsPerRepMonth: 4 });
const tz = demo.program.timeZone;
const PERIODS = [
  { from: '2025-10-01', to: '2026-07-01', tz },
  { from: '2026-04-01', to: '2026-07-01', tz },
  { from: '2026-06-10', to: '2026-06-20', tz },
];

function partnerDocOf(
  partnerId: string,
  leads: readonly Lead[] = demo.leads,
  deals: readonly Deal[] = demo.deals,
): PartnerDoc {
  const pd = openPartnerDoc();
  createRecords(
    pd,
    {
      leads: leads.filter((lead) => lead.partnerId === partnerId),
      deals: deals.filter((deal) => deal.partnerId === partnerId),
    },
    'seed',
  );
  return pd;
}

function query(period: (typeof PERIODS)[number], scope: Scope, channel?: KpiQuery['channel']): KpiQuery {
  const parsed = parsePeriod(period);
  if (!parsed.ok) throw new Error(`bad period ${period.from}`);
  return { range: parsed.range, scope, ...(channel ? { channel } : {}) };
}

const folded = (doc: Y.Doc): Rollup => unpackRollup(tz, foldPartner(doc, tz));

describe('foldPartner', () => {
  it('gives buckets whose KPIs are the KPIs of the partner’s records', () => {
    const partner = demo.partners[0]!;
    const pd = partnerDocOf(partner.id);
    const leads = demo.leads.filter((lead) => lead.partnerId === partner.id);
    const deals = demo.deals.filter((deal) => deal.partnerId === partner.id);
    const fromBuckets = folded(pd.doc);
    const fromRecords = buildRollup(tz, leads, deals);
    const rep = demo.reps.find((one) => one.partnerId === partner.id)!;
    for (const period of PERIODS) {
      for (const scope of [
        { kind: 'partner', id: partner.id } as const,
        { kind: 'rep', id: rep.id } as const,
      ]) {
        for (const channel of [undefined, 'referral'] as const) {
          const figures = computeKpis(fromBuckets, query(period, scope, channel));
          expect(figures).toEqual(computeKpis(fromRecords, query(period, scope, channel)));
          // And the spec's naive reference, straight from the records, agrees with both.
          expect(toReport(figures, period, demo.program.currency)).toEqual(
            referenceReport(leads, deals, {
              period,
              scope,
              currency: demo.program.currency,
              ...(channel ? { channel } : {}),
            }),
          );
        }
      }
    }
    expect(computeKpis(fromBuckets, query(PERIODS[0]!, { kind: 'all' })).dealCount).toBeGreaterThan(0);
  });

  it('leaves quarantined records out, exactly as if they were deleted', () => {
    const partner = demo.partners[1]!;
    const pd = partnerDocOf(partner.id);
    const before = folded(pd.doc);
    const won = demo.deals.find(
      (deal) => deal.partnerId === partner.id && deal.stage === 'won' && deal.leadId !== undefined,
    )!;
    const lead = demo.leads.find((one) => one.partnerId === partner.id)!;
    // A foreign writer's records that do not validate: a negative amount, a lead with no company.
    pd.doc.transact(() => {
      pd.maps.deal.set('BAD-D1', JSON.stringify({ ...won, id: 'BAD-D1', amount: -500, stageLog: undefined }));
      pd.maps.lead.set('BAD-L1', JSON.stringify({ ...lead, id: 'BAD-L1', company: '' }));
    }, 'foreign');
    expect(recordProblems(pd, 'deal', 'BAD-D1').length).toBeGreaterThan(0);
    expect(recordProblems(pd, 'lead', 'BAD-L1').length).toBeGreaterThan(0);
    const after = folded(pd.doc);
    for (const period of PERIODS)
      expect(computeKpis(after, query(period, { kind: 'all' }))).toEqual(
        computeKpis(before, query(period, { kind: 'all' })),
      );

    // Quarantining a valid won deal takes it, and its lead's conversion, out of the figures.
    const deals = demo.deals.filter((deal) => deal.partnerId === partner.id);
    const withoutWon = buildRollup(
      tz,
      demo.leads.filter((one) => one.partnerId === partner.id),
      deals.map((deal) => (deal.id === won.id ? { ...deal, deletedAt: 0 } : deal)),
    );
    pd.doc.transact(() => pd.maps.deal.set(`${won.id}/amount`, -1), 'foreign');
    expect(recordProblems(pd, 'deal', won.id).map((problem) => problem.field)).toContain('amount');
    const quarantined = folded(pd.doc);
    expect(computeKpis(quarantined, query(PERIODS[0]!, { kind: 'all' }))).toEqual(
      computeKpis(withoutWon, query(PERIODS[0]!, { kind: 'all' })),
    );
    expect(computeKpis(quarantined, query(PERIODS[0]!, { kind: 'all' })).dealCount).toBe(
      computeKpis(before, query(PERIODS[0]!, { kind: 'all' })).dealCount - 1,
    );
  });

  it('is a pure function of the document: it writes nothing and gives the same buckets twice', () => {
    const pd = partnerDocOf(demo.partners[2]!.id);
    let updates = 0;
    pd.doc.on('update', () => updates++);
    const first = foldPartner(pd.doc, tz);
    expect(foldPartner(pd.doc, tz)).toEqual(first);
    expect(updates).toBe(0);
  });
});

describe('partners’ rollups add up to the program’s', () => {
  it('merging every partner’s folded rollup, in any order, gives the KPIs of one rollup of all records', () => {
    const perPartner = demo.partners.map((partner) => folded(partnerDocOf(partner.id).doc));
    const whole = buildRollup(tz, demo.leads, demo.deals);
    const merged = mergeRollups(...perPartner);
    const reversed = mergeRollups(emptyRollup(tz), ...[...perPartner].reverse());
    for (const period of PERIODS) {
      for (const scope of [
        { kind: 'all' } as const,
        { kind: 'partner', id: demo.partners[3]!.id } as const,
      ]) {
        for (const channel of [undefined, 'paid'] as const) {
          const expected = computeKpis(whole, query(period, scope, channel));
          expect(computeKpis(merged, query(period, scope, channel))).toEqual(expected);
          expect(computeKpis(reversed, query(period, scope, channel))).toEqual(expected);
        }
      }
    }
    // The program-wide figures need every partner: quality scores list them all.
    expect(
      computeKpis(merged, query(PERIODS[0]!, { kind: 'all' }))
        .qualityScores.map((score) => score.id)
        .sort(),
    ).toEqual(demo.partners.map((partner) => partner.id).sort());
  });

  it('through the program document: writePartnerRollup, readRollups (by month) and readTotals (by day)', () => {
    const programDoc = openProgramDoc();
    initProgram(programDoc, { program: demo.program, partners: demo.partners, reps: demo.reps, staff: [] });
    demo.partners.forEach((partner, i) =>
      writePartnerRollup(programDoc, partner.id, foldPartner(partnerDocOf(partner.id).doc, tz), demo.now - i),
    );
    // The vendor's device: a replica of the program doc only.
    const vendor = new Y.Doc();
    Y.applyUpdate(vendor, Y.encodeStateAsUpdate(programDoc.doc));
    const rollups = readRollups(openProgramDoc(vendor));
    expect([...rollups.keys()].sort()).toEqual(demo.partners.map((partner) => partner.id).sort());
    expect(rollups.get(demo.partners[1]!.id)!.lastSyncAt).toBe(demo.now - 1);
    const merged = mergeRollups(...[...rollups.values()].map((entry) => entry.rollup));
    const everything = buildRollup(tz, demo.leads, demo.deals);
    const totals = readTotals(openProgramDoc(vendor));
    if (!('rollup' in totals)) throw new Error(totals.problem);
    for (const period of PERIODS) {
      const expected = computeKpis(everything, query(period, { kind: 'all' }));
      // Partners by month: exact for whole months (the first two periods).
      if (period.from.endsWith('-01') && period.to.endsWith('-01'))
        expect(computeKpis(merged, query(period, { kind: 'all' }))).toEqual(expected);
      // The program's totals by day: exact for any period (without partners to rank).
      const {
        qualityScores: _programScores,
        needsAttention: _programAttention,
        ...program
      } = computeKpis(totals.rollup, query(period, { kind: 'all' }));
      const { qualityScores: _scores, needsAttention: _attention, ...expectedProgram } = expected;
      expect(program).toEqual(expectedProgram);
    }
  });
});

describe('PartnerFold', () => {
  it('kept current through edits, equals a fold made afresh', () => {
    const partner = demo.partners[1]!;
    const pd = partnerDocOf(partner.id);
    const fold = PartnerFold.of(pd.doc, tz);
    const deals = demo.deals.filter((deal) => deal.partnerId === partner.id);
    const open = deals.filter((deal) => deal.closedAt === undefined).slice(0, 3);
    expect(open.length).toBe(3);
    const at = Date.UTC(2026, 5, 20);
    updateDeal(pd, open[0]!.id, { stage: 'won', updatedAt: at }, 'tester');
    updateDeal(pd, open[1]!.id, { amount: open[1]!.amount * 2, updatedAt: at }, 'tester');
    deleteRecord(pd, 'deal', open[2]!.id, at);
    const lead = demo.leads.find((one) => one.partnerId === partner.id)!;
    updateLead(pd, lead.id, { channel: lead.channel === 'referral' ? 'paid' : 'referral' });
    expect(readDeal(pd, open[0]!.id)!.stage).toBe('won');
    const kept = unpackRollup(tz, fold.series());
    const fresh = folded(pd.doc);
    for (const period of PERIODS) {
      expect(computeKpis(kept, query(period, { kind: 'partner', id: partner.id }))).toEqual(
        computeKpis(fresh, query(period, { kind: 'partner', id: partner.id })),
      );
    }
    fold.close();
  });

  it('counts a record edited many times once, when the buckets are read, not at each edit', () => {
    const partner = demo.partners[1]!;
    const pd = partnerDocOf(partner.id);
    const fold = PartnerFold.of(pd.doc, tz);
    const deal = demo.deals.find((one) => one.partnerId === partner.id && one.closedAt === undefined)!;
    const at = Date.UTC(2026, 5, 20);
    for (let edit = 1; edit <= 10; edit++)
      updateDeal(pd, deal.id, { amount: deal.amount + edit, updatedAt: at + edit }, 'tester');
    expect(fold.waiting).toBe(1);
    const kept = unpackRollup(tz, fold.series());
    expect(fold.waiting).toBe(0);
    const fresh = folded(pd.doc);
    for (const period of PERIODS) {
      expect(computeKpis(kept, query(period, { kind: 'partner', id: partner.id }))).toEqual(
        computeKpis(fresh, query(period, { kind: 'partner', id: partner.id })),
      );
    }
    fold.close();
  });

  it('built a slice at a time, with edits arriving between slices, equals a fold made afresh', async () => {
    const partner = demo.partners[2]!;
    const pd = partnerDocOf(partner.id);
    const deals = demo.deals.filter((deal) => deal.partnerId === partner.id && deal.closedAt === undefined);
    const leads = demo.leads.filter((lead) => lead.partnerId === partner.id);
    expect(leads.length).toBeGreaterThan(100);
    const at = Date.UTC(2026, 5, 20);
    // Between slices, as other sockets' edits would: records already read, and not yet read, change.
    const edits = [
      () => updateDeal(pd, deals.at(-1)!.id, { stage: 'won', updatedAt: at }, 'tester'),
      () => updateLead(pd, leads[0]!.id, { channel: leads[0]!.channel === 'referral' ? 'paid' : 'referral' }),
      () => deleteRecord(pd, 'deal', deals[0]!.id, at),
    ];
    let slices = 0;
    const fold = await PartnerFold.build(pd.doc, tz, {
      slice: 50,
      between: async () => {
        slices++;
        edits.shift()?.();
      },
    });
    expect(slices).toBeGreaterThanOrEqual(2);
    updateDeal(pd, deals[1]!.id, { amount: deals[1]!.amount * 2, updatedAt: at }, 'tester');
    const kept = unpackRollup(tz, fold.series());
    const fresh = folded(pd.doc);
    for (const period of PERIODS) {
      expect(computeKpis(kept, query(period, { kind: 'partner', id: partner.id }))).toEqual(
        computeKpis(fresh, query(period, { kind: 'partner', id: partner.id })),
      );
    }
    fold.close();
  });

  it("R10: quarantines a record that names another partner, and folds the partner's own records all the same", () => {
    const [partner, competitor] = [demo.partners[0]!, demo.partners[1]!];
    const own = demo.deals.filter((deal) => deal.partnerId === partner.id);
    const strays = demo.deals
      .filter((deal) => deal.partnerId === competitor.id && deal.stage === 'won')
      .slice(0, 3);
    expect(strays).toHaveLength(3);
    // A rep's phone wrote three of the competitor's deals into its own partner's room.
    const pd = openPartnerDoc();
    createRecords(
      pd,
      { leads: demo.leads.filter((lead) => lead.partnerId === partner.id), deals: [...own, ...strays] },
      'seed',
    );
    const series = foldPartner(pd.doc, tz, partner.id);
    expect(new Set(series.map((one) => one.partnerId))).toEqual(new Set([partner.id]));
    const kept = unpackRollup(tz, series);
    const fresh = buildRollup(
      tz,
      demo.leads.filter((lead) => lead.partnerId === partner.id),
      own,
    );
    for (const period of PERIODS) {
      expect(computeKpis(kept, query(period, { kind: 'partner', id: partner.id }))).toEqual(
        computeKpis(fresh, query(period, { kind: 'partner', id: partner.id })),
      );
    }
  });
});
