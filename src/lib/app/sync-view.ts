/**
 * What the header's sync indicator says, from the connection's state (sync SPEC.md C5–C7) and the
 * session: a headline, the unsent changes or that everything is saved, the last sync time, and
 * whether to offer signing in again. Plain strings in the interface's language; no Svelte.
 */
import type { CloseReason, SyncState } from '../sync/connection';
import { formatMoment, formatNumber } from '../ui/format';
import { m } from '../paraglide/messages';

export interface SyncView {
  /** For the dot beside the text (decorative: the text says it all). */
  tone: 'good' | 'busy' | 'warn' | 'bad';
  headline: string;
  detail: string | undefined;
  lastSynced: string | undefined;
  /** After an expired sign-in: a link to sign in again when online, a hint to connect when not. */
  signInAgain: 'link' | 'connect-first' | undefined;
}

export interface SyncViewInput {
  state: SyncState;
  closeReason: CloseReason | undefined;
  readOnly: boolean;
  online: boolean;
  now: number;
  intl: string;
  timeZone: string;
}

export function syncView({
  state,
  closeReason,
  readOnly,
  online,
  now,
  intl,
  timeZone,
}: SyncViewInput): SyncView {
  const unsent =
    state.pendingChanges > 0
      ? m.sync_unsent({ count: state.pendingChanges, n: formatNumber(state.pendingChanges, intl, 0) })
      : undefined;
  // In sync now (C4): the present time, not when the connection last changed.
  const syncedAt = state.status === 'synced' ? now : state.lastSyncedAt;
  const lastSynced =
    syncedAt === undefined ? undefined : m.sync_last({ time: formatMoment(syncedAt, now, intl, timeZone) });
  const view = (
    tone: SyncView['tone'],
    headline: string,
    detail: string | undefined,
    signInAgain?: SyncView['signInAgain'],
  ): SyncView => ({
    tone,
    headline,
    detail,
    lastSynced,
    signInAgain,
  });
  if (closeReason === 'forbidden') return view('bad', m.sync_forbidden(), unsent);
  if (closeReason === 'expired-token')
    return view('warn', m.sync_expired(), unsent, online ? 'link' : 'connect-first');
  // While not connected: what is unsent, or that the server had everything when last seen.
  const whenApart =
    unsent ?? (readOnly ? undefined : state.lastSyncedAt === undefined ? m.sync_never() : m.sync_saved());
  switch (state.status) {
    case 'synced':
      return view('good', readOnly ? m.sync_up_to_date() : m.sync_saved(), undefined);
    case 'syncing':
      return view('busy', m.sync_syncing(), unsent);
    case 'connecting':
      return view('busy', m.sync_connecting(), whenApart);
    case 'offline':
      return view('warn', m.sync_offline(), whenApart);
  }
}

/** From least to most advanced: the one shown for several connections is the least advanced. */
const STATUS_ORDER: Record<SyncState['status'], number> = {
  offline: 0,
  connecting: 1,
  syncing: 2,
  synced: 3,
};

/**
 * Several rooms' connections (the partner's and the program's documents) as one state for the
 * header: the least advanced status (the device is "synced" only when every room is), every room's
 * unsent changes, the earliest "server had everything" time (what is certainly on the server), and
 * the first refusal. Undefined when no connection is open yet.
 */
export function combineSyncStates(states: readonly (SyncState | undefined)[]): SyncState | undefined {
  const open = states.filter((state): state is SyncState => state !== undefined);
  const first = open[0];
  if (!first) return undefined;
  let status = first.status;
  let pendingChanges = 0;
  let lastSyncedAt: number | undefined;
  let closeReason: CloseReason | undefined;
  for (const state of open) {
    if (STATUS_ORDER[state.status] < STATUS_ORDER[status]) status = state.status;
    pendingChanges += state.pendingChanges;
    if (state.lastSyncedAt !== undefined)
      lastSyncedAt =
        lastSyncedAt === undefined ? state.lastSyncedAt : Math.min(lastSyncedAt, state.lastSyncedAt);
    closeReason ??= state.closeReason;
  }
  return { status, pendingChanges, lastSyncedAt, closeReason };
}
