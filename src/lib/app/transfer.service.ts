/**
 * Settings → export and import: leads and deals as the interchange CSV files. The CSV module is
 * loaded only when used. An import is all or nothing: a bad file is refused whole, with
 * `file:line: what is wrong` for every bad line, and nothing already stored is touched.
 *
 * Who takes away what (the device holds the whole partner's records, contacts' names, phone
 * numbers, emails and notes included; the export is what the person's role is for):
 * - a rep: their own leads and deals (`repId` is theirs), not their colleagues';
 * - a partner manager: every record of their partner, everyone's;
 * - vendor staff: nothing. They see a partner's records read-only, to follow the program; the
 *   partner's customers and contacts are the partner's (partners are often competitors), and the
 *   vendor's own figures are the rollups, not these files.
 * Deleted records are not in files (they count nowhere); quarantined ones (a record that fails the
 * schema) are not valid interchange records and stay on the device until fixed: the screen says
 * how many.
 *
 * Import follows the same lines: a rep imports only records that are theirs (and cannot take over
 * a record of someone else's by its id), a partner manager records of the partner's people, vendor
 * staff nothing; no one another partner's. The sync server checks only the room (a partner's
 * people all write its document), so these rules are kept here.
 */
import type { Deal, Lead, Rep, Role } from '../domain/schema';
import type { DealRow, LeadRow } from '../store/db';
import type { PartnerStore } from '../store/partner-store';
import { isReadOnly } from './session/identity';
import { formatNumber } from '../ui/format';
import { m } from '../paraglide/messages';

/** The person exporting or importing: the sign-in's claims. */
export interface Holder {
  role: Role | undefined;
  partnerId: string;
  /** The person's own id: what `repId` says on their records. */
  repId: string;
}

export type ExportScope =
  | { kind: 'own' | 'team'; leads: LeadRow[]; deals: DealRow[]; people: number; withProblems: number }
  | { kind: 'none' };

/** What `who` takes away of the records on the device (see the module comment). */
export function exportScope(who: Holder, leads: readonly LeadRow[], deals: readonly DealRow[]): ExportScope {
  if (who.role === undefined || isReadOnly(who.role)) return { kind: 'none' };
  const own = who.role === 'rep';
  const mine = <T extends LeadRow | DealRow>(row: T) =>
    row.partnerId === who.partnerId && row.deletedAt === undefined && (!own || row.repId === who.repId);
  const ownedLeads = leads.filter(mine);
  const ownedDeals = deals.filter(mine);
  const valid = <T extends { problems?: unknown }>(row: T) => !row.problems;
  const scopeLeads = ownedLeads.filter(valid);
  const scopeDeals = ownedDeals.filter(valid);
  return {
    kind: own ? 'own' : 'team',
    leads: scopeLeads,
    deals: scopeDeals,
    people: new Set([...scopeLeads, ...scopeDeals].map((row) => row.repId)).size,
    withProblems: ownedLeads.length - scopeLeads.length + ownedDeals.length - scopeDeals.length,
  };
}

/** What the Settings screen says the export holds, in the interface's language: one or two sentences. */
export function exportDescription(scope: ExportScope, partnerName: string, intl: string): string[] {
  if (scope.kind === 'none') return [m.export_scope_vendor()];
  const count = (value: number) => ({ count: value, n: formatNumber(value, intl, 0) });
  const leads = m.export_leads(count(scope.leads.length));
  const deals = m.export_deals(count(scope.deals.length));
  const lines = [
    scope.kind === 'own'
      ? m.export_scope_own({ leads, deals })
      : m.export_scope_team({ ...count(scope.people), partner: partnerName, leads, deals }),
  ];
  if (scope.withProblems > 0) lines.push(m.export_with_problems(count(scope.withProblems)));
  return lines;
}

/** What export and import read of the open partner (the session's `ready` is one). */
export interface TransferSession {
  readonly role: Role | undefined;
  readonly identity: { partnerId: string; repId: string };
  readonly leads: readonly LeadRow[];
  readonly deals: readonly DealRow[];
  readonly partner: { name: string } | undefined;
  readonly directory: { reps: readonly Rep[] };
  readonly program: { timeZone: string };
  readonly store: Pick<PartnerStore, 'importRecords'>;
  readonly now: () => number;
}

function holderOf(session: TransferSession): Holder {
  return { role: session.role, partnerId: session.identity.partnerId, repId: session.identity.repId };
}

/** The two files of what this person may take away; undefined for someone who takes nothing. */
export async function exportFiles(
  session: TransferSession,
): Promise<{ leads: string; deals: string } | undefined> {
  const scope = exportScope(holderOf(session), session.leads, session.deals);
  if (scope.kind === 'none') return undefined;
  const { exportDealsCsv, exportLeadsCsv } = await import('../csv/interchange');
  const tz = session.program.timeZone;
  return { leads: exportLeadsCsv(scope.leads, tz), deals: exportDealsCsv(scope.deals, tz) };
}

