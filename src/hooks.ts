import type { Reroute } from '@sveltejs/kit';

/**
 * The vendor's console lives in `routes/console/` but keeps its addresses under `/vendor/…`, the
 * ones its people have bookmarked and shared: they are served by the console's routes.
 */
export const reroute: Reroute = ({ url }) => {
  if (url.pathname === '/vendor' || url.pathname.startsWith('/vendor/'))
    return `/console${url.pathname.slice('/vendor'.length)}`;
};
