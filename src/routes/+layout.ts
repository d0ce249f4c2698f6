// A single-page app: everything renders on the device, from local data, so it works offline.
export const ssr = false;
export const prerender = false;
