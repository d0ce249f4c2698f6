/**
 * The demo program as the app and the server both name it: one seed, one zone, so both generate
 * the same partners, reps and records (src/lib/demo/generate.ts). Kept apart from the generator so
 * that code which only needs the names does not load it.
 */
import { formatDay, localDayOf } from '../kpi/calendar';

export const DEMO_PROGRAM_ID = 'demo';
export const DEMO_SEED = 1;
export const DEMO_TZ = 'Asia/Kolkata';
export const DEMO_CURRENCY = 'INR';

/**
 * The generator's end (exclusive) for the demo as it stands at `now`: its history runs up to now,
 * so this month has data, and nothing later today has happened yet (the generator is told `now`).
 */
export function demoEndAt(now: number): string {
  return formatDay(localDayOf(DEMO_TZ)(now) + 1);
}
