/**
 * Drafts: what a person typed into a form and has not saved yet, kept on the device so that
 * tapping another tab, going back or reloading loses nothing (#13 item 8). One settings row per
 * form, `draft:<partner>/<rep>/<form>`, holding the typed fields as text: no schema version was
 * needed, and signing out or clearing this device's data (which empty every table) removes them
 * with everything else. A draft is the form's text, never a record: nothing in it is counted or
 * synced, and the record's own checks run when it is saved.
 */
import type { PartnerKpiDb } from './db';

const PREFIX = 'draft:';

/** Longest text of one field kept (a lead's notes are at most 5,000 characters; a draft is no record). */
const MAX_FIELD_LENGTH = 20_000;

/** The typed fields of a form, by the form's field names. */
export type DraftValues = Record<string, string>;

interface StoredDraft {
  values: DraftValues;
  /** When it was last written (epoch ms). */
  at: number;
}

/** The settings key of one form's draft, for one person of one partner. */
export function draftKey(partnerId: string, repId: string, form: string): string {
  return `${PREFIX}${partnerId}/${repId}/${form}`;
}

/** Keeps the typed values of a form, replacing its draft. */
export async function keepDraft(
  db: PartnerKpiDb,
  key: string,
  values: DraftValues,
  at: number,
): Promise<void> {
  await db.settings.put({ key, value: { values, at } satisfies StoredDraft });
}

/**
 * The draft of a form, or undefined when there is none. Only text fields come back: a row of an
 * older app version (or anything else under the key) never puts a non-text value into a form.
 */
export async function readDraft(db: PartnerKpiDb, key: string): Promise<DraftValues | undefined> {
  const row = await db.settings.get(key);
  const stored = row?.value as Partial<StoredDraft> | undefined;
  if (typeof stored?.values !== 'object' || stored.values === null) return undefined;
  const values: DraftValues = {};
  for (const [field, value] of Object.entries(stored.values)) {
    if (typeof value === 'string' && value.length <= MAX_FIELD_LENGTH) values[field] = value;
  }
  return Object.keys(values).length ? values : undefined;
}

/** Removes a form's draft (saved, or discarded by the person). */
export async function dropDraft(db: PartnerKpiDb, key: string): Promise<void> {
  await db.settings.delete(key);
}
