/**
 * The edit form of a record that other devices may change while it is open. A field the person
 * has not touched follows the record (another device's edit arriving, a stage move on this page);
 * a touched field keeps what the person typed. A save then writes only the touched fields, so it
 * never writes a stale value back over another device's edit of another field — the form keeps the
 * document's field-level merge (sync SPEC.md S2) instead of undoing it.
 */
import { untrack } from 'svelte';

export class RecordForm<F extends object> {
  form: F = $state() as F;
  /** The record as the form last saw it. */
  private seen: F;

  constructor(initial: F) {
    this.form = { ...initial };
    this.seen = { ...initial };
  }

  /** The record as it now is: untouched fields take its values. */
  follow(record: F): void {
    untrack(() => {
      for (const key of Object.keys(record) as (keyof F)[]) {
        if (this.form[key] === this.seen[key]) this.form[key] = record[key];
      }
      this.seen = { ...record };
    });
  }

  /** After a save: the form shows the record as stored (its own formatting of what was typed). */
  reset(record: F): void {
    this.form = { ...record };
    this.seen = { ...record };
  }

  /** The fields the person changed. */
  touched(): Set<keyof F> {
    return new Set(
      (Object.keys(this.form) as (keyof F)[]).filter((key) => this.form[key] !== this.seen[key]),
    );
  }

  /** What the person typed, for a draft (form-draft.svelte.ts): the touched text fields; undefined when none. */
  typed(): Record<string, string> | undefined {
    const typed: Record<string, string> = {};
    for (const key of this.touched()) {
      const value = this.form[key];
      if (typeof value === 'string') typed[key as string] = value;
    }
    return Object.keys(typed).length ? typed : undefined;
  }

  /**
   * Puts a draft's values back: they are touched again, so a save writes them and only them. A
   * field touched meanwhile keeps what was typed since; a field the form does not have is ignored.
   */
  restore(values: Record<string, string>): void {
    for (const key of Object.keys(this.form) as (keyof F)[]) {
      const value = values[key as string];
      if (value !== undefined && typeof this.seen[key] === 'string' && this.form[key] === this.seen[key])
        this.form[key] = value as F[keyof F];
    }
  }

  /** Drops what was typed: the form is the record again. */
  discard(): void {
    this.form = { ...this.seen };
  }
}
