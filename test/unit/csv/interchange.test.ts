import { parse } from 'csv-parse/browser/esm/sync';
import { describe, expect, it } from 'vitest';
import {
  exportDealsCsv,
  exportLeadsCsv,
  formatInstant,
  importDealsCsv,
  importLeadsCsv,
  parseInstant,
} from '../../../src/lib/csv/interchange';
import { generateDemoProgram } from '../../../src/lib/demo/generate';
import type { Deal, Lead } from '../../../src/lib/domain';

const LEAD_HEADER =
  'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at';
const DEAL_HEADER =
  'id,partner_id,rep_id,lead_id,title,channel,amount,currency,stage,probability,created_at,expected_close_at,closed_at,lost_reason';
const goodLead = 'L1,p1,r1,2026-01-05T10:00:00+05:30,paid,new,Acme Ltd,Asha Rao,,asha@acme.example,';
const goodDeal =
  'D1,p1,r1,L1,Cloud,paid,12500.50,INR,won,100,2026-01-06T10:00:00+05:30,,2026-01-20T10:00:00+05:30,';

function refused<T>(result: { ok: true; records: T[] } | { ok: false; errors: string[] }): string[] {
  if (result.ok) throw new Error('expected the file to be refused');
  return result.errors;
}

describe('CSV import', () => {
  it('reads a good file, amounts into minor units and instants into epoch ms', () => {
    const leads = importLeadsCsv(`${LEAD_HEADER}\n${goodLead}\n`);
    const deals = importDealsCsv(`${DEAL_HEADER}\n${goodDeal}\n`);
    expect(leads.ok && leads.records[0]).toMatchObject({
      id: 'L1',
      createdAt: Date.parse('2026-01-05T04:30:00Z'),
      email: 'asha@acme.example',
    });
    expect(leads.ok && 'phone' in leads.records[0]!).toBe(false);
    expect(deals.ok && deals.records[0]).toMatchObject({
      amount: 1_250_050,
      probability: 100,
      closedAt: Date.parse('2026-01-20T04:30:00Z'),
      leadId: 'L1',
    });
  });

  it('handles a byte-order mark, CRLF, quotes, commas and newlines inside quotes, and any column order', () => {
    const header =
      'company,id,partner_id,rep_id,created_at,channel,status,contact_name,phone,email,qualified_at';
    const text = `\ufeff${header}\r\n"Acme, ""Global""\r\nLtd",L1,p1,r1,2026-01-05T10:00:00Z,paid,new,Asha,,,\r\n`;
    const result = importLeadsCsv(text);
    expect(result.ok && result.records[0]?.company).toBe('Acme, "Global"\r\nLtd');
  });

  it('refuses the whole file and names every bad line with its line number', () => {
    const text = [
      DEAL_HEADER,
      goodDeal,
      'D2,p1,r1,,Cloud,paid,-5,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 3: negative amount
      'D3,p1,r1,,Cloud,paid,abc,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 4: non-numeric
      'D4,p1,r1,,Cloud,tv,10,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 5: unknown channel
      'D5,p1,r1,,Cloud,paid,10,INR,won,100,2026-02-30T10:00:00Z,,2026-03-20T10:00:00Z,', // 6: impossible date
      'D6,p1,r1,,,paid,10,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 7: missing title
      'D1,p1,r1,,Cloud,paid,10,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 8: duplicate id
      'D7,p1,r1,,Cloud,paid,10,INR,proposal,50,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 9: closed date on an open deal
      'D8,p1,r1,,Cloud,paid,10,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,price', // 10: lost reason on a won deal
      'D9,p1,r1,,Cloud,paid,10.123,INR,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 11: 3 decimals
      'D10,p1,r1,,Cloud,paid,10,INR,won,100,2026-01-06 10:00,,2026-01-20T10:00:00Z,', // 12: no offset
      'D11,p1,r1,,Cloud,paid,10,INR,won,180,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 13: probability > 100
      'D12,p1,r1,,Cloud,paid,10,XXX,won,100,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,', // 14: unknown currency
      'D13,p1,r1,,Cloud,paid,10,INR,lost,0,2026-01-06T10:00:00Z,,2026-01-20T10:00:00Z,bored', // 15: unknown lost reason
      'D14,p1,r1,,Cloud,paid,10,INR,won,100', // 16: short line
    ].join('\n');
    const errors = refused(importDealsCsv(text, 'deals.csv'));
    expect(errors.map((error) => error.split(':').slice(0, 2).join(':'))).toEqual(
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map((line) => `deals.csv:${line}`),
    );
    expect(errors[0]).toMatch(/amount .*never negative/);
    expect(errors[1]).toMatch(/amount "abc" is not an amount/);
    expect(errors[2]).toMatch(/channel: Channel must be one of: paid, earned, owned, referral/);
    expect(errors[3]).toMatch(/created_at "2026-02-30T10:00:00Z" is not a real date/);
    expect(errors[4]).toMatch(/title is required/);
    expect(errors[5]).toMatch(/duplicate id "D1" \(first on line 2\)/);
    expect(errors[6]).toMatch(/closed_at: Closed date is set exactly when the deal is won or lost/);
    expect(errors[7]).toMatch(/lost_reason: Lost reason is only given for a lost deal/);
    expect(errors[8]).toMatch(/more than 2 decimals/);
    expect(errors[9]).toMatch(/with offset/);
    expect(errors[10]).toMatch(/Probability must be between 0 and 100/);
    expect(errors[11]).toMatch(/currency: Currency must be an ISO 4217 code/);
    expect(errors[12]).toMatch(/Lost reason must be one of/);
    expect(errors[13]).toMatch(/has 10 cells, the header has 14/);
  });

  it('gives the line where a record starts when a quoted cell spans lines', () => {
    const text = `${LEAD_HEADER}\nL1,p1,r1,2026-01-05T10:00:00Z,paid,new,"Multi\nline\nname",Asha,,,\nL2,p1,r1,2026-01-05T10:00:00Z,paid,sleeping,Acme,Asha,,,\n`;
    expect(refused(importLeadsCsv(text))).toEqual([
      'leads.csv:5: status: Status must be one of: new, qualified, disqualified, converted.',
    ]);
  });

  it('gives the same lines for a file with CRLF or lone CR line endings (Windows spreadsheets, Python’s csv), a quoted cell spanning lines and repeated lines included', () => {
    const bad = 'L3,p1,r1,2026-01-05T10:00:00Z,paid,sleeping,Acme,Asha,,,';
    const lines = [
      LEAD_HEADER,
      goodLead.replace('L1', 'L0'),
      bad,
      'L1,p1,r1,2026-01-05T10:00:00Z,paid,new,"Multi\nline",Asha,,,',
      bad.replace('L3', 'L4'),
      bad.replace('L3', 'L4'),
    ];
    const expected = [
      'leads.csv:3: status: Status must be one of: new, qualified, disqualified, converted.',
      'leads.csv:6: status: Status must be one of: new, qualified, disqualified, converted.',
      'leads.csv:7: status: Status must be one of: new, qualified, disqualified, converted.; duplicate id "L4" (first on line 6)',
    ];
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = `\uFEFF${lines.map((line) => line.replace('\n', eol)).join(eol)}${eol}`;
      expect(refused(importLeadsCsv(text)), JSON.stringify(eol)).toEqual(expected);
    }
  });

  it('refuses a deal closed before it was created, naming its line', () => {
    const text = `${DEAL_HEADER}\nD1,p1,r1,,Licence,paid,500.00,INR,won,100,2026-11-06T10:00:00+05:30,,2026-11-01T10:00:00+05:30,\n`;
    expect(refused(importDealsCsv(text))).toEqual([
      'deals.csv:2: closed_at: Closed date cannot be before the deal was created.',
    ]);
  });

  it('refuses a file with missing, unknown or repeated columns, naming them on line 1', () => {
    expect(refused(importLeadsCsv('id,partner_id\nL1,p1\n'))[0]).toMatch(
      /^leads\.csv:1: missing columns rep_id, created_at/,
    );
    expect(refused(importLeadsCsv(`${LEAD_HEADER},colour\n${goodLead},red\n`))[0]).toMatch(
      /^leads\.csv:1: unknown column "colour"/,
    );
    expect(refused(importLeadsCsv(''))[0]).toMatch(/^leads\.csv:1: the file is empty/);
  });

  it('refuses a malformed CSV (a broken quote) with its line', () => {
    expect(
      refused(importLeadsCsv(`${LEAD_HEADER}\n${goodLead}\nL2,p1,r1,"bad"x,paid,new,A,B,,,\n`))[0],
    ).toMatch(/^leads\.csv:3: not a valid CSV file/);
  });

  it('reports every problem of one line together', () => {
    const errors = refused(
      importLeadsCsv(`${LEAD_HEADER}\nL1,p1,r1,yesterday,tv,new,,Asha,,not-an-email,\n`),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /created_at .*; company is required but empty; channel: .*; email: Email is not an email address\./,
    );
  });
});

