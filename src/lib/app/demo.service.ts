/**
 * The demo program as the app knows it: the same seed and end date as the server's demo
 * (server/seed.ts; both from src/lib/demo/demo-program.ts), so the directory the app starts from
 * (sign-in.ts) names the same partners and reps as the records the server syncs.
 */
import type { Directory } from './session.svelte';
import { formatDay, localDayOf } from '../kpi/calendar';
import { DEMO_SEED, DEMO_TZ } from '../demo/demo-program';

export async function loadDemo(now: number) {
  const { generateDemoProgram } = await import('../demo/generate');
  // The history runs up to now: this month has data, and nothing later today has happened yet.
  const end = formatDay(localDayOf(DEMO_TZ)(now) + 1);
  return generateDemoProgram({ seed: DEMO_SEED, end, now });
}

export type Demo = Awaited<ReturnType<typeof loadDemo>>;

export function directoryOf(demo: Demo): Directory {
  return { program: demo.program, partners: demo.partners, reps: demo.reps };
}
