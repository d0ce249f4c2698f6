/** A record page's actions (src/lib/app/page-action.svelte.ts): one at a time, and a new record saved once. */
import { describe, expect, it } from 'vitest';
import { PageAction } from '../../src/lib/app/page-action.svelte';

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
