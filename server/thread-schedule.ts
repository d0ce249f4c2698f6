/**
 * The calling thread's time on a CPU and waiting for one (Linux's /proc/thread-self/schedstat, ns):
 * a thread that falls behind while neither is high is blocked elsewhere (the disk); one that waits
 * long shares its cores with too much. Undefined where there is no such file (not Linux).
 */
import { readFileSync } from 'node:fs';

export interface ThreadSchedule {
  cpuNs: number;
  runQueueNs: number;
}

export function threadSchedule(): ThreadSchedule | undefined {
  try {
    const [cpuNs, runQueueNs] = readFileSync('/proc/thread-self/schedstat', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return cpuNs !== undefined &&
      runQueueNs !== undefined &&
      Number.isFinite(cpuNs) &&
      Number.isFinite(runQueueNs)
      ? { cpuNs, runQueueNs }
      : undefined;
  } catch {
    return undefined;
  }
}
