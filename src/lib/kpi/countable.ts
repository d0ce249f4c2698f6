/**
 * Which records the KPIs count. Shared by the device (the store's projection) and the server (the
 * rollups it folds into the program document), so that a partner's figures are the same on both.
 */
import type { Problem } from '../domain/validate';

/**
 * A record as the KPIs count it: a quarantined record (one with problems, SPEC rule S9) counts
 * nowhere, exactly like a deleted one, so it is handed to the buckets as deleted.
 */
export function countable<T extends { problems?: Problem[]; deletedAt?: number }>(row: T): T {
  if (!row.problems) return row;
  const { problems: _problems, ...record } = row;
  return { ...record, deletedAt: row.deletedAt ?? 0 } as T;
}
