/**
 * The server's writes into rooms in the program layout (sync SPEC P7): the rooms loaded and kept
 * loaded meanwhile, their documents opened as program-layout documents, `write` called, and —
 * for a room it changed — resolved once that is stored.
 */
import { openProgramDoc, type ProgramDoc } from '../../src/lib/sync/program-doc';
import type { RoomName } from '../../src/lib/sync/rooms';
import type { Room } from '../sync/room';
import type { SyncServer } from '../sync/sync-server';

/** One write into one room; `write` says whether it changed anything. */
export function writeServerView(
  sync: SyncServer,
  name: RoomName,
  write: (view: ProgramDoc) => boolean,
): Promise<void> {
  return withProgramDocs(sync, [name], ([view]) => {
    write(view!);
  });
}

/**
 * Runs `use` with the documents of these rooms, all loaded, and resolves once whatever it wrote in
 * any of them is stored (a room's `whenStored` is immediate when nothing is waiting).
 */
export async function withProgramDocs<T>(
  sync: SyncServer,
  names: readonly RoomName[],
  use: (docs: ProgramDoc[], rooms: Room[]) => T | Promise<T>,
): Promise<T> {
  const rooms = names.map((name) => sync.room(name));
  const releases = rooms.map((room) => room.hold());
  const docs: ProgramDoc[] = [];
  try {
    await Promise.all(rooms.map((room) => room.loaded));
    docs.push(...rooms.map((room) => openProgramDoc(room.doc)));
    const result = await use(docs, rooms);
    await Promise.all(rooms.map((room) => room.whenStored()));
    return result;
  } finally {
    for (const doc of docs) doc.close();
    for (const release of releases) release();
    for (const room of rooms) sync.unloadIfIdle(room);
  }
}
