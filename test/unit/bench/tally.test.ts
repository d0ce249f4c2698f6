/**
 * The sync bench's count of copies (bench/sync/tally.ts): an edit's number is read from the
 * update's bytes, its latency counted from when it was sent, and each client's copy counts once.
 */
import { describe, expect, it } from 'vitest';
import { markedTitle, Tally, WARM_UP_MARK } from '../../../bench/sync/tally';

/** An update's bytes as the server would send them: the marked titles among other bytes. */
const update = (...titles: string[]) => new TextEncoder().encode(`\u0001${titles.join('\u0002')}\u0003`);

describe('the sync bench tally', () => {
  it('counts a copy with its latency, and the edit complete once every other client of the room has it', () => {
    const tally = new Tally(2, 3);
    tally.measuring = true;
    tally.sent(0, 0, 100);
    tally.receive(1, update(markedTitle(0, 100)), 112.5);
    expect([tally.count, tally.complete]).toEqual([1, 0]);
    expect(tally.latencies[0]).toBeCloseTo(12.5, 6);
    tally.receive(2, update(markedTitle(0, 100)), 120);
    expect([tally.count, tally.complete, tally.lastReceipt]).toEqual([2, 1, 120]);
    expect(tally.slowest[0]).toBeCloseTo(20, 6);
    expect(tally.expectedCopies).toBe(4);
  });

  it('counts from when an edit was sent, not from when it was made (the clients make theirs ahead)', () => {
    const tally = new Tally(1, 2);
    tally.measuring = true;
    tally.sent(0, 0, 100);
    tally.receive(1, update(markedTitle(0, 40)), 107);
    expect(tally.latencies[0]).toBeCloseTo(7, 6);
  });

  it('reads only its own mark: a load edit whose edit log names a warm-up title of the same number is one copy', () => {
    const tally = new Tally(1, 2);
    tally.measuring = true;
    tally.sent(0, 0, 100);
    tally.receive(1, update(markedTitle(0, 10, WARM_UP_MARK)), 150);
    expect([tally.count, tally.unreadable]).toEqual([0, 1]);
    tally.receive(1, update(markedTitle(0, 90), markedTitle(0, 10, WARM_UP_MARK)), 104);
    expect(tally.count).toBe(1);
    expect(tally.latencies[0]).toBeCloseTo(4, 6);
  });

  it('reads every edit of an update that carries several (the server merges a busy room’s updates)', () => {
    const tally = new Tally(2, 2);
    tally.measuring = true;
    tally.sent(0, 0, 10);
    tally.sent(1, 0, 11);
    tally.receive(1, update(markedTitle(0, 10), markedTitle(1, 11)), 15);
    expect([tally.count, tally.complete, tally.unreadable]).toEqual([2, 2, 0]);
  });

  it('counts a client’s second sight of an edit (an edit log naming the title it replaced) as no new copy', () => {
    const tally = new Tally(2, 3);
    tally.measuring = true;
    tally.sent(0, 0, 10);
    tally.sent(1, 0, 20);
    tally.receive(1, update(markedTitle(0, 10)), 15);
    tally.receive(1, update(markedTitle(1, 20), markedTitle(0, 10)), 25);
    expect(tally.count).toBe(2);
    expect(Array.from(tally.received)).toEqual([1, 1]);
  });

  it('counts an edit sent back to its sender as an echo, and an update without a readable mark as unreadable', () => {
    const tally = new Tally(1, 2);
    tally.measuring = true;
    tally.sent(0, 4, 10);
    tally.receive(4, update(markedTitle(0, 10)), 12);
    tally.receive(5, update('Bench deal ~b#0@~', 'no mark at all'), 12);
    tally.receive(5, update(markedTitle(7, 10)), 12);
    expect([tally.count, tally.echoes, tally.unreadable]).toEqual([0, 1, 2]);
  });

  it('counts nothing while it is not measuring', () => {
    const tally = new Tally(1, 2);
    tally.sent(0, 0, 10);
    tally.receive(1, update(markedTitle(0, 10)), 12);
    expect([tally.count, tally.unreadable]).toEqual([0, 0]);
  });
});
