/**
 * How fresh a partner's figures are on the vendor's console: the server folds a partner's document
 * into the program document each time one of the partner's devices syncs (`lastSyncAt`), so a
 * partner whose reps have been out of signal shows older figures. Pure; `now` is a parameter.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Figures older than three days are flagged as stale. Reps sync whenever their phone has signal,
 * which on an ordinary working day is several times; three days without a single sync spans at
 * least one full working day in the field, so the numbers may well miss that partner's recent
 * wins, and the vendor should not rank or judge the partner on them without asking.
 */
export const STALE_AFTER_MS = 3 * DAY_MS;

export type FreshnessUnit = 'minute' | 'hour' | 'day';

export interface Freshness {
  /** When the partner's document last changed on the server; undefined: no figures yet. */
  lastSyncAt: number | undefined;
  /** How long ago, in whole `unit`s (0 minutes: just now). */
  amount: number;
  unit: FreshnessUnit;
  stale: boolean;
}

/** How old a partner's figures are at `now`. A `lastSyncAt` after `now` (another clock) counts as just now. */
export function freshnessOf(lastSyncAt: number | undefined, now: number): Freshness {
  if (lastSyncAt === undefined) return { lastSyncAt, amount: 0, unit: 'minute', stale: true };
  const age = Math.max(0, now - lastSyncAt);
  const stale = age > STALE_AFTER_MS;
  if (age < HOUR_MS) return { lastSyncAt, amount: Math.floor(age / MINUTE_MS), unit: 'minute', stale };
  if (age < DAY_MS) return { lastSyncAt, amount: Math.floor(age / HOUR_MS), unit: 'hour', stale };
  return { lastSyncAt, amount: Math.floor(age / DAY_MS), unit: 'day', stale };
}

/** Whole days since `lastSyncAt` (for "no sync for N days"). */
export function daysSince(lastSyncAt: number, now: number): number {
  return Math.floor(Math.max(0, now - lastSyncAt) / DAY_MS);
}
