/**
 * Drafts of forms on the device (#13 item 8): what is typed is kept in IndexedDB as it is typed,
 * comes back when the form opens again, goes when it is saved or discarded, never puts anything
 * but text into a form, and leaves the device with everything else on sign-out.
 */
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FormDraft,
  restoreValues,
  typedValues,
  type DraftValues,
} from '../../../src/lib/app/form-draft.svelte';
import { RecordForm } from '../../../src/lib/app/record-form.svelte';
import { Session } from '../../../src/lib/app/session';
import { PartnerKpiDb } from '../../../src/lib/store/db';
import { draftKey, readDraft } from '../../../src/lib/store/drafts';

const NOW = Date.UTC(2026, 0, 10, 12);
let names = 0;
const databases: PartnerKpiDb[] = [];
afterEach(async () => {
  for (const db of databases.splice(0)) {
    db.close();
    await Dexie.delete(db.name);
  }
});

function freshDb(): PartnerKpiDb {
  const db = new PartnerKpiDb(`form-draft-test-${++names}`);
  databases.push(db);
  return db;
}

const KEY = draftKey('p1', 'r1', 'lead:new');

/** A form opened on the device: its draft read and put back (what `restore` was given, if anything). */
async function openForm(
  db: PartnerKpiDb,
  key = KEY,
): Promise<{ draft: FormDraft; restored: DraftValues | undefined }> {
  const draft = new FormDraft(db, key, () => NOW);
  let restored: DraftValues | undefined;
  await draft.load((values) => (restored = values));
  return { draft, restored };
}

describe('a form’s draft', () => {
  it('keeps what is typed and puts it back when the form opens again (another tab, Back, a reload)', async () => {
    const db = freshDb();
    const first = await openForm(db);
    expect(first.restored).toBeUndefined();
    expect(first.draft.state).toBe('none');
    await first.draft.keep({ company: 'Kaveri Handlooms', contactName: 'Meera' });
    expect(first.draft.state).toBe('kept');

    const again = await openForm(db);
    expect(again.restored).toEqual({ company: 'Kaveri Handlooms', contactName: 'Meera' });
    expect(again.draft.restored).toBe(true);
    // Another form's draft is its own.
    expect((await openForm(db, draftKey('p1', 'r1', 'deal:new'))).restored).toBeUndefined();
  });

  it('goes when saved or discarded, and when everything typed is erased', async () => {
    const db = freshDb();
    const { draft } = await openForm(db);
    await draft.keep({ company: 'Kaveri' });
    await draft.discard();
    expect(draft.state).toBe('none');
    expect(await readDraft(db, KEY)).toBeUndefined();

    await draft.keep({ company: 'Kaveri' });
    await draft.keep(undefined);
    expect(await readDraft(db, KEY)).toBeUndefined();
    expect((await openForm(db)).restored).toBeUndefined();
  });

  it('writes nothing before the stored draft is read: an empty form opening never erases it', async () => {
    const db = freshDb();
    await (await openForm(db)).draft.keep({ notes: 'Call after Diwali' });
    const opening = new FormDraft(db, KEY, () => NOW);
    await opening.keep(undefined);
    await opening.keep({ notes: '' });
    expect(await readDraft(db, KEY)).toEqual({ notes: 'Call after Diwali' });
  });

  it('puts back only text: anything else stored under the key is left out', async () => {
    const db = freshDb();
    await db.settings.put({
      key: KEY,
      value: { values: { company: 'Kaveri', amount: 5, stage: null, notes: 'x'.repeat(30_000) }, at: NOW },
    });
    expect((await openForm(db)).restored).toEqual({ company: 'Kaveri' });
    await db.settings.put({ key: KEY, value: 'not a draft' });
    expect((await openForm(db)).restored).toBeUndefined();
  });

  it('says when what is typed could not be kept, so that leaving asks first', async () => {
    const db = freshDb();
    const { draft } = await openForm(db);
    expect(draft.wouldLose({ company: 'Kaveri' })).toBe(false);
    db.close();
    await draft.keep({ company: 'Kaveri' });
    expect(draft.state).toBe('failed');
    expect(draft.wouldLose({ company: 'Kaveri' })).toBe(true);
    expect(draft.wouldLose(undefined)).toBe(false);
  });

  it('is removed from the device on sign-out, with everything else', async () => {
    const db = freshDb();
    await (await openForm(db)).draft.keep({ company: 'Kaveri' });
    const session = new Session({ db, now: () => NOW });
    await session.signOut();
    expect(await readDraft(db, KEY)).toBeUndefined();
  });
});

describe('what a form has typed', () => {
  it('of a new record: the fields that differ from the empty form; a draft goes back only into untouched fields', () => {
    const empty = { company: '', contactName: '', channel: '' };
    const form = { ...empty };
    expect(typedValues(form, empty)).toBeUndefined();
    form.company = 'Kaveri';
    expect(typedValues(form, empty)).toEqual({ company: 'Kaveri' });

    const reopened = { ...empty, contactName: 'typed while the draft was read' };
    restoreValues(reopened, empty, { company: 'Kaveri', contactName: 'Meera', unknown: 'x' });
    expect(reopened).toEqual({
      company: 'Kaveri',
      contactName: 'typed while the draft was read',
      channel: '',
    });
  });

  it('of an edit: the touched fields; put back, they are touched again, so a save writes them alone', () => {
    const editor = new RecordForm({ company: 'Ganga', phone: '', notes: '' });
    expect(editor.typed()).toBeUndefined();
    editor.form.notes = 'Call after Diwali';
    expect(editor.typed()).toEqual({ notes: 'Call after Diwali' });

    const reopened = new RecordForm({ company: 'Ganga Textiles', phone: '', notes: '' });
    reopened.form.phone = '+91 98765 43210';
    reopened.restore({ notes: 'Call after Diwali', phone: '+91 11111 11111', stage: 'won' });
    expect(reopened.form).toEqual({
      company: 'Ganga Textiles',
      phone: '+91 98765 43210',
      notes: 'Call after Diwali',
    });
    expect([...reopened.touched()].sort()).toEqual(['notes', 'phone']);
    reopened.discard();
    expect(reopened.typed()).toBeUndefined();
    expect(reopened.form.company).toBe('Ganga Textiles');
  });
});
