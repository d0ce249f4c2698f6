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
  /**
   * Open sockets per remote address. Mobile carriers put thousands of phones behind one address
   * (carrier-grade NAT), so this only stops one machine from holding every socket the server has;
   * the per-user limit is the one that bites.
   */
  connectionsPerAddress: number;
  /** Sockets of one address still waiting for their token check (a few ms each): a flood of sign-ins. */
  unauthorizedPerAddress: number;
  /**
   * Bytes a socket may send before its token is checked: the client's hello (sync step 1 and
   * presence) is a few hundred bytes. The socket is paused meanwhile, so little more arrives.
   */
  unauthorizedBytes: number;
  /** Open sockets per user: two rooms per app tab, a few tabs and devices, and reconnects overlapping. */
  connectionsPerUser: number;
  /** Sustained messages per second over all of one user's sockets: more sockets do not buy more. */
  userMessagesPerSecond: number;
  /** Sustained bytes per second over all of one user's sockets. */
  userBytesPerSecond: number;
  /** How often dead peers are looked for (a ping; a socket that missed the last pong is dropped). */
  pingIntervalMs: number;
}

export const DEFAULT_LIMITS: SyncLimits = {
  maxMessageBytes: 32 * 1024 * 1024,
  messagesPerSecond: 200,
  messageBurst: 1000,
  bytesPerSecond: 1024 * 1024,
  connectionsPerAddress: 4096,
  unauthorizedPerAddress: 256,
  unauthorizedBytes: 64 * 1024,
  connectionsPerUser: 32,
  userMessagesPerSecond: 400,
  userBytesPerSecond: 2 * 1024 * 1024,
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
