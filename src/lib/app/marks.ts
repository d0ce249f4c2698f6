/** User-timing marks the app sets for benchmarks (bench/browser reads them). */
export const KPIS_ON_SCREEN = 'partner-kpi:kpis-on-screen';
/** The vendor console's program KPIs on screen (bench/program reads it). */
export const PROGRAM_KPIS_ON_SCREEN = 'partner-kpi:program-kpis-on-screen';
export { STORE_WRITE } from '../store/partner-store';
/** A list's first rows on screen, once per page load: the Leads list, the Deals board (bench/browser reads them). */
export const LIST_ON_SCREEN = {
  leads: 'partner-kpi:leads-on-screen',
  deals: 'partner-kpi:deals-on-screen',
} as const;

/** Marks `name` once per page load (the first time it is reached). */
export function markOnce(name: string): void {
  if (performance.getEntriesByName(name).length === 0) performance.mark(name);
}

/** Steps of opening the partner's data, in order (marks of the time each ended). */
export const OPEN_MARKS = {
  document: 'partner-kpi:open-document',
  rows: 'partner-kpi:open-rows',
} as const;
