/**
 * The service worker, seen from the page: registers it (through vite-plugin-pwa's `virtual:pwa-register`,
 * which drives workbox-window) and says, as reactive state, whether the app is ready offline and whether
 * an update is waiting.
 *
 * An update is never applied by itself: the waiting worker only takes over when the person presses
 * "Reload to update" (`update()`), because a reload in the middle of an edit would lose it.
 */
import { registerSW, type RegisterSWOptions } from 'virtual:pwa-register';

/** The shape of `registerSW`; tests pass their own. */
export type RegisterServiceWorker = (options: RegisterSWOptions) => (reloadPage?: boolean) => Promise<void>;

export interface ServiceWorkerUpdatesOptions {
  register?: RegisterServiceWorker;
  /** Reloads the page once the new worker controls it. */
  reload?: () => void;
  /** Whether the device has a network; an update check without one only fails. */
  isOnline?: () => boolean;
}

/**
 * Browsers look for a new service worker on navigations, but a single-page app left open all day on a
 * phone never navigates: check once an hour so that the update banner still appears.
 */
const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;
/**
 * "Ready to work offline" is news, not a question: it goes by itself after this long (OK hides it
 * sooner), so that on a phone it does not keep covering the bottom of a form.
 */
export const OFFLINE_READY_NOTICE_MS = 6000;

export class ServiceWorkerUpdates {
  /** A new version is installed and waiting for the person to reload. */
  needRefresh = $state(false);
  /** The app shell is cached: the app now starts without a network. */
  offlineReady = $state(false);

  readonly #register: RegisterServiceWorker;
  readonly #reload: () => void;
  readonly #isOnline: () => boolean;
  #applyUpdate: ((reloadPage?: boolean) => Promise<void>) | undefined;
  #registration: ServiceWorkerRegistration | undefined;
  #updateTimer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #updateRequested = false;
  /** Another tab applied the update: the new worker already controls this page. */
  #newWorkerInControl = false;

  constructor({
    register = registerSW,
    reload = () => location.reload(),
    isOnline = () => navigator.onLine,
  }: ServiceWorkerUpdatesOptions = {}) {
    this.#register = register;
    this.#reload = reload;
    this.#isOnline = isOnline;
  }

  /**
   * Registers the service worker (once, however often it is called, so a component that mounts again
   * does not register twice) and checks for updates periodically until the returned function is called.
   */
  start(): () => void {
    this.#running = true;
    this.#applyUpdate ??= this.#register({
      onNeedRefresh: () => {
        this.needRefresh = true;
      },
      onOfflineReady: () => {
        this.offlineReady = true;
        setTimeout(() => (this.offlineReady = false), OFFLINE_READY_NOTICE_MS);
      },
      // The new worker now controls this page. Reload only if this page asked for the update: when
      // another tab applied it, this one may be in the middle of an edit, so it asks instead.
      onNeedReload: () => {
        if (this.#updateRequested) {
          this.#reload();
        } else {
          this.#newWorkerInControl = true;
          this.needRefresh = true;
        }
      },
      onRegisteredSW: (_url, registration) => {
        this.#registration = registration;
        this.#checkPeriodically();
      },
      onRegisterError: (error: unknown) => {
        console.error(
          'partner-kpi: the service worker could not be registered; the app will not work offline.',
          error,
        );
      },
    });
    this.#checkPeriodically();
    return () => this.stop();
  }

  /** Stops the periodic update check; the service worker stays registered. */
  stop(): void {
    this.#running = false;
    clearInterval(this.#updateTimer);
    this.#updateTimer = undefined;
  }

  /**
   * Lets the waiting worker take over; the page reloads once it controls the page. Call it only when
   * the person asks for it.
   */
  async update(): Promise<void> {
    // Nothing is waiting any more (another tab applied the update): the new version only needs a reload.
    if (this.#newWorkerInControl || (this.#registration && !this.#registration.waiting)) {
      this.#reload();
      return;
    }
    if (!this.#applyUpdate) return;
    this.#updateRequested = true;
    await this.#applyUpdate(true);
  }

  /** Hides both notices; a waiting update then applies once every tab of the app has been closed. */
  dismiss(): void {
    this.needRefresh = false;
    this.offlineReady = false;
  }

  #checkPeriodically(): void {
    const registration = this.#registration;
    if (!registration || !this.#running || this.#updateTimer !== undefined) return;
    this.#updateTimer = setInterval(() => {
      if (this.#isOnline()) registration.update().catch(() => undefined);
    }, UPDATE_CHECK_INTERVAL_MS);
  }
}

/**
 * Asks the browser not to evict the app's data (IndexedDB) under storage pressure; Safari may otherwise
 * clear the storage of a site that is not installed after seven days without a visit. Resolves to
 * whether the storage is persisted; false where the browser has no Storage API or refuses.
 */
export async function requestPersistentStorage(
  storage: StorageManager | undefined = globalThis.navigator?.storage,
): Promise<boolean> {
  if (typeof storage?.persist !== 'function') return false;
  try {
    if (typeof storage.persisted === 'function' && (await storage.persisted())) return true;
    return await storage.persist();
  } catch {
    return false;
  }
}
