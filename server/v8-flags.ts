/**
 * V8 flags the server runs with: `npm start` passes them to node (package.json), the sync bench to
 * its server process, and the engine's thread is started after they are set here too.
 *
 * `--initial-old-space-size`: without it V8 sizes the old generation to what is live and, with a
 * steady stream of edits, collects it again and again: `--trace-gc` in scenario B of the sync bench
 * showed 18 full collections on the sockets' thread (a heap of 15–20 MB) and 26 on the engine's
 * (90–140 MB), each a 5–20 ms pause plus up to 80 ms of marking steps, every one of them a stall of
 * every socket or every room. With 256 MB to begin with, 4 and 4 (docs/benchmarks.md).
 */
import { setFlagsFromString } from 'node:v8';

export const SERVER_V8_FLAGS = ['--initial-old-space-size=256'] as const;

/** Sets the flags for isolates made from now on (a worker thread's); the process's own heap takes them only from node's command line. */
export function setServerV8Flags(): void {
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag);
}
