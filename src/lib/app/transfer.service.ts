/**
 * Settings → export and import: the partner's leads and deals as the interchange CSV files. The CSV
 * module is loaded only when used. An import is all or nothing: a bad file is refused whole, with
 * `file:line: what is wrong` for every bad line, and nothing already stored is touched.
 */
import type { Session } from './session.svelte';
import type { Deal, Lead } from '../domain/schema';

export async function exportFiles(session: Session): Promise<{ leads: string; deals: string }> {
  const { exportDealsCsv, exportLeadsCsv } = await import('../csv/interchange');
  const tz = session.program!.timeZone;
  // Quarantined records are not valid interchange records: they stay on the device until fixed.
  const strip = <T extends { problems?: unknown }>(rows: T[]): T[] => rows.filter((row) => !row.problems);
  return { leads: exportLeadsCsv(strip(session.leads), tz), deals: exportDealsCsv(strip(session.deals), tz) };
}

export interface ImportFile {
  name: string;
  text: string;
}

export async function importFiles(session: Session, files: { leads?: ImportFile; deals?: ImportFile }): Promise<{ ok: true; leads: number; deals: number } | { ok: false; errors: string[] }> {
  const { importDealsCsv, importLeadsCsv } = await import('../csv/interchange');
  const errors: string[] = [];
  let leads: Lead[] = [];
  let deals: Deal[] = [];
  if (files.leads) {
    const result = importLeadsCsv(files.leads.text, files.leads.name);
    if (result.ok) leads = result.records;
    else errors.push(...result.errors);
  }
  if (files.deals) {
    const result = importDealsCsv(files.deals.text, files.deals.name);
    if (result.ok) deals = result.records;
    else errors.push(...result.errors);
  }
  // This device holds one partner's data: records of another partner are refused, not mixed in.
  const partnerId = session.identity!.partnerId;
  const foreign = [...leads, ...deals].filter((record) => record.partnerId !== partnerId);
  if (foreign.length) errors.push(`${foreign.length} records belong to another partner (${[...new Set(foreign.map((r) => r.partnerId))].join(', ')}), not ${partnerId}`);
  if (errors.length || (!files.leads && !files.deals)) return { ok: false, errors };
  const written = await session.store!.importRecords(leads, deals, session.identity!.repId);
  if (!written.ok) {
    return { ok: false, errors: 'problems' in written ? written.problems.map((p) => `${p.field}: ${p.message}`) : [written.storageError.message] };
  }
  return { ok: true, leads: leads.length, deals: deals.length };
}

/** Offers a text as a file download. */
export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
