/**
 * The journal's worker (journal.ts): holds this tab's journal file of one room open with a sync
 * access handle — only a dedicated worker may — appends records as the page sends them (answering
 * once the operating system has each, flushing it to the disk right after), and claims the files of
 * tabs that are gone. Files live in OPFS under `journal/<room>/`.
 */
import { JOURNAL_FOLDER, JournalFile, readRecords, type SyncHandle } from './journal-file';
import type { Claim, JournalReply, JournalRequest } from './journal';

/** The part of a file handle used here; `createSyncAccessHandle` is typed only in worker scopes. */
type FileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncHandle> };
/** A directory's entries; async iteration is not in the DOM typings this project compiles with. */
type Directory = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };

let directory: Directory | undefined;
let ownName = '';
let file: JournalFile | undefined;
/** The seq of the last record appended. */
let lastSeq = 0;

async function handle(request: JournalRequest): Promise<unknown> {
  switch (request.type) {
    case 'open': {
      const root = await navigator.storage.getDirectory();
      const journals = await root.getDirectoryHandle(JOURNAL_FOLDER, { create: true });
      directory = (await journals.getDirectoryHandle(encodeURIComponent(request.room), {
        create: true,
      })) as Directory;
      ownName = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.journal`;
      const fileHandle = (await directory.getFileHandle(ownName, { create: true })) as FileHandle;
      file = new JournalFile(await fileHandle.createSyncAccessHandle());
      return undefined;
    }
    case 'append': {
      opened().append(request.record);
      lastSeq = request.seq;
      return performance.timeOrigin + performance.now();
    }
    case 'drop': {
      // Only when nothing was appended after what the page says is stored.
      return request.seq === lastSeq && opened().drop();
    }
    case 'claim':
      return claim();
    case 'release': {
      for (const name of request.names) await directory?.removeEntry(name).catch(() => {});
      return undefined;
    }
    case 'close': {
      file?.close();
      file = undefined;
      if (request.empty) await directory?.removeEntry(ownName).catch(() => {});
      return undefined;
    }
  }
}

function opened(): JournalFile {
  if (!file) throw new Error('The journal is not open.');
  return file;
}

/**
 * The records of every other file in the room's folder that no live tab holds: a file whose sync
 * handle can be made belongs to no one (its tab closed or crashed). Empty ones are removed at once.
 */
async function claim(): Promise<Claim> {
  const claimed: Claim = { orphans: [], held: 0 };
  if (!directory) return claimed;
  const names: string[] = [];
  for await (const name of directory.keys()) if (name !== ownName) names.push(name);
  for (const name of names) {
    let records;
    try {
      const syncHandle = await ((await directory.getFileHandle(name)) as FileHandle).createSyncAccessHandle();
      try {
        records = readRecords(syncHandle);
      } finally {
        syncHandle.close();
      }
    } catch (error) {
      // Held by a tab that is still open (NoModificationAllowedError), or not a file.
      if (error instanceof DOMException && error.name === 'NoModificationAllowedError') claimed.held++;
      continue;
    }
    if (records.length) claimed.orphans.push({ name, records });
    else await directory.removeEntry(name).catch(() => {});
  }
  return claimed;
}

// Requests are handled one at a time, in order: an append never runs beside a drop or a close.
let queue: Promise<unknown> = Promise.resolve();
onmessage = (event: MessageEvent<JournalRequest & { id: number }>) => {
  const request = event.data;
  queue = queue.then(async () => {
    let reply: JournalReply;
    try {
      reply = { id: request.id, ok: true, value: await handle(request) };
    } catch (error) {
      reply = {
        id: request.id,
        ok: false,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    postMessage(reply);
    // Once appended, the operating system has the record: a crashed tab, app or browser loses
    // nothing, as with the IndexedDB log's relaxed commits (db.ts), and the page hears so at once.
    // The flush to the disk (a millisecond, now and then tens), which adds the power cut, follows.
    if (request.type === 'append' && reply.ok) flush();
  });
};

function flush(): void {
  try {
    file?.flush();
  } catch {
    // The record is with the operating system, and the IndexedDB log has it or soon will.
  }
}
