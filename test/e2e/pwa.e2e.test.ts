/**
 * The progressive web app, end to end: the production build, served by the real server, in the system
 * Chromium. Checks that the browser finds the app installable and that, once the service worker is
 * active, the app starts with the server gone — at its start URL and at a deep link.
 *
 * The server is stopped rather than the context put offline: `context.setOffline(true)` does not stop
 * the service worker's own fetches, so it would not prove the precache is complete.
 */
import type { Locator, Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, launchBrowser, startServer } from '../support/browser-harness';

/** Building the app takes 10–60 s here (a first build compiles the messages too); CI gets room. */
const BUILD_TIMEOUT_MS = 180_000;
/** Installing the service worker downloads and caches the whole shell. */
const SERVICE_WORKER_TIMEOUT_MS = 30_000;

/** Resources the app shell consists of; anything else (data, sync) may fail offline. */
const SHELL_RESOURCES = new Set(['document', 'script', 'stylesheet', 'image', 'font', 'manifest']);

/** What the page keeps for the test while it waits for the service worker. */
type PageWithRegistration = typeof globalThis & { e2eRegistration?: ServiceWorkerRegistration };

interface InstallabilityError {
  errorId: string;
  errorArguments: { name: string; value: string }[];
}

/** The app as a person (and Chrome's install logic) sees it. */
class AppPage {
  constructor(
    readonly page: Page,
    readonly origin: string,
  ) {}

  open(path = '/') {
    return this.page.goto(new URL(path, this.origin).href);
  }

  reload() {
    return this.page.reload();
  }

  /** The app's main landmark, which the root layout renders once the app has started. */
  get main(): Locator {
    return this.page.getByRole('main');
  }

  /**
   * Waits until the app has started and shows its first screen (in a fresh profile, the sign-in,
   * loaded once the database says nobody is signed in); true then, a timeout error otherwise.
   */
  async appears(): Promise<boolean> {
    await this.main.waitFor({ state: 'visible' });
    await this.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    return true;
  }

  /** Waits until the app has registered its service worker and that worker is active. */
  async waitForServiceWorker(): Promise<void> {
    // `waitForFunction` does not await a predicate's promise, so the registration that
    // `serviceWorker.ready` resolves to is kept on the page and polled.
    await this.page.evaluate(() => {
      void navigator.serviceWorker.ready.then((registration) => {
        (globalThis as PageWithRegistration).e2eRegistration = registration;
      });
    });
    try {
      await this.page.waitForFunction(
        () => (globalThis as PageWithRegistration).e2eRegistration?.active?.state === 'activated',
        undefined,
        {
          timeout: SERVICE_WORKER_TIMEOUT_MS,
        },
      );
    } catch (error) {
      throw new Error(
        'The app registered no active service worker. Is <UpdatePrompt /> (src/lib/pwa) mounted in src/routes/+layout.svelte?',
        { cause: error },
      );
    }
  }

  /** What Chrome says stops it from offering installation; empty when it would offer it. */
  async installabilityErrors(): Promise<InstallabilityError[]> {
    const cdp = await this.page.context().newCDPSession(this.page);
    try {
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: InstallabilityError[];
      };
      return installabilityErrors;
    } finally {
      await cdp.detach();
    }
  }
}

interface RunningApp {
  app: AppPage;
  /** Same-origin shell resources that failed to load, as "type url". */
  failedShellRequests: string[];
  stopServer(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Serves build/ on a free port and opens a fresh Chromium profile on it. */
async function startApp(): Promise<RunningApp> {
  const server = await startServer();
  cleanups.push(() => server.stop());
  // A persistent context, unlike the default incognito-like one, is installable and has the full
  // storage quota; a fresh directory keeps earlier runs' service workers out.
  const browser = await launchBrowser({ width: 360, height: 740 });
  cleanups.push(() => browser.close());

  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  const failedShellRequests: string[] = [];
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(server.origin) && SHELL_RESOURCES.has(request.resourceType())) {
      failedShellRequests.push(
        `${request.resourceType()} ${request.url()} (${request.failure()?.errorText ?? 'failed'})`,
      );
    }
  });
  return { app: new AppPage(page, server.origin), failedShellRequests, stopServer: () => server.stop() };
}

describe('the installable offline app', () => {
  // The service worker and its precache manifest exist only in a production build.
  beforeAll(() => ensureBuilt(), BUILD_TIMEOUT_MS);

  it('is installable: Chrome reports no installability errors', async () => {
    const { app } = await startApp();
    await app.open('/');
    expect(await app.appears()).toBe(true);

    expect(await app.installabilityErrors()).toEqual([]);
  });

  it('starts without the server once the service worker is active, at / and at a deep link', async () => {
    const { app, failedShellRequests, stopServer } = await startApp();
    await app.open('/');
    await app.waitForServiceWorker();
    // Requests the online page still has in flight (lazy chunks) would fail when the server stops
    // and be mistaken for missing offline resources: stop only once the first screen is there and
    // the network is idle. (Each load below also waits for its first screen before the next
    // navigation, which would abort the lazy chunks still on their way.)
    await app.appears();
    await app.page.waitForLoadState('networkidle');
    await stopServer();

    const reloaded = await app.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    expect(await app.appears()).toBe(true);
    expect(await app.page.title()).toBe('Partner KPI');

    // A route never visited online: the service worker answers with the SPA fallback (index.html).
    const deepLink = await app.open('/deals');
    expect(deepLink?.fromServiceWorker()).toBe(true);
    expect(await app.appears()).toBe(true);

    expect(failedShellRequests).toEqual([]);
  });

  it('installs its service worker for the whole app from a first visit at a deep link', async () => {
    const { app } = await startApp();
    await app.open('/deals/D000001');
    await app.waitForServiceWorker();
    expect(await app.page.evaluate(async () => (await navigator.serviceWorker.ready).scope)).toBe(
      new URL('/', app.page.url()).href,
    );
  });
});
