import { getContext, setContext } from 'svelte';
/**
 * Installing the app to the home screen. Chromium-based browsers offer it through the
 * `beforeinstallprompt` event, which is kept here so that an "Install app" button can show the
 * browser's dialog later. iOS Safari has no such event: there the person uses Share → Add to Home
 * Screen, so the app shows a hint instead, unless it already runs installed.
 */

/** The event Chromium fires when the app can be installed (not in the DOM typings: it is not standard). */
export interface BeforeInstallPromptEvent extends Event {
  readonly platforms: readonly string[];
  readonly userChoice: Promise<{ outcome: 'accepted' | 'dismissed'; platform: string }>;
  prompt(): Promise<void>;
}

/** The parts of `navigator` the platform checks read. */
export interface NavigatorLike {
  userAgent: string;
  maxTouchPoints: number;
  /** Safari's own flag, true when started from the home screen. */
  standalone?: boolean;
}

export interface Platform {
  /** An iPhone, iPod or iPad (iPadOS reports itself as a Mac, but with a touch screen). */
  isIos: boolean;
  /** Safari itself on iOS, not another browser or an app's built-in web view. */
  isIosSafari: boolean;
}

/** Browsers on iOS other than Safari name themselves in the user agent. */
const OTHER_IOS_BROWSERS = /CriOS|FxiOS|EdgiOS|OPiOS|OPT\/|YaBrowser|DuckDuckGo|GSA\//;

export function detectPlatform({ userAgent, maxTouchPoints }: NavigatorLike): Platform {
  const isIos = /iPhone|iPad|iPod/.test(userAgent) || (userAgent.includes('Macintosh') && maxTouchPoints > 1);
  // In-app web views (mail, social apps) lack the "Safari/" token and cannot add to the home screen.
  const isIosSafari = isIos && /Safari\//.test(userAgent) && !OTHER_IOS_BROWSERS.test(userAgent);
  return { isIos, isIosSafari };
}

/** The parts of `window` that InstallPrompt uses. */
export type InstallWindow = Pick<Window, 'addEventListener' | 'removeEventListener' | 'matchMedia'> & {
  navigator: NavigatorLike;
  /** An offer that came before the app started, kept by the inline script in src/app.html. */
  deferredInstallPrompt?: BeforeInstallPromptEvent | undefined;
};

export class InstallPrompt {
  /** The browser has offered installation and the app is not installed. */
  canInstall = $state(false);
  /** The app runs from the home screen or as an installed app window. */
  isStandalone = $state(false);
  readonly isIos: boolean;
  readonly isIosSafari: boolean;

  readonly #window: InstallWindow;
  #deferred: BeforeInstallPromptEvent | undefined;

  constructor(win: InstallWindow = window) {
    this.#window = win;
    ({ isIos: this.isIos, isIosSafari: this.isIosSafari } = detectPlatform(win.navigator));
  }

  /** Show the "Share → Add to Home Screen" hint: iOS Safari, and not already installed. */
  get showIosHint(): boolean {
    return this.isIosSafari && !this.isStandalone;
  }

  /** Starts listening; returns the function that stops. */
  start(): () => void {
    const win = this.#window;
    const standalone = win.matchMedia('(display-mode: standalone)');
    const readStandalone = () => {
      this.isStandalone = standalone.matches || win.navigator.standalone === true;
    };
    const keep = (event: BeforeInstallPromptEvent) => {
      this.#deferred = event;
      this.canInstall = true;
      // This instance owns the offer now; it can be used once only.
      win.deferredInstallPrompt = undefined;
    };
    const onBeforeInstallPrompt = (event: Event) => {
      // Keep the browser's own mini-infobar away; the app offers installation with its own button.
      event.preventDefault();
      keep(event as BeforeInstallPromptEvent);
    };
    const onInstalled = () => {
      this.#deferred = undefined;
      this.canInstall = false;
    };
    if (win.deferredInstallPrompt) keep(win.deferredInstallPrompt);
    readStandalone();
    standalone.addEventListener('change', readStandalone);
    win.addEventListener('beforeinstallprompt', onBeforeInstallPrompt);
    win.addEventListener('appinstalled', onInstalled);
    return () => {
      standalone.removeEventListener('change', readStandalone);
      win.removeEventListener('beforeinstallprompt', onBeforeInstallPrompt);
      win.removeEventListener('appinstalled', onInstalled);
    };
  }

  /**
   * Shows the browser's install dialog. The kept event can prompt only once, so it is dropped
   * either way; the browser fires a new one if the person declines and may install later.
   */
  async install(): Promise<'accepted' | 'dismissed' | 'unavailable'> {
    const event = this.#deferred;
    if (!event) return 'unavailable';
    this.#deferred = undefined;
    this.canInstall = false;
    await event.prompt();
    const { outcome } = await event.userChoice;
    return outcome;
  }
}

const INSTALL_PROMPT = Symbol('install-prompt');

/**
 * The browser offers installation once, early (`beforeinstallprompt`): the root layout starts one
 * InstallPrompt at start-up and every install button below it uses that one.
 */
export function provideInstallPrompt(prompt: InstallPrompt): InstallPrompt {
  return setContext(INSTALL_PROMPT, prompt);
}

export function useInstallPrompt(): InstallPrompt | undefined {
  return getContext<InstallPrompt | undefined>(INSTALL_PROMPT);
}
