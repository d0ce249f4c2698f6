/** What the lead screens do: build a lead from the form, save it, move its status. */
import type { ReadySession } from '../app/session';
import type { Channel, Lead, LeadStatus } from '../domain/schema';
import { newId } from '../app/ids';
import { errorsOf, optionalText, type FieldErrors } from '../app/forms';
import { compareLeadsNewestFirst } from '../store/list-query';

export interface LeadForm {
  company: string;
  contactName: string;
  phone: string;
  email: string;
  channel: Channel | '';
  notes: string;
}

export function emptyLeadForm(): LeadForm {
  return { company: '', contactName: '', phone: '', email: '', channel: '', notes: '' };
}

export function leadToForm(lead: Lead): LeadForm {
  return {
    company: lead.company,
    contactName: lead.contactName,
    phone: lead.phone ?? '',
    email: lead.email ?? '',
    channel: lead.channel,
    notes: lead.notes ?? '',
  };
}

function formFields(form: LeadForm) {
  return {
    company: form.company,
    contactName: form.contactName,
    phone: optionalText(form.phone),
    email: optionalText(form.email),
    channel: form.channel || undefined,
    notes: optionalText(form.notes),
  };
}

/**
 * Saves a new lead, or the changes to an existing one: only the `touched` fields when given (the
 * others may have been changed meanwhile by another device). Returns its id, or the errors by field.
 */
export async function saveLead(
  session: ReadySession,
  form: LeadForm,
  existing?: Lead,
  touched?: ReadonlySet<keyof LeadForm>,
): Promise<{ id: string } | { errors: FieldErrors }> {
  const store = session.store;
  if (existing) {
    const fields = formFields(form);
    const changes = touched
      ? Object.fromEntries(Object.entries(fields).filter(([key]) => touched.has(key as keyof LeadForm)))
      : fields;
    const result = await store.updateLead(existing.id, changes as Partial<Lead>);
    return result.ok ? { id: existing.id } : { errors: errorsOf(result) };
  }
  const identity = session.identity;
  const id = newId('L');
  const result = await store.createLead({
    id,
    partnerId: identity.partnerId,
    repId: identity.repId,
    createdAt: session.now(),
    status: 'new',
    ...formFields(form),
  });
  return result.ok ? { id } : { errors: errorsOf(result) };
}

export async function setLeadStatus(
  session: ReadySession,
  lead: Lead,
  status: LeadStatus,
): Promise<FieldErrors> {
  const changes: Partial<Lead> = { status };
  if (status === 'qualified' && lead.qualifiedAt === undefined) changes.qualifiedAt = session.now();
  return errorsOf(await session.store.updateLead(lead.id, changes));
}

export async function deleteLead(session: ReadySession, lead: Lead): Promise<FieldErrors> {
  return errorsOf(await session.store.deleteLead(lead.id, session.now()));
}

export interface LeadFilter {
  search: string;
  status: LeadStatus | '';
  channel: Channel | '';
}

/** Whether the list shows a lead: not deleted, the rep's own (unless `repId` is undefined), matching the filter. */
export function leadMatcher(filter: LeadFilter, repId?: string): (lead: Lead) => boolean {
  const needle = filter.search.trim().toLocaleLowerCase();
  return (lead) =>
    lead.deletedAt === undefined &&
    (repId === undefined || lead.repId === repId) &&
    (filter.status === '' || lead.status === filter.status) &&
    (filter.channel === '' || lead.channel === filter.channel) &&
    (needle === '' ||
      `${lead.company} ${lead.contactName} ${lead.email ?? ''} ${lead.phone ?? ''}`
        .toLocaleLowerCase()
        .includes(needle));
}

/** The leads shown in the list: not deleted, matching the filter, newest first (ties by id, as the first screen reads them). */
export function filterLeads(leads: Lead[], filter: LeadFilter, repId?: string): Lead[] {
  return leads.filter(leadMatcher(filter, repId)).sort(compareLeadsNewestFirst);
}
