/**
 * Every tab of the app shares the device's data: one IndexedDB database and one folder of save
 * journals. Removing it (signing out, clearing the data) in one tab must not leave another tab
 * writing the old data afterwards — its next save would bring back rows of a person who signed out,
 * into the next person's database (sync SPEC T6).
 *
 * So a tab holds a shared Web Lock on the database while its stores are open, and the tab that
 * removes the data tells the others on a BroadcastChannel, then waits for the lock exclusively:
 * it is granted once every other tab has closed its stores (their saves in progress stored first)
 * and let go. The others wait, behind it, to hold the lock again, then start over from what is left
 * (the sign-in screen, or the data loaded again). A tab that closes lets go of its lock by itself.
 * Where the browser has no Web Locks the others are only told, and start over once told it is done.
 */

/** The part of the Web Locks API used here (the browser's `navigator.locks`; tests inject their own). */
export interface Locks {
  request(
    name: string,
    options: { mode: 'shared' | 'exclusive' },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

export interface LocalDataOptions {
  BroadcastChannel?: typeof BroadcastChannel;
  /** Default: `navigator.locks`, where there is one. */
  locks?: Locks;
}

/** Node's channels (tests, scripts) would keep the process alive while a session is open; browsers have no `unref`. */
export function unref(channel: BroadcastChannel | undefined): void {
  (channel as (BroadcastChannel & { unref?: () => void }) | undefined)?.unref?.();
}

type DataMessage = { v: 1; type: 'removing' | 'removed'; from: string };

export class LocalDataTabs {
  private readonly channel: BroadcastChannel | undefined;
  private readonly locks: Locks | undefined;
  private readonly lockName: string;
  private readonly self = Math.random().toString(36).slice(2) + Date.now().toString(36);
  /** Lets go of this tab's shared lock; undefined while it holds none. */
  private letGo: (() => void) | undefined;
  private holding: Promise<void> | undefined;
  private readonly removedWaiters = new Set<() => void>();
  private removingListener: (() => Promise<void>) | undefined;

  constructor(database: string, options: LocalDataOptions = {}) {
    this.lockName = `partner-kpi/${database}/local-data`;
    this.locks =
      options.locks ??
      (typeof navigator !== 'undefined' ? (navigator.locks as Locks | undefined) : undefined);
    const Channel = options.BroadcastChannel ?? globalThis.BroadcastChannel;
    this.channel = Channel ? new Channel(this.lockName) : undefined;
    if (this.channel) this.channel.onmessage = (event: MessageEvent) => this.heard(event.data);
    unref(this.channel);
  }

  /** Called when another tab starts removing the data: close every store (then `afterRemoval`). */
  onRemoving(listener: () => Promise<void>): void {
    this.removingListener = listener;
  }

  /**
   * This tab opens stores: holds the shared lock while it does. Waits while another tab removes
   * the data. Holding it already changes nothing.
   */
  hold(): Promise<void> {
    if (this.holding) return this.holding;
    const locks = this.locks;
    if (!locks) return (this.holding = Promise.resolve());
    this.holding = new Promise<void>((granted) => {
      void locks
        .request(this.lockName, { mode: 'shared' }, () => {
          granted();
          return new Promise<void>((release) => (this.letGo = release));
        })
        .catch(() => granted());
    });
    return this.holding;
  }

  /** This tab has closed its stores. */
  release(): void {
    this.letGo?.();
    this.letGo = undefined;
    this.holding = undefined;
  }

  /**
   * Removes the data (`remove`), once every other tab has let go of it: tells them, then waits for
   * the lock exclusively; tells them when it is done. This tab's stores must be closed already.
   */
  async remove(remove: () => Promise<void>): Promise<void> {
    this.release();
    const locks = this.locks;
    // The exclusive request is queued before the others hear of it: their next hold waits behind it.
    const removed = locks ? locks.request(this.lockName, { mode: 'exclusive' }, remove) : undefined;
    this.post('removing');
    try {
      await (removed ?? remove());
    } finally {
      this.post('removed');
    }
  }

  /** After closing on `onRemoving`: resolves once the other tab has removed the data. */
  afterRemoval(): Promise<void> {
    if (this.locks) return this.hold().then(() => this.release());
    return new Promise((resolve) => this.removedWaiters.add(resolve));
  }

  close(): void {
    this.release();
    if (this.channel) {
      this.channel.onmessage = null;
      this.channel.close();
    }
    for (const resolve of this.removedWaiters) resolve();
    this.removedWaiters.clear();
  }

  private post(type: DataMessage['type']): void {
    try {
      this.channel?.postMessage({ v: 1, type, from: this.self } satisfies DataMessage);
    } catch {
      // A closed channel: nothing to tell.
    }
  }

  private heard(data: unknown): void {
    const message = data as Partial<DataMessage> | null;
    if (typeof message !== 'object' || message === null || message.v !== 1 || message.from === this.self)
      return;
    if (message.type === 'removing') void this.removingListener?.();
    if (message.type === 'removed') {
      for (const resolve of this.removedWaiters) resolve();
      this.removedWaiters.clear();
    }
  }
}
