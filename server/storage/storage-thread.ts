/**
 * The body of the storage thread (sqlite-thread-storage.ts): owns the SQLite file and runs, in the
 * order they arrive, the calls the sync server's thread posts, answering each with its result or
 * its error. Calls come in batches (those made in one turn of the server's event loop, every room's
 * appends together) and their answers go back as one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteRoomStorage } from './sqlite-storage';
import type { ServerStorage } from './storage';

export interface StorageRequest {
  id: number;
  method: keyof ServerStorage;
  args: unknown[];
}

/** Id 0 answers the opening of the file. */
export type StorageReply =
  | { id: number; value: unknown; error?: undefined }
  | { id: number; error: { name: string; message: string } };

const port = parentPort!;
let storage: ServerStorage;
try {
  storage = new SqliteRoomStorage((workerData as { file: string }).file);
  port.postMessage([{ id: 0, value: undefined }] satisfies StorageReply[]);
} catch (error) {
  port.postMessage([{ id: 0, error: describe(error) }] satisfies StorageReply[]);
  port.close();
}

port.on('message', async (batch: StorageRequest[]) => {
  const replies: StorageReply[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const { id, method, args } of batch) {
    try {
      const call = storage[method] as (...given: unknown[]) => Promise<unknown>;
      const value = await call.apply(storage, args);
      replies.push({ id, value });
      // A room's log goes back without a copy: a blob that has an ArrayBuffer of its own moves.
      if (method === 'load')
        for (const update of (value as { updates: Uint8Array[] }).updates)
          if (update.byteOffset === 0 && update.byteLength === update.buffer.byteLength)
            transfer.push(update.buffer as ArrayBuffer);
    } catch (error) {
      replies.push({ id, error: describe(error) });
    }
  }
  port.postMessage(replies, transfer);
  if (batch.some((request) => request.method === 'close')) port.close();
});

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
