/** What the header's sync indicator says for each state of the connection (sync SPEC.md C5–C7). */
import { describe, expect, it } from 'vitest';
import { syncView, type SyncViewInput } from '../../../src/lib/app/sync-view';
import type { SyncState } from '../../../src/lib/sync/connection';

const NOW = Date.UTC(2026, 10, 28, 9, 30);
const state = (overrides: Partial<SyncState> = {}): SyncState => ({
  status: 'synced',
  pendingChanges: 0,
  lastSyncedAt: undefined,
  closeReason: undefined,
  ...overrides,
});
const input = (overrides: Partial<SyncViewInput> = {}): SyncViewInput => ({
  state: state(),
  closeReason: undefined,
  readOnly: false,
  online: true,
  now: NOW,
  intl: 'en-IN',
  timeZone: 'Asia/Kolkata',
  ...overrides,
});

describe('the sync indicator', () => {
  it('synced: all changes saved to server, in sync now (not when the connection last changed)', () => {
    const view = syncView(input({ state: state({ lastSyncedAt: NOW - 3_600_000 }) }));
    expect(view).toMatchObject({
      tone: 'good',
      headline: 'All changes saved to server',
      detail: undefined,
      signInAgain: undefined,
    });
    expect(view.lastSynced).toMatch(/^Last synced 3:00\s?pm$/i);
  });

  it('apart from the server: the last sync time of today as a time, of an earlier day with its date', () => {
    expect(
      syncView(input({ state: state({ status: 'offline', lastSyncedAt: NOW - 60_000 }) })).lastSynced,
    ).toMatch(/^Last synced 2:59\s?pm$/i);
    expect(
      syncView(input({ state: state({ status: 'offline', lastSyncedAt: NOW - 3 * 86_400_000 }) })).lastSynced,
    ).toMatch(/^Last synced 25 Nov 2026/);
  });

  it('offline: says so and names the unsent changes, one and many', () => {
    expect(syncView(input({ state: state({ status: 'offline', pendingChanges: 1 }) }))).toMatchObject({
      tone: 'warn',
      headline: 'Offline',
      detail: '1 change not yet sent',
    });
    expect(syncView(input({ state: state({ status: 'offline', pendingChanges: 12 }) })).detail).toBe(
      '12 changes not yet sent',
    );
  });

  it('offline with nothing unsent: everything was saved, or nothing was ever synced', () => {
    expect(syncView(input({ state: state({ status: 'offline', lastSyncedAt: NOW }) })).detail).toBe(
      'All changes saved to server',
    );
    expect(syncView(input({ state: state({ status: 'connecting' }) }))).toMatchObject({
      headline: 'Connecting…',
      detail: 'Not synced yet',
    });
  });

  it('syncing: says so, with what is still unsent', () => {
    expect(syncView(input({ state: state({ status: 'syncing', pendingChanges: 3 }) }))).toMatchObject({
      tone: 'busy',
      headline: 'Syncing…',
      detail: '3 changes not yet sent',
    });
  });

  it('an expired sign-in: keeps the changes, offers to sign in again only when online', () => {
    const online = syncView(
      input({ state: state({ status: 'offline', pendingChanges: 2 }), closeReason: 'expired-token' }),
    );
    expect(online).toMatchObject({
      headline: 'Your sign-in has expired. Your changes are kept on this device.',
      detail: '2 changes not yet sent',
      signInAgain: 'link',
    });
    expect(
      syncView(input({ state: state({ status: 'offline' }), closeReason: 'expired-token', online: false }))
        .signInAgain,
    ).toBe('connect-first');
  });

  it('a forbidden room: the account may not open this data', () => {
    expect(syncView(input({ state: state({ status: 'offline' }), closeReason: 'forbidden' }))).toMatchObject({
      tone: 'bad',
      headline: "This account may not open this partner's data.",
    });
  });

  it('read-only: up to date, and never a count of changes', () => {
    expect(syncView(input({ state: state(), readOnly: true })).headline).toBe('Up to date');
    expect(syncView(input({ state: state({ status: 'offline' }), readOnly: true })).detail).toBeUndefined();
  });
});
