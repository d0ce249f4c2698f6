/**
 * The sync bench's machinery (bench/sync) on a load small enough for a test: each server in its
 * child process, the clients, the tally and the convergence check. The figures themselves are for
 * `npm run bench`; this holds the bench to delivering and counting every copy, so that a change
 * to the server or the bench that breaks either shows here and not in the middle of a long run.
 */
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../bench/sync/load';
import type { Scenario } from '../../bench/sync/scenarios';

const TINY: Scenario = { name: 'tiny', rooms: 2, clientsPerRoom: 3, rate: 200 };
const UPDATES = 30;

describe('the sync bench', () => {
  it.each(['relay', 'threaded relay', 'ours'] as const)(
    'delivers every copy of a small load through %s, and every room converges',
    async (kind) => {
      // No warm-up but one edit per client: a test checks the machinery, not the figures.
      const result = await runLoad(TINY, kind, UPDATES, { warmUpSeconds: 0 });
      expect(result.clients).toBe(TINY.rooms * TINY.clientsPerRoom + (kind === 'ours' ? 2 : 0));
      expect(result.expectedCopies).toBe(UPDATES * (TINY.clientsPerRoom - 1));
      expect(result.lostCopies).toBe(0);
      expect(result.converged).toBe(true);
      expect(result.unreadable).toBe(0);
      expect([...result.closedByServer]).toEqual([]);
      expect(result.editBytes).toBeGreaterThan(0);
      if (process.platform === 'linux') expect(result.mainThread?.cpu).toBeGreaterThan(0);
      if (kind === 'ours') {
        // Every edit stored and acknowledged to its sender; the vendor saw the rollups of the load.
        expect(result.storedUpdates).toBeGreaterThanOrEqual(UPDATES);
        expect(result.ackP99Ms).toBeGreaterThan(0);
        expect(result.rollupsSeen).toBeGreaterThan(0);
        // Both threads' time on a CPU is read (Linux, as CI): the engine's thread did the checking and storing.
        if (process.platform === 'linux') expect(result.engineThread?.cpu).toBeGreaterThan(0);
      } else {
        expect(result.storedUpdates).toBeUndefined();
        expect(result.ackP99Ms).toBeUndefined();
        expect(result.engineThread).toBeUndefined();
      }
    },
    60_000,
  );
});
