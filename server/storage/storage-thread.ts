/**
 * The body of the storage thread (sqlite-thread-storage.ts): owns the SQLite file and runs, in the
 * order they arrive, the calls the sync server's thread posts, answering each with its result or
 * its error. Loaded through storage-thread-entry.mjs, which lets a worker thread read TypeScript.
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
  port.postMessage({ id: 0, value: undefined } satisfies StorageReply);
} catch (error) {
  port.postMessage({ id: 0, error: describe(error) } satisfies StorageReply);
  port.close();
}

port.on('message', async ({ id, method, args }: StorageRequest) => {
  try {
    const call = storage[method] as (...given: unknown[]) => Promise<unknown>;
    const value = await call.apply(storage, args);
    // A room's log goes back without a copy: a blob that has an ArrayBuffer of its own moves.
    const transfer =
      method === 'load'
        ? (value as { updates: Uint8Array[] }).updates
            .filter((update) => update.byteOffset === 0 && update.byteLength === update.buffer.byteLength)
            .map((update) => update.buffer)
        : [];
    port.postMessage({ id, value } satisfies StorageReply, transfer as ArrayBuffer[]);
  } catch (error) {
    port.postMessage({ id, error: describe(error) } satisfies StorageReply);
  }
  if (method === 'close') port.close();
});

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
