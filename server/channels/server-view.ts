/**
 * One write of the server into a room only it writes (sync SPEC P7): the room loaded and kept
 * loaded meanwhile, its document opened as a program-layout document, `write` called, and — when it
 * says it changed something — resolved once that is stored.
 */
import { openProgramDoc, type ProgramDoc } from '../../src/lib/sync/program-doc';
import type { RoomName } from '../../src/lib/sync/rooms';
import type { SyncServer } from '../sync/sync-server';

export function writeServerView(sync: SyncServer, name: RoomName, write: (view: ProgramDoc) => boolean): Promise<void> {
  return sync.withRoom(name, async (room) => {
    const view = openProgramDoc(room.doc);
    try {
      if (write(view)) await room.whenStored();
    } finally {
      view.close();
    }
  });
}
