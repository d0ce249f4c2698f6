/**
 * The sentence for a value that lost a concurrent edit of a record's field (sync SPEC S13), in the
 * interface's language: "Priya also set Amount to ₹4.2 L at 7 Jan, 10:14". Values are shown as the
 * record's own screens show them: money short (lakh, crore), dates in the program's zone, names of
 * channels, statuses and people.
 */
import type { Channel, LeadStatus } from '../domain/schema';
import { CHANNELS, LEAD_STATUSES } from '../domain/schema';
import type { AlsoSet } from '../sync/record-layout';
import { formFieldLabel } from '../app/problem-text';
import { channelName, statusName } from '../app/names';
import { formatDate, formatDateTime, formatMoneyShort } from './format';
import { m } from '../paraglide/messages';

export interface AlsoSetContext {
  /** The interface's locale (Intl) and the program's time zone. */
  locale: string;
  tz: string;
  /** The record's currency, for an amount. */
  currency?: string;
  /** A person's name from their id. */
  nameOf: (id: string) => string;
}

const DATE_FIELDS: ReadonlySet<string> = new Set(['createdAt', 'expectedCloseAt', 'qualifiedAt']);

function fieldLabel(field: string): string {
  const label = formFieldLabel(field);
  if (label) return label;
  switch (field) {
    case 'status':
      return m.status();
    case 'repId':
      return m.rep();
    case 'qualifiedAt':
      return m.also_set_field_qualified();
    case 'currency':
      return m.also_set_field_currency();
    case 'leadId':
      return m.also_set_field_lead();
    default:
      return field;
  }
}

function valueText(line: AlsoSet, context: AlsoSetContext): string {
  const { field, value } = line;
  if (field === 'amount' && typeof value === 'number' && context.currency)
    return formatMoneyShort(value, context.currency, context.locale);
  if (DATE_FIELDS.has(field) && typeof value === 'number')
    return formatDate(value, context.locale, context.tz);
  if (field === 'channel' && (CHANNELS as readonly unknown[]).includes(value))
    return channelName(value as Channel);
  if (field === 'status' && (LEAD_STATUSES as readonly unknown[]).includes(value))
    return statusName(value as LeadStatus);
  if (field === 'repId' && typeof value === 'string') return context.nameOf(value);
  return String(value);
}

export function alsoSetText(line: AlsoSet, context: AlsoSetContext): string {
  const name = context.nameOf(line.by);
  const field = fieldLabel(line.field);
  const time = formatDateTime(line.at, context.locale, context.tz);
  if (line.value === null) return m.also_set_cleared({ name, field, time });
  return m.also_set({ name, field, value: valueText(line, context), time });
}
