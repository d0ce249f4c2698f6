/** A record page's actions (src/lib/app/page-action.svelte.ts): one at a time, and a new record saved once. */
import { describe, expect, it } from 'vitest';
import { PageAction } from '../../../src/lib/app/page-action.svelte';

describe('PageAction.createOnce (#13 item 9)', () => {
  it('saves once: a second tap while the first runs, or after it worked, saves nothing', async () => {
    const action = new PageAction();
    let saves = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const save = async () => {
      saves++;
      await held;
      return { id: `L${saves}` };
    };
    const first = action.createOnce(save);
    const second = action.createOnce(save);
    release();
    await expect(first).resolves.toBe('L1');
    await expect(second).resolves.toBeUndefined();
    await expect(action.createOnce(save)).resolves.toBeUndefined();
    expect(saves).toBe(1);
  });

  it('lets the person fix what was wrong and save again', async () => {
    const action = new PageAction();
    let attempt = 0;
    const save = async () =>
      ++attempt === 1 ? { errors: { company: 'Company is required.' } } : { id: 'L7' };
    await expect(action.createOnce(save)).resolves.toBeUndefined();
    expect(action.errors).toEqual({ company: 'Company is required.' });
    await expect(action.createOnce(save)).resolves.toBe('L7');
    expect(action.errors).toEqual({});
  });
});

describe('PageAction.runConfirmed: a record page’s delete (#14 item 5)', () => {
  it('asks first: when the person cancels, nothing is deleted and the page stays', async () => {
    const action = new PageAction();
    const done: string[] = [];
    const worked = await action.runConfirmed(
      () => false,
      async () => (done.push('deleted'), {}),
      async () => done.push('left'),
    );
    expect(worked).toBe(false);
    expect(done).toEqual([]);
  });

  it('leaves the page once the delete worked', async () => {
    const action = new PageAction();
    const done: string[] = [];
    const worked = await action.runConfirmed(
      () => true,
      async () => (done.push('deleted'), {}),
      async () => done.push('left'),
    );
    expect(worked).toBe(true);
    expect(done).toEqual(['deleted', 'left']);
  });

  it('stays on the page with the errors of a delete that failed: it must not look done', async () => {
    const action = new PageAction();
    let left = false;
    const worked = await action.runConfirmed(
      () => true,
      async () => ({ form: 'The device’s storage is full.' }),
      async () => (left = true),
    );
    expect(worked).toBe(false);
    expect(left).toBe(false);
    expect(action.errors).toEqual({ form: 'The device’s storage is full.' });
  });

  it('is refused, without asking, while another action runs', async () => {
    const action = new PageAction();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const save = action.run(async () => (await held, {}), 'Saved');
    let asked = false;
    const worked = await action.runConfirmed(
      () => (asked = true),
      async () => ({}),
      async () => undefined,
    );
    release();
    await save;
    expect(worked).toBe(false);
    expect(asked).toBe(false);
    expect(action.done).toBe('Saved');
  });
});
