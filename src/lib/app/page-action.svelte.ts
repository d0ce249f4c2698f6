/**
 * The state of a record page's actions (qualify, move stage, save the form…): one at a time, the
 * errors of the last one by field, and a confirmation when it worked.
 */
import type { FieldErrors } from './forms';

export class PageAction {
  busy = $state(false);
  errors = $state<FieldErrors>({});
  /** The confirmation of the last action that worked ('' when none or when it failed). */
  done = $state('');

  /** Runs an action that returns its errors by field (none when it worked). */
  async run(action: () => Promise<FieldErrors>, confirmation: string): Promise<boolean> {
    this.busy = true;
    this.done = '';
    this.errors = await action();
    this.busy = false;
    const worked = Object.keys(this.errors).length === 0;
    if (worked) this.done = confirmation;
    return worked;
  }
}

/** The errors of a save that returns the record's id when it worked. */
export function errorsOfSave(result: { id: string } | { errors: FieldErrors }): FieldErrors {
  return 'errors' in result ? result.errors : {};
}
