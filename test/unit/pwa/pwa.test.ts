/** The service worker's notices (src/lib/pwa/pwa.svelte.ts), with a stand-in registration. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegisterSWOptions } from 'virtual:pwa-register';
import { OFFLINE_READY_NOTICE_MS, ServiceWorkerUpdates } from '../../../src/lib/pwa/pwa.svelte';

describe('the service worker notices', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function started() {
    let options: RegisterSWOptions = {};
    const reload = vi.fn();
    const updates = new ServiceWorkerUpdates({
      register: (given) => {
        options = given;
        return async () => {};
      },
      reload,
      isOnline: () => true,
    });
    const stop = updates.start();
    return { updates, options: () => options, reload, stop };
  }

  it('says the app works offline, then lets the notice go by itself', () => {
    const { updates, options, stop } = started();
    options().onOfflineReady?.();
    expect(updates.offlineReady).toBe(true);
    vi.advanceTimersByTime(OFFLINE_READY_NOTICE_MS - 1);
    expect(updates.offlineReady).toBe(true);
    vi.advanceTimersByTime(1);
    expect(updates.offlineReady).toBe(false);
    stop();
  });

  it('keeps asking about a waiting update until the person answers, and never reloads by itself', () => {
    const { updates, options, reload, stop } = started();
    options().onNeedRefresh?.();
    vi.advanceTimersByTime(10 * OFFLINE_READY_NOTICE_MS);
    expect(updates.needRefresh).toBe(true);
    expect(reload).not.toHaveBeenCalled();
    updates.dismiss();
    expect(updates.needRefresh).toBe(false);
    stop();
  });
});
