/**
 * The sync bench's count of one load: every edit sent, every copy received, and how late.
 *
 * An edit carries its number in the deal's title (`markedTitle`); a receiver finds it in the
 * update's bytes without decoding it (`Tally.receive`), so 1,000 clients fit in one process and one
 * clock times both ends of every delivery: from when the edit was sent (`sent`) to each receipt.
 */

/**
 * Written before an edit's id and the time it was made in the deal's title, and found in the
 * update's bytes (an id has no '~' or '#'): the load's edits and the warm-up's are marked apart, as
 * both are numbered from 0 and a load edit's edit-log entry names the warm-up title it replaced.
 */
export const LOAD_MARK = '~b#';
export const WARM_UP_MARK = '~w#';

/**
 * The title of edit `seq` made at `at` (performance.now(), ms): `Bench deal ~b#<seq>@<µs>~`. The
 * time makes every title differ and an edit as long as a real one; latency is counted from when the
 * edit was sent, which may be later (bench/sync/client.ts makes its edits ahead).
 */
export const markedTitle = (seq: number, at: number, mark = LOAD_MARK): string =>
  `Bench deal ${mark}${seq}@${Math.round(at * 1000)}~`;

/** What happened during one load: every edit sent, every copy received. */
export class Tally {
  measuring = false;
  readonly senderOf: Int32Array;
  /** When each edit was sent (performance.now(), ms): its copies' latencies run from there. */
  readonly sentAt: Float64Array;
  readonly expected: Uint16Array;
  readonly received: Uint16Array;
  /** The slowest copy of each edit: when the whole room had it. */
  readonly slowest: Float64Array;
  readonly latencies: Float64Array;
  count = 0;
  complete = 0;
  lastReceipt = 0;
  echoes = 0;
  unreadable = 0;
  readonly acks: number[] = [];
  /** The edits each client has had a copy of: a later edit's entry in the deal's edit log (sync SPEC S13) names the title it replaced, i.e. an earlier edit's mark, which is no new copy. */
  private readonly had = new Map<number, Uint8Array>();

  /** The mark of this tally's edits (LOAD_MARK or WARM_UP_MARK), as bytes. */
  private readonly markBytes: Buffer;

  constructor(
    readonly updates: number,
    clientsPerRoom: number,
    mark = LOAD_MARK,
  ) {
    this.markBytes = Buffer.from(mark, 'latin1');
    this.senderOf = new Int32Array(updates).fill(-1);
    this.sentAt = new Float64Array(updates);
    this.expected = new Uint16Array(updates).fill(clientsPerRoom - 1);
    this.received = new Uint16Array(updates);
    this.slowest = new Float64Array(updates);
    this.latencies = new Float64Array(updates * (clientsPerRoom - 1));
  }

  get expectedCopies(): number {
    return this.latencies.length;
  }

  /** Edit `seq` was sent by `client` at `at` (performance.now(), ms). */
  sent(seq: number, client: number, at: number): void {
    this.senderOf[seq] = client;
    this.sentAt[seq] = at;
  }

  /**
   * Finds every `<mark><seq>@<µs>~` of this tally's mark in the update's bytes and records each copy: the server merges
   * the updates stored while it was busy into one message, so one message may carry several edits.
   */
  receive(client: number, update: Uint8Array, at: number): void {
    if (!this.measuring) return;
    const bytes = Buffer.from(update.buffer, update.byteOffset, update.byteLength);
    let found = 0;
    const mark = this.markBytes;
    for (let pos = bytes.indexOf(mark); pos >= 0; pos = bytes.indexOf(mark, pos + 1)) {
      if (this.receiveOne(client, bytes, pos + mark.length, at)) found++;
    }
    if (found === 0) this.unreadable++;
  }

  private receiveOne(client: number, bytes: Buffer, start: number, at: number): boolean {
    let pos = start;
    let seq = 0;
    let digits = 0;
    for (; pos < bytes.length && bytes[pos]! >= 0x30 && bytes[pos]! <= 0x39; pos++, digits++)
      seq = seq * 10 + bytes[pos]! - 0x30;
    // The time the edit was made: checked for the title's shape, not used (see markedTitle).
    let microDigits = 0;
    if (bytes[pos] === 0x40)
      for (pos++; pos < bytes.length && bytes[pos]! >= 0x30 && bytes[pos]! <= 0x39; pos++) microDigits++;
    if (
      digits === 0 ||
      microDigits === 0 ||
      bytes[pos] !== 0x7e ||
      seq >= this.updates ||
      this.senderOf[seq] === -1
    )
      return false;
    if (this.senderOf[seq] === client) {
      this.echoes++;
      return true;
    }
    let had = this.had.get(client);
    if (had === undefined) this.had.set(client, (had = new Uint8Array(this.updates)));
    if (had[seq]) return true;
    had[seq] = 1;
    const latency = at - this.sentAt[seq]!;
    this.latencies[this.count++] = latency;
    if (latency > this.slowest[seq]!) this.slowest[seq] = latency;
    this.received[seq]!++;
    if (this.received[seq] === this.expected[seq]) this.complete++;
    this.lastReceipt = at;
    return true;
  }
}
