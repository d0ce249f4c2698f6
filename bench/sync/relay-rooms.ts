/**
 * The minimal relay's document work (bench/sync/relay.ts), wherever it runs: one Y.Doc per room in
 * memory, sync step 1 to each new member, step 2 for a step 1, step 2 and updates applied, and
 * every change of a doc sent to the room's other members. `M` is how the caller names a member: a
 * socket on the relay's one thread, a number on its second thread (relay-thread.ts).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';

/** y-websocket's message type for sync messages (the others — presence, auth — are ignored here). */
const MESSAGE_SYNC = 0;

interface RelayRoom<M> {
  doc: Y.Doc;
  members: Set<M>;
}

export class RelayRooms<M> {
  private readonly rooms = new Map<string, RelayRoom<M>>();
  private readonly roomOf = new Map<M, RelayRoom<M>>();

  /** `send` must not throw; `close` ends a member that sent what cannot be read. */
  constructor(
    private readonly send: (member: M, message: Uint8Array) => void,
    private readonly close: (member: M) => void,
  ) {}

  join(member: M, name: string): void {
    const room = this.room(name);
    room.members.add(member);
    this.roomOf.set(member, room);
    this.send(
      member,
      syncMessage((encoder) => syncProtocol.writeSyncStep1(encoder, room.doc)),
    );
  }

  leave(member: M): void {
    this.roomOf.get(member)?.members.delete(member);
    this.roomOf.delete(member);
  }

  receive(member: M, data: Uint8Array): void {
    const room = this.roomOf.get(member);
    if (!room) return;
    try {
      const decoder = decoding.createDecoder(data);
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.readSyncMessage(decoder, encoder, room.doc, member);
      // Only sync step 1 writes a reply (step 2) after the message type.
      if (encoding.length(encoder) > 1) this.send(member, encoding.toUint8Array(encoder));
    } catch {
      this.close(member);
    }
  }

  destroy(): void {
    for (const room of this.rooms.values()) room.doc.destroy();
    this.rooms.clear();
    this.roomOf.clear();
  }

  private room(name: string): RelayRoom<M> {
    let room = this.rooms.get(name);
    if (room) return room;
    room = { doc: new Y.Doc({ gc: true }), members: new Set() };
    const { members } = room;
    // The member an update came from is its origin: everyone else in the room gets it.
    room.doc.on('update', (update: Uint8Array, origin: unknown) => {
      const message = syncMessage((encoder) => syncProtocol.writeUpdate(encoder, update));
      for (const member of members) if (member !== origin) this.send(member, message);
    });
    this.rooms.set(name, room);
    return room;
  }
}

function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

/** Items pushed in one turn of the event loop, posted together at its end, in order. */
export function turnBatch<T>(post: (items: T[]) => void): {
  push(item: T): void;
  readonly last: T | undefined;
} {
  let items: T[] = [];
  return {
    push(item) {
      if (items.push(item) === 1)
        setImmediate(() => {
          const posted = items;
          items = [];
          post(posted);
        });
    },
    get last() {
      return items[items.length - 1];
    },
  };
}
