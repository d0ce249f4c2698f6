/**
 * The Web Locks API as the tabs of one device share it (src/lib/store/local-data.ts `Locks`), for
 * sessions in one process: one FIFO queue per name, shared holders together, an exclusive one alone,
 * and a request waits behind every earlier one it conflicts with (the browser's order).
 */
import type { Locks } from '../../src/lib/store/local-data';

interface Request {
  mode: 'shared' | 'exclusive';
  start(): void;
}

export function fakeLocks(): Locks {
  const queues = new Map<string, Request[]>();
  const held = new Map<string, Request[]>();

  function grant(name: string): void {
    const queue = queues.get(name) ?? [];
    const holders = held.get(name) ?? [];
    while (queue.length > 0) {
      const next = queue[0]!;
      const compatible =
        holders.length === 0 ||
        (next.mode === 'shared' && holders.every((holder) => holder.mode === 'shared'));
      if (!compatible) break;
      queue.shift();
      holders.push(next);
      next.start();
    }
    held.set(name, holders);
  }

  return {
    request(name, { mode }, callback) {
      return new Promise((resolve, reject) => {
        const request: Request = {
          mode,
          start: () => {
            callback()
              .then(resolve, reject)
              .finally(() => {
                const holders = held.get(name) ?? [];
                holders.splice(holders.indexOf(request), 1);
                grant(name);
              });
          },
        };
        queues.set(name, [...(queues.get(name) ?? []), request]);
        grant(name);
      });
    },
  };
}
