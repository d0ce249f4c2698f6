/**
 * What a write to the device's storage returns, and how a storage failure is described to the
 * person. Kept apart from the update log (room-log.ts), which brings Yjs: the screens and the
 * session read these types without loading the document engine.
 */
import type { Problem } from '../domain/validate';

export type WriteResult<T> =
  { ok: true; value: T } | { ok: false; problems: Problem[] } | { ok: false; storageError: StorageError };

export interface StorageError {
  kind: 'quota' | 'blocked' | 'unknown';
  message: string;
}

export function describeStorageError(error: unknown): StorageError {
  const name = (error as { name?: string; inner?: { name?: string } })?.name ?? '';
  const inner = (error as { inner?: { name?: string } })?.inner?.name ?? '';
  if (name === 'QuotaExceededError' || inner === 'QuotaExceededError') {
    return {
      kind: 'quota',
      message: 'This device is out of storage space. Free some space, then save again.',
    };
  }
  if (
    name === 'DatabaseClosedError' ||
    name === 'VersionError' ||
    name === 'BlockedError' ||
    inner === 'VersionError'
  ) {
    return {
      kind: 'blocked',
      message: 'The app is open in another tab with an older version. Close the other tab, then save again.',
    };
  }
  return { kind: 'unknown', message: `Could not save on this device (${name || 'unknown error'}).` };
}