export interface ImportFile {
  name: string;
  text: string;
}

/**
 * Who may import a record: a sentence (in the interface's language) saying why `who` may not, or
 * undefined. `existing` are the records on the device by id, `people` the partner's people.
 */
export function importRule(
  who: Holder,
  existing: ReadonlyMap<string, { repId: string }>,
  people: readonly Rep[],
  partnerName: string,
) {
  return (record: Lead | Deal): string | undefined => {
    if (record.partnerId !== who.partnerId)
      return m.import_other_partner({ partner: record.partnerId, own: partnerName });
    if (who.role === 'rep') {
      if (record.repId !== who.repId) return m.import_not_yours({ rep: record.repId });
      const owner = existing.get(record.id)?.repId;
      if (owner !== undefined && owner !== who.repId)
        return m.import_others_record({ id: record.id, rep: owner });
      return undefined;
    }
    if (!people.some((person) => person.id === record.repId && person.partnerId === who.partnerId)) {
      return m.import_unknown_person({ rep: record.repId, partner: partnerName });
    }
    return undefined;
  };
}

/**
 * A record of a file that has no column for some fields (an older version's): for a record
 * already on the device, those fields keep their value, rather than being cleared. (An empty cell
 * of a column the file has does clear its field, unless the importer derives that field: see
 * `given`.)
 */
export function keepAbsentFields<T extends object>(
  record: T,
  current: T | undefined,
  columns: readonly string[],
  fields: readonly string[],
): T {
  if (!current) return record;
  const kept: Record<string, unknown> = Object.fromEntries(Object.entries(record));
  for (const field of columns) {
    if (fields.includes(field)) continue;
    const value = (current as Record<string, unknown>)[field];
    if (value === undefined) delete kept[field];
    else kept[field] = value;
  }
  return kept as T;
}

/**
 * The fields that line `i` of a file gave: its columns, but for the empty cells the importer
 * filled in (a deal's `updated_at`, derived from its dates). For a record already on the device
 * those keep the device's value, as a missing column does: a derived `updatedAt` would otherwise
 * read as older than the device's copy, and the line be left out as stale.
 */
function given(result: { fields: string[]; derived: string[][] }, i: number): string[] {
  const derived = result.derived[i] ?? [];
  return result.fields.filter((field) => !derived.includes(field));
}

export async function importFiles(
  session: TransferSession,
  files: { leads?: ImportFile; deals?: ImportFile },
): Promise<{ ok: true; leads: number; deals: number; kept: number } | { ok: false; errors: string[] }> {
  if (session.role === undefined || isReadOnly(session.role))
    return { ok: false, errors: [m.import_read_only()] };
  const { importDealsCsv, importLeadsCsv, LEAD_COLUMNS, DEAL_COLUMNS } = await import('../csv/interchange');
  const who = holderOf(session);
  const partnerName = session.partner?.name ?? who.partnerId;
  const people = session.directory.reps;
  const leadsById = new Map<string, LeadRow>(session.leads.map((row) => [row.id, row]));
  const dealsById = new Map<string, DealRow>(session.deals.map((row) => [row.id, row]));
  const errors: string[] = [];
  let leads: Lead[] = [];
  let deals: Deal[] = [];
  if (files.leads) {
    const result = importLeadsCsv(files.leads.text, files.leads.name, {
      refuse: importRule(who, leadsById, people, partnerName),
    });
    if (result.ok)
      leads = result.records.map((lead, i) =>
        keepAbsentFields<Lead>(lead, leadsById.get(lead.id), LEAD_COLUMNS, given(result, i)),
      );
    else errors.push(...result.errors);
  }
  if (files.deals) {
    const result = importDealsCsv(files.deals.text, files.deals.name, {
      refuse: importRule(who, dealsById, people, partnerName),
    });
    if (result.ok)
      deals = result.records.map((deal, i) =>
        keepAbsentFields<Deal>(deal, dealsById.get(deal.id), DEAL_COLUMNS, given(result, i)),
      );
    else errors.push(...result.errors);
  }
  if (errors.length || (!files.leads && !files.deals)) return { ok: false, errors };
  const written = await session.store.importRecords(leads, deals, who.repId, session.now());
  if (!written.ok) {
    return {
      ok: false,
      errors:
        'problems' in written
          ? written.problems.map((p) => `${p.field}: ${p.message}`)
          : [written.storageError.message],
    };
  }
  // `kept`: records the device changed after the file was made, left as the device has them.
  return { ok: true, ...written.value };
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