describe('CSV export', () => {
  const lead: Lead = {
    id: 'L1',
    partnerId: 'p1',
    repId: 'r1',
    createdAt: Date.parse('2026-01-05T04:30:00Z'),
    channel: 'paid',
    status: 'new',
    company: '=HYPERLINK("http://x")',
    contactName: '@mention',
    phone: '+91 98765 43210',
  };
  const deal: Deal = {
    id: 'D1',
    partnerId: 'p1',
    repId: 'r1',
    title: '-1 discount, "special"',
    channel: 'paid',
    amount: 1_250_050,
    currency: 'INR',
    stage: 'proposal',
    probability: 50,
    createdAt: Date.parse('2026-01-06T04:30:00Z'),
    updatedAt: Date.parse('2026-01-06T04:30:00Z'),
  };

  it('prefixes text cells that a spreadsheet would run as formulas, and writes numbers as numbers', () => {
    const leadsText = exportLeadsCsv([lead], 'Asia/Kolkata');
    expect(leadsText).toContain(`"'=HYPERLINK(""http://x"")",'@mention,'+91 98765 43210`);
    expect(leadsText).toContain('2026-01-05T10:00:00+05:30');
    const dealsText = exportDealsCsv([deal]);
    expect(dealsText.split('\n')[1]).toBe(
      `D1,p1,r1,,"'-1 discount, ""special""",paid,12500.50,INR,proposal,50,2026-01-06T04:30:00+00:00,,,,2026-01-06T04:30:00+00:00,`,
    );
  });

  it('leaves deleted records out', () => {
    expect(
      exportLeadsCsv([{ ...lead, deletedAt: lead.createdAt }])
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });

  it('export then import gives the same records (demo program, formula-like text included)', () => {
    const demo = generateDemoProgram({ seed: 3, stageLog: false });
    const leads = [...demo.leads.slice(0, 300), lead];
    const deals = [...demo.deals.slice(0, 300), deal];
    const leadsBack = importLeadsCsv(exportLeadsCsv(leads, 'America/New_York'));
    const dealsBack = importDealsCsv(exportDealsCsv(deals, 'Asia/Kolkata'));
    expect(leadsBack.ok && leadsBack.records).toEqual(leads);
    expect(dealsBack.ok && dealsBack.records).toEqual(deals);
  });
});

describe('instants in files', () => {
  it('parses offsets and writes them back in the zone given', () => {
    expect(parseInstant('2026-03-08T01:59:59.999-05:00')).toBe(Date.parse('2026-03-08T06:59:59.999Z'));
    expect(formatInstant(Date.parse('2026-03-08T07:00:00Z'), 'America/New_York')).toBe(
      '2026-03-08T03:00:00-04:00',
    );
    expect(formatInstant(Date.parse('2026-03-08T06:59:59.999Z'), 'America/New_York')).toBe(
      '2026-03-08T01:59:59.999-05:00',
    );
    expect(parseInstant('2026-13-01T00:00:00Z')).toMatch(/not a real date/);
    expect(parseInstant('2026-01-01')).toMatch(/with offset/);
  });
});

describe('every field the app holds goes out and comes back (#13 item 7)', () => {
  const base: Lead = {
    id: 'L1',
    partnerId: 'p1',
    repId: 'r1',
    createdAt: Date.parse('2026-01-05T04:30:00Z'),
    channel: 'referral',
    status: 'qualified',
    company: 'Acme Ltd',
    contactName: 'Asha Rao',
    qualifiedAt: Date.parse('2026-01-07T04:30:00Z'),
  };

  it('a lead with a 5,000-character note in Hindi, with quotes, commas and line breaks, comes back whole', () => {
    const line = 'ग्राहक ने कहा, "अगले महीने बजट आएगा"; =SUM(A1)\r\nफिर से बात करें।\n';
    const notes = line
      .repeat(Math.ceil(5000 / line.length))
      .slice(0, 5000)
      .trimEnd();
    const lead = { ...base, notes };
    const text = exportLeadsCsv([lead], 'Asia/Kolkata');
    expect(text.split('\n')[0]).toBe(`${LEAD_HEADER},notes`);
    const back = importLeadsCsv(text);
    expect(back.ok && back.records).toEqual([lead]);
    expect(back.ok && back.records[0]!.notes!.length).toBe(notes.length);
  });

  it("a deal's stage history and last change come back; the history reads as `stage instant by`, oldest first", () => {
    const deal: Deal = {
      id: 'D1',
      partnerId: 'p1',
      repId: 'r1',
      leadId: 'L1',
      title: 'Annual licence',
      channel: 'paid',
      amount: 1_250_050,
      currency: 'INR',
      stage: 'lost',
      probability: 0,
      createdAt: Date.parse('2026-01-06T04:30:00Z'),
      closedAt: Date.parse('2026-02-01T06:00:00.250Z'),
      lostReason: 'price',
      updatedAt: Date.parse('2026-02-03T09:15:00Z'),
      expectedCloseAt: Date.parse('2026-01-31T18:30:00Z'),
      stageLog: [
        { stage: 'prospecting', at: Date.parse('2026-01-06T04:30:00Z'), by: 'r1' },
        { stage: 'proposal', at: Date.parse('2026-01-20T04:30:00Z'), by: 'm1' },
        { stage: 'lost', at: Date.parse('2026-02-01T06:00:00.250Z'), by: 'r1' },
      ],
    };
    const text = exportDealsCsv([deal], 'Asia/Kolkata');
    const [header, row] = parse(text) as string[][];
    expect(header).toEqual([...DEAL_HEADER.split(','), 'updated_at', 'stage_log']);
    expect(row![header!.indexOf('updated_at')]).toBe('2026-02-03T14:45:00+05:30');
    expect(row![header!.indexOf('stage_log')]).toBe(
      'prospecting 2026-01-06T10:00:00+05:30 r1 | proposal 2026-01-20T10:00:00+05:30 m1 | lost 2026-02-01T11:30:00.250+05:30 r1',
    );
    const back = importDealsCsv(text);
    expect(back.ok && back.records).toEqual([deal]);
  });

  it('reads files of the first version (no notes, updated_at or stage_log column), and says which fields a file had', () => {
    const leads = importLeadsCsv(`${LEAD_HEADER}\n${goodLead}\n`);
    const deals = importDealsCsv(`${DEAL_HEADER}\n${goodDeal}\n`);
    expect(leads.ok && leads.fields).toEqual(LEAD_HEADER.split(',').map(camelCase));
    expect(deals.ok && deals.fields).toEqual(DEAL_HEADER.split(',').map(camelCase));
    expect(leads.ok && 'notes' in leads.records[0]!).toBe(false);
    // The last thing the line tells of the deal: its close.
    expect(deals.ok && deals.records[0]!.updatedAt).toBe(Date.parse('2026-01-20T04:30:00Z'));
    const withColumns = importLeadsCsv(`${LEAD_HEADER},notes\n${goodLead},\n`);
    expect(withColumns.ok && withColumns.fields).toContain('notes');
    // An empty updated_at on a line someone added is taken the same way.
    const added = importDealsCsv(`${DEAL_HEADER},updated_at\n${goodDeal},\n`);
    expect(added.ok && added.records[0]!.updatedAt).toBe(Date.parse('2026-01-20T04:30:00Z'));
  });

  it('refuses a stage history it cannot read, naming the line and the entry', () => {
    const header = `${DEAL_HEADER},updated_at,stage_log`;
    const text = [
      header,
      `${goodDeal},2026-01-20T10:00:00+05:30,won 2026-01-20T10:00:00+05:30 r1`,
      `${goodDeal.replace('D1', 'D2')},2026-01-20T10:00:00+05:30,prospecting 2026-01-06T10:00:00+05:30 r1 | sleeping 2026-01-07T10:00:00+05:30 r1`,
      `${goodDeal.replace('D1', 'D3')},2026-01-20T10:00:00+05:30,won 2026-01-20 r1`,
      `${goodDeal.replace('D1', 'D4')},2026-01-20T10:00:00+05:30,won r1`,
    ].join('\n');
    expect(refused(importDealsCsv(text))).toEqual([
      'deals.csv:3: stage_log entry 2 "sleeping 2026-01-07T10:00:00+05:30 r1": "sleeping" is not a stage (prospecting, qualified, proposal, negotiation, won, lost)',
      'deals.csv:4: stage_log entry 1 "won 2026-01-20 r1": "2026-01-20" is not a date and time with offset (e.g. 2026-01-15T10:30:00+05:30)',
      'deals.csv:5: stage_log entry 1 "won r1" is not "stage date-and-time by" (e.g. won 2026-02-04T10:00:00+05:30 r1)',
    ]);
  });

  it('writes amounts exactly, whatever their size, with as many decimals as the currency has', () => {
    const deal: Deal = {
      id: 'D1',
      partnerId: 'p1',
      repId: 'r1',
      title: 'T',
      channel: 'paid',
      amount: Number.MAX_SAFE_INTEGER,
      currency: 'INR',
      stage: 'proposal',
      probability: 50,
      createdAt: 0,
      updatedAt: 0,
    };
    const cases: [Deal, string][] = [
      [deal, '90071992547409.91'],
      [{ ...deal, amount: 5 }, '0.05'],
      [{ ...deal, amount: 1234, currency: 'KWD' }, '1.234'],
      [{ ...deal, amount: 1234, currency: 'JPY' }, '1234'],
    ];
    for (const [record, cell] of cases) {
      const text = exportDealsCsv([record]);
      expect(text.split('\n')[1]!.split(',')[6]).toBe(cell);
      const back = importDealsCsv(text);
      expect(back.ok && back.records).toEqual([record]);
    }
    // Files of older versions wrote two decimals for KWD too: still read.
    expect(importDealsCsv(`${DEAL_HEADER}\n${goodDeal.replace(',INR,', ',KWD,')}\n`).ok).toBe(true);
  });

  it("refuses a line its importer's own rule refuses, and with it the whole file", () => {
    const text = `${LEAD_HEADER}\n${goodLead}\n${goodLead.replace('L1', 'L2').replace(',r1,', ',r2,')}\n`;
    const refuse = (lead: Lead) =>
      lead.repId === 'r1' ? undefined : `rep_id "${lead.repId}" is someone else`;
    expect(refused(importLeadsCsv(text, 'leads.csv', { refuse }))).toEqual([
      'leads.csv:3: rep_id "r2" is someone else',
    ]);
  });
});

function camelCase(column: string): string {
  return column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
