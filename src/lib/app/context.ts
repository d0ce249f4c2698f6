import { getContext, setContext } from 'svelte';
import type { OpenPartner, Session } from './session';

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

/**
 * The partner open now, for the screens of a partner's data: the root layout shows them only once
 * it is open (its stored rows can be read), and a switch to another partner closes them first, so
 * the one they start with stays theirs.
 */
export function useReady(): OpenPartner {
  const ready = useSession().ready;
  if (!ready) throw new Error('useReady() on a screen shown before the partner is open');
  return ready;
}
