/**
 * Brings the stored programs to the room layout of sync SPEC P7, on every start (it writes nothing
 * where nothing is left to do): rollups an older server kept in the program document move to the
 * rollups room; whole rollups an older server wrote there are rewritten into the room of days, by
 * day and by month (P5); the vendor's rollups room gets the program's settings and exactly what it
 * should hold of the room of days; every partner's channel is written and the benchmark published
 * (the workers write only what differs). No document is recreated: the program document only
 * loses the rollups the server itself had written there.
 */
import {
  copyProgramSettings,
  moveRollups,
  projectFigures,
  upgradeRollups,
} from '../../src/lib/sync/program-doc';
import { parseRoom, rollupDaysRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { RoomStorage } from '../storage/storage';
import type { SyncServer } from '../sync/sync-server';
import type { BenchmarkWorker } from './benchmark-worker';
import type { ChannelWorker } from './channel-worker';
import { withProgramDocs } from './server-view';

export async function upgradeProgramRooms(
  sync: SyncServer,
  storage: RoomStorage,
  workers: { channels: ChannelWorker; benchmarks: BenchmarkWorker },
  log: (line: string) => void,
): Promise<void> {
  for (const name of await storage.rooms()) {
    const parsed = parseRoom(name);
    if (parsed?.kind !== 'program') continue;
    await withProgramDocs(
      sync,
      [parsed, parseRoom(rollupsRoom(parsed.programId))!, parseRoom(rollupDaysRoom(parsed.programId))!],
      ([program, figures, days]) => {
        const moved = moveRollups(program!, figures!);
        if (moved) log(`Moved ${moved} partners' rollups of program ${parsed.programId} to their own room.`);
        copyProgramSettings(program!, days!);
        const upgraded = upgradeRollups(figures!, days!);
        if (upgraded)
          log(`Rewrote ${upgraded} partners' rollups of program ${parsed.programId} by day and by month.`);
        projectFigures(days!, figures!);
      },
    );
    workers.channels.schedule(parsed.programId, 'all');
    workers.benchmarks.schedule(parsed.programId);
  }
}
