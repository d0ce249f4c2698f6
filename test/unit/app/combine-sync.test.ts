/** Both rooms' connections as one state for the header (src/lib/app/sync-view.ts combineSyncStates). */
import { describe, expect, it } from 'vitest';
import { combineSyncStates } from '../../../src/lib/app/sync-view';
import type { SyncState } from '../../../src/lib/sync/connection';

const state = (overrides: Partial<SyncState> = {}): SyncState => ({
  status: 'synced',
  pendingChanges: 0,
  lastSyncedAt: undefined,
  closeReason: undefined,
  ...overrides,
});

describe('combined sync state', () => {
  it('is undefined until a connection is open, and one connection as it is', () => {
    expect(combineSyncStates([undefined, undefined])).toBeUndefined();
    expect(
      combineSyncStates([undefined, state({ status: 'syncing', pendingChanges: 2, lastSyncedAt: 5 })]),
    ).toEqual(state({ status: 'syncing', pendingChanges: 2, lastSyncedAt: 5 }));
  });

  it('is synced only when every room is: the least advanced status shows', () => {
    expect(combineSyncStates([state(), state({ status: 'syncing' })])?.status).toBe('syncing');
    expect(combineSyncStates([state({ status: 'connecting' }), state({ status: 'syncing' })])?.status).toBe(
      'connecting',
    );
    expect(combineSyncStates([state(), state({ status: 'offline' })])?.status).toBe('offline');
    expect(combineSyncStates([state(), state()])?.status).toBe('synced');
  });

  it('adds the unsent changes, keeps the earliest last sync and the first refusal', () => {
    expect(
      combineSyncStates([
        state({ pendingChanges: 3, lastSyncedAt: 100 }),
        state({ pendingChanges: 1, lastSyncedAt: 50, closeReason: 'expired-token' }),
      ]),
    ).toEqual(state({ pendingChanges: 4, lastSyncedAt: 50, closeReason: 'expired-token' }));
    expect(combineSyncStates([state({ lastSyncedAt: 100 }), state()])?.lastSyncedAt).toBe(100);
  });
});
