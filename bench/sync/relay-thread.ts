/**
 * The minimal relay's rooms on a thread of their own (`startMinimalRelay({ roomsOnThread: true })`):
 * the relay's own work, with its sockets on one thread and its documents on this one, as our
 * server's engine (server/threaded-engine.ts). Both directions go in batches, one message per turn
 * of the event loop. The bench runs it beside the relay: what it adds to the relay's latency is what
 * crossing between two threads costs on this machine, before any of our server's own work.
 */
import { parentPort } from 'node:worker_threads';
import { RelayRooms, turnBatch } from './relay-rooms';

/** What the sockets' thread says of its sockets. */
export type RelayEvent =
  | { t: 'open'; id: number; room: string }
  | { t: 'message'; id: number; data: Uint8Array }
  | { t: 'closed'; id: number };

/** What the rooms' thread asks: one message to several sockets, or a socket closed. */
export type RelayCommand = { t: 'send'; ids: number[]; data: Uint8Array } | { t: 'close'; id: number };

function serveRooms(port: NonNullable<typeof parentPort>): void {
  const commands = turnBatch<RelayCommand>((items) => port.postMessage(items));
  const rooms = new RelayRooms<number>(
    (id, data) => {
      // A room's update to its members is one command, as a broadcast is in our bridge.
      const last = commands.last;
      if (last?.t === 'send' && last.data === data) last.ids.push(id);
      else commands.push({ t: 'send', ids: [id], data });
    },
    (id) => commands.push({ t: 'close', id }),
  );
  port.on('message', (events: RelayEvent[]) => {
    for (const event of events)
      if (event.t === 'open') rooms.join(event.id, event.room);
      else if (event.t === 'message') rooms.receive(event.id, event.data);
      else rooms.leave(event.id);
  });
}

if (parentPort) serveRooms(parentPort);
