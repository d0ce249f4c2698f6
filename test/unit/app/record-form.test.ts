/** A record's edit form follows the record in the fields the person has not touched, and saves only the touched ones. */
import { describe, expect, it } from 'vitest';
import { RecordForm } from '../../../src/lib/app/record-form.svelte';

describe('RecordForm', () => {
  it('untouched fields follow another device’s edit; touched fields keep what the person typed', () => {
    const editor = new RecordForm({ company: 'Ganga', phone: '', notes: '' });
    editor.form.notes = 'Call after Diwali';
    editor.follow({ company: 'Ganga Textiles', phone: '+91 98765 43210', notes: 'old note' });
    expect(editor.form).toEqual({
      company: 'Ganga Textiles',
      phone: '+91 98765 43210',
      notes: 'Call after Diwali',
    });
    expect([...editor.touched()]).toEqual(['notes']);
  });

  it('after a save the form is the record again: nothing is touched', () => {
    const editor = new RecordForm({ amount: '4200', title: 'Laptops' });
    editor.form.amount = '4300';
    editor.reset({ amount: '4300.00', title: 'Laptops' });
    expect(editor.touched().size).toBe(0);
    editor.follow({ amount: '5000.00', title: 'Laptops' });
    expect(editor.form.amount).toBe('5000.00');
  });
});
