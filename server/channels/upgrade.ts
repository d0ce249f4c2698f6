/**
 * Brings the stored programs to the room layout of sync SPEC P7, on every start (it writes nothing
 * where nothing is left to do): rollups an older server kept in the program document move to the
 * rollups room, the rollups room gets the program's settings, every partner's channel is written
 * and the benchmark published (the workers write only what differs). No document is recreated: the program
 * document only loses the rollups the server itself had written there.
 */
import { copyProgramSettings, moveRollups, openProgramDoc } from '../../src/lib/sync/program-doc';
import { parseRoom, rollupsRoom } from '../../src/lib/sync/rooms';
import type { RoomStorage } from '../storage/storage';
import type { SyncServer } from '../sync/sync-server';
import type { BenchmarkWorker } from './benchmark-worker';
import type { ChannelWorker } from './channel-worker';

export async function upgradeProgramRooms(sync: SyncServer, storage: RoomStorage, workers: { channels: ChannelWorker; benchmarks: BenchmarkWorker }, log: (line: string) => void): Promise<void> {
  for (const name of await storage.rooms()) {
    const parsed = parseRoom(name);
    if (parsed?.kind !== 'program') continue;
    const program = sync.room(parsed);
    const rollups = sync.room(parseRoom(rollupsRoom(parsed.programId))!);
    const releases = [program.hold(), rollups.hold()];
    const programDoc = openProgramDoc(program.doc);
    const rollupsDoc = openProgramDoc(rollups.doc);
    try {
      await Promise.all([program.loaded, rollups.loaded]);
      const moved = moveRollups(programDoc, rollupsDoc);
      if (moved) log(`Moved ${moved} partners' rollups of program ${parsed.programId} to their own room.`);
      copyProgramSettings(programDoc, rollupsDoc);
      await Promise.all([program.whenStored(), rollups.whenStored()]);
    } finally {
      programDoc.close();
      rollupsDoc.close();
      for (const release of releases) release();
      sync.unloadIfIdle(program);
      sync.unloadIfIdle(rollups);
    }
    workers.channels.schedule(parsed.programId, 'all');
    workers.benchmarks.schedule(parsed.programId);
  }
}
