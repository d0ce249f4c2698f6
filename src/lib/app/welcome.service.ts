/**
 * First start: the program's directory and, if wanted, a partner's demo records. Until sign-in
 * exists, the directory is the demo program's, generated on the device for the current month.
 */
import type { Session, Directory } from './session.svelte';
import { formatDay, localDayOf } from '../kpi/calendar';

export const DEMO_SEED = 1;

export async function loadDemo(now: number) {
  const { generateDemoProgram } = await import('../demo/generate');
  // The history runs up to tomorrow in the program's zone, so "this month" has data.
  const end = formatDay(localDayOf('Asia/Kolkata')(now) + 1);
  return generateDemoProgram({ seed: DEMO_SEED, end });
}

export type Demo = Awaited<ReturnType<typeof loadDemo>>;

export function directoryOf(demo: Demo): Directory {
  return { program: demo.program, partners: demo.partners, reps: demo.reps };
}

export async function startAs(session: Session, demo: Demo, partnerId: string, repId: string, withDemoRecords: boolean): Promise<void> {
  const seed = withDemoRecords
    ? { leads: demo.leads.filter((lead) => lead.partnerId === partnerId), deals: demo.deals.filter((deal) => deal.partnerId === partnerId) }
    : undefined;
  await session.choose({ programId: demo.program.id, partnerId, repId }, directoryOf(demo), seed);
}
