import { describe, expect, it } from 'vitest';
import { runKpiCommand } from '../../../src/lib/cli/kpi-command';
import { exportDealsCsv, exportLeadsCsv } from '../../../src/lib/csv/interchange';
import { generateDemoProgram } from '../../../src/lib/demo/generate';

const LEAD_HEADER =
  'id,partner_id,rep_id,created_at,channel,status,company,contact_name,phone,email,qualified_at';
const DEAL_HEADER =
  'id,partner_id,rep_id,lead_id,title,channel,amount,currency,stage,probability,created_at,expected_close_at,closed_at,lost_reason';

/** The spec's example: deals of 200 and 400 won in the period, one lost. */
const files: Record<string, string> = {
  'leads.csv': `${LEAD_HEADER}\nL1,p1,r1,2026-01-03T10:00:00+05:30,referral,converted,Acme,Asha,,,\nL2,p1,r1,2026-01-04T10:00:00+05:30,paid,new,Beta,Ravi,,,\n`,
  'deals.csv': [
    DEAL_HEADER,
    'D1,p1,r1,L1,Licence,referral,200,INR,won,100,2026-01-05T10:00:00+05:30,,2026-01-15T10:00:00+05:30,',
    'D2,p1,r1,,Renewal,paid,400,INR,won,100,2026-01-01T10:00:00+05:30,,2026-01-16T10:00:00+05:30,',
    'D3,p1,r1,,Upsell,paid,50,INR,lost,0,2026-01-02T10:00:00+05:30,,2026-01-20T10:00:00+05:30,competitor',
  ].join('\n'),
  'bad-deals.csv': `${DEAL_HEADER}\nD1,p1,r1,,Licence,paid,-200,INR,won,100,2026-01-05T10:00:00+05:30,,2026-01-15T10:00:00+05:30,\n`,
};
const readText = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
};
const args = (overrides: Record<string, string> = {}) =>
  Object.entries({
    leads: 'leads.csv',
    deals: 'deals.csv',
    from: '2026-01-01',
    to: '2026-02-01',
    tz: 'Asia/Kolkata',
    scope: 'all',
    ...overrides,
  }).flatMap(([key, value]) => [`--${key}`, value]);

describe('kpi command', () => {
  it('prints the spec report as JSON, money in major units, every key present', () => {
    const result = runKpiCommand(args(), readText);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual([
      'period',
      'scope',
      'averageDealSize',
      'dealCount',
      'lostCount',
      'pipeline',
      'channels',
      'closeRate',
      'closeRateByMonth',
      'averageCycleDays',
      'dealVelocity',
      'qualityScores',
      'dealSuccess',
      'prospects',
      'converted',
      'needsAttention',
    ]);
    expect(report).toMatchObject({
      period: { from: '2026-01-01', to: '2026-02-01', tz: 'Asia/Kolkata' },
      scope: 'all',
      averageDealSize: 300,
      dealCount: 2,
      lostCount: 1,
      prospects: 4,
      converted: 2,
      closeRate: 0.5,
      dealSuccess: 0.6667,
      pipeline: { count: 0, value: 0, weighted: 0, overdue: 0, lostToCompetitor: 1 },
      qualityScores: [{ id: 'p1', score: 84.15, won: 2, revenue: 600, winRate: 0.6667, winLow: 0.2077 }],
      closeRateByMonth: [{ month: '2026-01', prospects: 4, converted: 2, closeRate: 0.5 }],
      needsAttention: [],
    });
    expect(report.channels.referral).toEqual({
      prospects: 1,
      converted: 1,
      won: 1,
      lost: 0,
      revenue: 200,
      closeRate: 1,
      winRate: 1,
      averageDealSize: 200,
      revenueShare: 0.3333,
    });
  });

  it('prints a table for a person with --format table', () => {
    const result = runKpiCommand([...args(), '--format', 'table'], readText);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Average deal size\s+300/);
    expect(result.stdout).toMatch(/Quality score ranking/);
  });

  it.each([
    [{ from: '2026-02-30' }, /--from: "2026-02-30" is not a calendar date/],
    [{ tz: 'Mars/Olympus' }, /--tz: "Mars\/Olympus" is not an IANA time zone/],
    [{ to: '2025-12-01' }, /must end after it starts/],
    [{ leads: 'missing.csv' }, /--leads missing\.csv: no such file/],
    [{ scope: 'team:x' }, /--scope "team:x" must be all, partner:<id> or rep:<id>/],
    [{ deals: 'bad-deals.csv' }, /bad-deals\.csv:2: amount/],
  ])('refuses %o: exit 1, reasons on stderr, nothing on stdout', (overrides, reason) => {
    const result = runKpiCommand(args(overrides as Record<string, string>), readText);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(reason);
  });

  it('refuses missing and unknown options', () => {
    expect(runKpiCommand(['--leads', 'leads.csv'], readText)).toMatchObject({ code: 1, stdout: '' });
    expect(runKpiCommand([...args(), '--colour', 'red'], readText).stderr).toMatch(
      /Unknown option '--colour'/,
    );
  });

  it('says on stderr when a scope has no records, and still prints the empty report', () => {
    const result = runKpiCommand(args({ scope: 'partner:nobody' }), readText);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/no lead or deal of partner "nobody"/);
    expect(JSON.parse(result.stdout)).toMatchObject({
      averageDealSize: null,
      dealCount: 0,
      closeRate: null,
      qualityScores: [],
    });
  });

  it('flags the weak partner of the demo program', () => {
    const demo = generateDemoProgram({ seed: 11, stageLog: false });
    const demoFiles: Record<string, string> = {
      'leads.csv': exportLeadsCsv(demo.leads, demo.program.timeZone),
      'deals.csv': exportDealsCsv(demo.deals, demo.program.timeZone),
    };
    const result = runKpiCommand(
      args({ from: '2025-12-01', to: '2026-12-01' }),
      (path) => demoFiles[path] ?? '',
    );
    const report = JSON.parse(result.stdout);
    expect(report.needsAttention).toEqual(['p-lotus']);
    expect(report.qualityScores).toHaveLength(6);
  });
});
