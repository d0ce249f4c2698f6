/**
 * The state of a record page's actions (qualify, move stage, save the form…): one at a time, the
 * errors of the last one by field, and a confirmation when it worked.
 */
import type { FieldErrors } from './forms';

/**
 * An action shows as busy (its controls disabled) only once it has taken this long. A save on the
 * device is done in a few milliseconds: disabling and re-enabling every control around it would
 * flash them and re-render the page twice for nothing (and a render queued between the change and
 * its commit delays the moment the page hears of the commit). A second action while one runs is
 * refused either way.
 */
export const SHOW_BUSY_AFTER_MS = 150;

export class PageAction {
  /** Whether the running action has taken long enough to show (controls disabled). */
  busy = $state(false);
  errors = $state<FieldErrors>({});
  /** The confirmation of the last action that worked ('' when none or when it failed). */
  done = $state('');
  private running = false;

  /** Runs an action that returns its errors by field (none when it worked); false when refused or failed. */
  async run(action: () => Promise<FieldErrors>, confirmation: string): Promise<boolean> {
    if (this.running) return false;
    this.running = true;
    const showBusy = setTimeout(() => (this.busy = true), SHOW_BUSY_AFTER_MS);
    try {
      this.errors = await action();
    } finally {
      clearTimeout(showBusy);
      this.running = false;
      this.busy = false;
    }
    const worked = Object.keys(this.errors).length === 0;
    this.done = worked ? confirmation : '';
    return worked;
  }

  /**
   * An action the person confirms first and after which the page is left (a delete, then back to
   * the list). Refused while another action runs, without asking. A failure shows its errors and
   * stays on the page: a delete that was not stored must not look done. True when it worked.
   */
  async runConfirmed(
    confirmed: () => boolean,
    action: () => Promise<FieldErrors>,
    leave: () => Promise<unknown>,
  ): Promise<boolean> {
    if (this.running || !confirmed()) return false;
    if (!(await this.run(action, ''))) return false;
    await leave();
    return true;
  }

  private created: string | undefined;

  /**
   * Saves a new record once: after a save that worked, the form is not submitted again (a double
   * tap, a second click while the record's page opens) and the id of the record made is returned
   * only to the first. Undefined when refused or when the save found errors.
   */
  async createOnce(
    save: () => Promise<{ id: string } | { errors: FieldErrors }>,
  ): Promise<string | undefined> {
    if (this.created !== undefined) return undefined;
    let id: string | undefined;
    await this.run(async () => {
      const result = await save();
      if ('errors' in result) return result.errors;
      id = result.id;
      return {};
    }, '');
    if (this.created !== undefined) return undefined;
    this.created = id;
    return id;
  }
}

/** The errors of a save that returns the record's id when it worked. */
export function errorsOfSave(result: { id: string } | { errors: FieldErrors }): FieldErrors {
  return 'errors' in result ? result.errors : {};
}
