/**
 * The partner open on this device, and the queue that opens and switches partners: a sign-in, a
 * vendor manager's switch to another partner, an opening again in the program's zone — one at a
 * time, each after the one before, so that two never write the same projection at once.
 */
import type { OpenPartner } from './open-partner.svelte';

export class PartnerQueue {
  /** The partner open now, as soon as its stored rows can be read; undefined while none is. */
  current = $state.raw<OpenPartner | undefined>();
  private opening: Promise<void> = Promise.resolve();

  /** Runs `open` once the openings queued before it are done; its failure is the caller's (the queue goes on). */
  enqueue(open: () => Promise<void>): Promise<void> {
    const opened = this.opening.then(open);
    this.opening = opened.catch(() => {});
    return opened;
  }

  /** Resolves once every opening queued so far is done. */
  settled(): Promise<void> {
    return this.opening;
  }

  /** Closes the partner open now, after what is on its way to IndexedDB is stored. */
  async close(): Promise<void> {
    const partner = this.current;
    this.current = undefined;
    await partner?.close();
  }
}
