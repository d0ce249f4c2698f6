/**
 * A form's draft on the device (store/drafts.ts): what the person typed is written as they type,
 * and put back when they come back to the form — after another tab, Back, a reload or a closed
 * app — until they save it or discard it. The form decides what counts as typed: for a new
 * record, the fields that differ from the empty form; for an edit, the touched fields
 * (RecordForm.typed), so a draft never writes a stale value over another device's edit.
 *
 * Each change is written at once, one small IndexedDB put each: IndexedDB runs transactions on one
 * store in the order they were made, so a form opened again right after reads the last one.
 */
import type { PartnerKpiDb } from '../store/db';
import { dropDraft, keepDraft, readDraft, type DraftValues } from '../store/drafts';

export type { DraftValues } from '../store/drafts';

/** Where the draft stands: nothing kept, what is typed is on the device, or it could not be written. */
export type DraftState = 'none' | 'kept' | 'failed';

export class FormDraft {
  state = $state<DraftState>('none');
  /** The form opened with what was typed earlier. */
  restored = $state(false);
  /** The stored draft has been read (and put back): from then on, what is typed is written. */
  ready = $state(false);
  /** Counts writes, so that only the last one's outcome sets the state. */
  private generation = 0;
  /** A draft may be on the device (read, or written since): erasing everything typed removes it. */
  private stored = false;

  constructor(
    private readonly db: PartnerKpiDb,
    readonly key: string,
    private readonly now: () => number,
  ) {}

  /** Reads the stored draft once; `restore` puts its values into the form. */
  async load(restore: (values: DraftValues) => void): Promise<void> {
    try {
      const values = await readDraft(this.db, this.key);
      if (values) {
        this.stored = true;
        restore(values);
        this.restored = true;
        this.state = 'kept';
      }
    } catch {
      // The device's storage cannot be read: the form starts empty, and what is typed is tried anyway.
    }
    this.ready = true;
  }

  /**
   * Writes what is typed now; undefined (nothing typed) removes the draft. Nothing before `load`.
   * Resolves once written (or failed: the state says which); the form need not wait.
   */
  keep(values: DraftValues | undefined): Promise<void> {
    if (!this.ready || (!values && !this.stored)) return Promise.resolve();
    // Everything typed was erased: nothing earlier is shown any more.
    if (!values) this.restored = false;
    this.stored = values !== undefined;
    const generation = ++this.generation;
    const write = values ? keepDraft(this.db, this.key, values, this.now()) : dropDraft(this.db, this.key);
    return write.then(
      () => {
        if (generation === this.generation) this.state = values ? 'kept' : 'none';
      },
      () => {
        if (generation === this.generation) this.state = values ? 'failed' : 'none';
      },
    );
  }

  /** Removes the draft: saved, or discarded by the person. */
  async discard(): Promise<void> {
    this.generation++;
    this.stored = false;
    this.restored = false;
    this.state = 'none';
    try {
      await dropDraft(this.db, this.key);
    } catch {
      // Left on the device: it comes back in the form once, and can be discarded again.
    }
  }

  /** Typed text would be lost on leaving: it could not be written to the device. */
  wouldLose(typed: DraftValues | undefined): boolean {
    return typed !== undefined && this.state === 'failed';
  }
}

/** The fields of a new record's form that differ from the empty form; undefined when none does. */
export function typedValues<F extends object>(form: F, empty: F): DraftValues | undefined {
  const typed: DraftValues = {};
  for (const key of Object.keys(empty) as (keyof F & string)[]) {
    const value = form[key];
    if (typeof value === 'string' && value !== empty[key]) typed[key] = value;
  }
  return Object.keys(typed).length ? typed : undefined;
}

/**
 * Puts a draft's values into a new record's form: only its own fields, and only those still as in
 * the empty form (what was typed while the draft was being read stays).
 */
export function restoreValues<F extends object>(form: F, empty: F, values: DraftValues): void {
  for (const key of Object.keys(empty) as (keyof F & string)[]) {
    const value = values[key];
    if (value !== undefined && typeof empty[key] === 'string' && form[key] === empty[key])
      (form as Record<string, unknown>)[key] = value;
  }
}
