/**
 * `/metrics` in the Prometheus text format: the sync server's connections, loaded rooms, stored
 * updates (a counter, and a per-second rate over the last minute for people reading it raw),
 * bytes stored, plus Node's process figures (CPU, memory, event-loop lag) from prom-client.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RoomStorage } from './storage/storage';
import type { SyncCounters } from './sync/sync-server';

/**
 * Events per second over the last `seconds`: one slot per second, so counting is O(1) however
 * many updates arrive.
 */
export class RateMeter {
  private readonly slots: Float64Array;
  private readonly stamps: Float64Array;

  constructor(private readonly seconds = 60) {
    this.slots = new Float64Array(seconds);
    this.stamps = new Float64Array(seconds).fill(-1);
  }

  add(now: number, count = 1): void {
    const second = Math.floor(now / 1000);
    const slot = second % this.seconds;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.slots[slot] = 0;
    }
    this.slots[slot]! += count;
  }

  perSecond(now: number): number {
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let slot = 0; slot < this.seconds; slot++)
      if (this.stamps[slot]! > second - this.seconds) total += this.slots[slot]!;
    return total / this.seconds;
  }
}

export function createMetrics(
  counters: SyncCounters,
  storage: RoomStorage,
  updateRate: RateMeter,
  now: () => number = Date.now,
): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'partner_kpi_' });
  const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(await read());
      },
    });
  gauge('partner_kpi_sync_connections', 'Open sync sockets.', () => counters.connections);
  gauge('partner_kpi_sync_rooms_loaded', 'Rooms whose document is in memory.', () => counters.roomsLoaded);
  // Counters that only grow, exposed as gauges that read the server's own tallies at scrape time.
  gauge(
    'partner_kpi_sync_updates_stored_total',
    'Document updates stored, from devices and from the rollup worker.',
    () => counters.updatesStored,
  );
  gauge(
    'partner_kpi_sync_updates_per_second',
    'Updates stored per second, averaged over the last minute.',
    () => updateRate.perSecond(now()),
  );
  gauge(
    'partner_kpi_sync_bytes_received_total',
    'Bytes of sync messages received.',
    () => counters.bytesReceived,
  );
  gauge(
    'partner_kpi_sync_read_only_writes_dropped_total',
    'Writes of read-only connections dropped.',
    () => counters.droppedReadOnly,
  );
  gauge(
    'partner_kpi_sync_updates_refused_total',
    "Writers' updates refused (malformed, out of bounds, or poisonous); each closed its sender.",
    () => counters.updatesRefused,
  );
  gauge(
    'partner_kpi_sync_rooms_broken_total',
    'Rooms dropped and reloaded from storage after their document failed.',
    () => counters.roomsBroken,
  );
  gauge(
    'partner_kpi_sync_compactions_total',
    'Room logs merged into a proven snapshot.',
    () => counters.compactions,
  );
  gauge(
    'partner_kpi_sync_compactions_failed_total',
    'Compactions whose snapshot failed its proof; the log was kept.',
    () => counters.compactionsFailed,
  );
  gauge('partner_kpi_storage_bytes', 'Bytes of document updates and snapshots stored.', () =>
    storage.bytesStored(),
  );
  return registry;
}
