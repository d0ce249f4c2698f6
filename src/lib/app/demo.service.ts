/**
 * The demo program as the app knows it: the same seed and end date as the server's demo
 * (server/seed.ts; both from src/lib/demo/demo-program.ts), so the directory the app starts from
 * (sign-in.ts) names the same partners and reps as the records the server syncs.
 */
import type { ProgramDirectory } from '../domain/schema';
import { demoEndAt, DEMO_SEED } from '../demo/demo-program';

export async function loadDemo(now: number) {
  const { generateDemoProgram } = await import('../demo/generate');
  return generateDemoProgram({ seed: DEMO_SEED, end: demoEndAt(now), now });
}

export type Demo = Awaited<ReturnType<typeof loadDemo>>;

export function directoryOf(demo: Demo): ProgramDirectory {
  return { program: demo.program, partners: demo.partners, reps: demo.reps };
}
