import { describe, expect, it } from 'vitest';
import { Heartbeat, type Pingable } from '../../../../server/sync/heartbeat';

class FakeSocket implements Pingable {
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
  }
}

const sockets = (count: number) => Array.from({ length: count }, () => new FakeSocket());

describe('Heartbeat', () => {
  it('pings each socket once per round of ticks, a slice of them a tick', () => {
    const heartbeat = new Heartbeat<FakeSocket>(25);
    const all = sockets(1000);
    for (const socket of all) heartbeat.add(socket);
    const pingsAfter = () => all.reduce((sum, socket) => sum + socket.pings, 0);
    let before = 0;
    for (let tick = 0; tick < 25; tick++) {
      heartbeat.tick();
      // 1,000 sockets over 25 slices: 40 a tick, never the whole lot at once.
      expect(pingsAfter() - before).toBe(40);
      before = pingsAfter();
      for (const socket of all) heartbeat.pong(socket);
    }
    expect(all.every((socket) => socket.pings === 1)).toBe(true);
    expect(heartbeat.tickMs(25_000)).toBe(1_000);
  });

  it('cuts off a socket that did not answer its last ping when its turn comes again, and only it', () => {
    const heartbeat = new Heartbeat<FakeSocket>(4);
    const [silent, answering] = sockets(2) as [FakeSocket, FakeSocket];
    heartbeat.add(silent);
    heartbeat.add(answering);
    for (let round = 0; round < 3; round++)
      for (let tick = 0; tick < 4; tick++) {
        heartbeat.tick();
        heartbeat.pong(answering);
      }
    expect(silent.pings).toBe(1);
    expect(silent.terminated).toBe(true);
    expect(answering.pings).toBe(3);
    expect(answering.terminated).toBe(false);
  });

  it('puts a new socket in the smallest slice, so that ticks stay even as sockets come and go', () => {
    const heartbeat = new Heartbeat<FakeSocket>(2);
    const [a, b, c, d] = sockets(4) as [FakeSocket, FakeSocket, FakeSocket, FakeSocket];
    for (const socket of [a, b, c, d]) heartbeat.add(socket);
    // a and c share the first slice: both leave, and the next two take their place.
    heartbeat.remove(a);
    heartbeat.remove(c);
    const [e, f] = sockets(2) as [FakeSocket, FakeSocket];
    heartbeat.add(e);
    heartbeat.add(f);
    heartbeat.tick();
    expect([e.pings, f.pings, b.pings, d.pings]).toEqual([1, 1, 0, 0]);
  });

  it('forgets a removed socket', () => {
    const heartbeat = new Heartbeat<FakeSocket>(2);
    const [gone] = sockets(1) as [FakeSocket];
    heartbeat.add(gone);
    heartbeat.remove(gone);
    for (let tick = 0; tick < 6; tick++) heartbeat.tick();
    expect(gone.pings).toBe(0);
    expect(gone.terminated).toBe(false);
  });
});
