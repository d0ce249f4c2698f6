/** How much one connection and one address may send; each value carries why it is what it is. */
export interface SyncLimits {
  /**
   * Largest message accepted. A device that was offline for weeks sends everything it made in its
   * first sync step 2: 20,000 deals and 40,000 leads are ~15 MB of updates, so 32 MiB leaves room.
   * (`ws` would otherwise accept 100 MiB.)
   */
  maxMessageBytes: number;
  /**
   * Sustained messages per second per connection. A person makes a few; the stock client sends one
   * message per local transaction, so an app replaying a batch of edits makes hundreds at once.
   */
  messagesPerSecond: number;
  /** Messages a connection may send at once before the rate applies (a batch of edits, a reconnect). */
  messageBurst: number;
  /** Sustained bytes per second per connection, after a burst of one largest message. */
  bytesPerSecond: number;
  /** Open sockets per remote address: a shop's wifi may put a dozen phones behind one address. */
  connectionsPerAddress: number;
  /** How often dead peers are looked for (a ping; a socket that missed the last pong is dropped). */
  pingIntervalMs: number;
}

export const DEFAULT_LIMITS: SyncLimits = {
  maxMessageBytes: 32 * 1024 * 1024,
  messagesPerSecond: 200,
  messageBurst: 1000,
  bytesPerSecond: 1024 * 1024,
  connectionsPerAddress: 64,
  pingIntervalMs: 25_000,
};

/**
 * A token bucket: `take(cost)` is false once more than the burst has been spent faster than the
 * rate refills it. The clock is a parameter, so tests need no timers.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(cost: number, now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}
