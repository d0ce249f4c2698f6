import { getContext, setContext } from 'svelte';
import type { Session } from './session.svelte';

const SESSION = Symbol('session');

export function provideSession(session: Session): Session {
  return setContext(SESSION, session);
}

/** The session of the root layout; every screen below it has one. */
export function useSession(): Session {
  const session = getContext<Session | undefined>(SESSION);
  if (!session) throw new Error('useSession() outside the root layout');
  return session;
}
