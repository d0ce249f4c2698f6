/**
 * Finding dead peers without a burst. Each socket is pinged once every `intervalMs` and dropped if
 * it has not answered (pong) its previous ping by then, as a phone that lost its signal leaves its
 * socket open on the server's side. The sockets are spread over `slices` ticks of that interval,
 * one slice a tick: pinging them all at once made every client answer in the same few
 * milliseconds (a thousand pongs in the sync bench held every edit up by 50–100 ms once per
 * interval); spread, each tick pings a few.
 */
export interface Pingable {
  ping(): void;
  terminate(): void;
}

export class Heartbeat<S extends Pingable> {
  private readonly slices: Set<S>[];
  private readonly sliceOf = new Map<S, Set<S>>();
  private readonly answered = new WeakMap<S, boolean>();
  private next = 0;

  constructor(slices: number) {
    this.slices = Array.from({ length: Math.max(1, slices) }, () => new Set<S>());
  }

  /** How often to call `tick` for each socket to be pinged once every `intervalMs`. */
  tickMs(intervalMs: number): number {
    return intervalMs / this.slices.length;
  }

  add(socket: S): void {
    // The smallest slice: sockets that closed leave theirs smaller, and ticks stay even.
    const slice = this.slices.reduce((smallest, one) => (one.size < smallest.size ? one : smallest));
    slice.add(socket);
    this.sliceOf.set(socket, slice);
    this.answered.set(socket, true);
  }

  remove(socket: S): void {
    this.sliceOf.get(socket)?.delete(socket);
    this.sliceOf.delete(socket);
  }

  pong(socket: S): void {
    this.answered.set(socket, true);
  }

  /** The next slice: each of its sockets that did not answer its last ping is cut off, the others pinged. */
  tick(): void {
    const slice = this.slices[this.next]!;
    this.next = (this.next + 1) % this.slices.length;
    for (const socket of slice) {
      if (!this.answered.get(socket)) {
        this.remove(socket);
        socket.terminate();
        continue;
      }
      this.answered.set(socket, false);
      socket.ping();
    }
  }
}
