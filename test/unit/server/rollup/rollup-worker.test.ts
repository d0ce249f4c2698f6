/**
 * How the rollup worker shares its thread with the rooms (server/rollup/rollup-worker.ts): folds
 * that fall due together are spaced so that edits flow between them; a fold that waited behind
 * none starts at once. Its folds themselves are tested with a real server in
 * test/integration/sync-server.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FOLD_SHARE_WAIT, waitBeforeFold } from '../../../../server/rollup/rollup-worker';

describe('waitBeforeFold', () => {
  const last = { ms: 10, endedAt: 1_000 };

  it('starts at once a fold queued after the one before ended (an edit after a quiet spell)', () => {
    expect(waitBeforeFold(1_000, last, 1_000)).toBe(0);
    expect(waitBeforeFold(1_005, last, 1_005)).toBe(0);
  });

  it('spaces a fold queued behind another by FOLD_SHARE_WAIT times what that one took, counted from its end', () => {
    expect(FOLD_SHARE_WAIT).toBeGreaterThanOrEqual(1);
    expect(waitBeforeFold(900, last, 1_000)).toBe(10 * FOLD_SHARE_WAIT);
    expect(waitBeforeFold(900, last, 1_004)).toBe(10 * FOLD_SHARE_WAIT - 4);
  });

  it('does not wait once that time has passed (the thread was busy with edits meanwhile)', () => {
    expect(waitBeforeFold(900, last, 1_000 + 10 * FOLD_SHARE_WAIT)).toBe(0);
    expect(waitBeforeFold(900, last, 5_000)).toBe(0);
  });

  it('never waits before the first fold', () => {
    expect(waitBeforeFold(0, { ms: 0, endedAt: -Infinity }, 0)).toBe(0);
  });
});
