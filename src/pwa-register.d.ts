/**
 * The page side of @vite-pwa/sveltekit's service worker registration (its `virtual:pwa-register`
 * module), declared here for the options this app uses: vite-plugin-pwa's own declaration sits in
 * a nested node_modules folder that TypeScript cannot name by package.
 */
declare module 'virtual:pwa-register' {
  export interface RegisterSWOptions {
    immediate?: boolean;
    onNeedRefresh?: () => void;
    /** The new worker took control and the page would normally reload (vite-plugin-pwa 1.1+). */
    onNeedReload?: () => void;
    onOfflineReady?: () => void;
    onRegisteredSW?: (swScriptUrl: string, registration: ServiceWorkerRegistration | undefined) => void;
    onRegisterError?: (error: unknown) => void;
  }

  export function registerSW(options?: RegisterSWOptions): (reloadPage?: boolean) => Promise<void>;
}
