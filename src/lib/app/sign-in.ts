/**
 * Signing in, without runes: what a token says (decoded, not verified — only the server holds the
 * secret; the device needs the claims to know whose data to open: session/identity.ts), the
 * sign-in link's fragment, the demo sign-in API, and the program directory a signed-in device
 * starts from.
 *
 * A sign-in link is `/signin#token=…`: a fragment is never sent to a server, so the token stays out
 * of every server's and proxy's logs.
 */
import { decodeJwt } from 'jose';
import {
  DEFAULT_STAGE_PROBABILITY,
  ROLES,
  type Partner,
  type ProgramDirectory,
  type Rep,
  type Role,
} from '../domain/schema';
import { directoryOf, loadDemo } from './demo.service';
import { DEMO_CURRENCY, DEMO_PROGRAM_ID, DEMO_TZ } from '../demo/demo-program';
import type { DemoUser } from '../sync/protocol';
import type { Claims } from './session/identity';

export type { DemoUser };

/** The claims of a token, or undefined when it is not a token of this app's shape. */
export function claimsOf(token: string): Claims | undefined {
  let payload: ReturnType<typeof decodeJwt>;
  try {
    payload = decodeJwt(token);
  } catch {
    return undefined;
  }
  const { sub, exp } = payload;
  const role = payload['role'];
  const programId = payload['programId'];
  const partnerId = payload['partnerId'];
  if (typeof sub !== 'string' || typeof exp !== 'number' || typeof programId !== 'string') return undefined;
  if (!(ROLES as readonly unknown[]).includes(role)) return undefined;
  if (partnerId !== undefined && typeof partnerId !== 'string') return undefined;
  if (role !== 'vendor_manager' && partnerId === undefined) return undefined;
  return {
    userId: sub,
    role: role as Role,
    programId,
    ...(partnerId === undefined ? {} : { partnerId }),
    expiresAt: exp * 1000,
  };
}

/** The token of a sign-in link's fragment (`#token=…`), if any. */
export function tokenFromFragment(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token : undefined;
}

export type Fetch = typeof fetch;

/** The demo users, or undefined when the server offers none (the demo is off: 404) or cannot be reached. */
export async function fetchDemoUsers(fetcher: Fetch): Promise<DemoUser[] | undefined> {
  try {
    const response = await fetcher('/api/demo-users', { headers: { Accept: 'application/json' } });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { users?: DemoUser[] };
    return Array.isArray(body.users) ? body.users : undefined;
  } catch {
    return undefined;
  }
}

/** Signs a demo user in: the token, or undefined when the server refuses or cannot be reached. */
export async function demoSignIn(fetcher: Fetch, userId: string): Promise<string | undefined> {
  try {
    const response = await fetcher('/api/demo-sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ userId }),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: unknown };
    return typeof body.token === 'string' ? body.token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The partners a vendor manager's token may open (the server reads them from the program
 * document), or undefined when the server refuses or cannot be reached.
 */
export async function fetchVendorPartners(
  fetcher: Fetch,
  token: string,
): Promise<{ id: string; name: string }[] | undefined> {
  try {
    const response = await fetcher('/api/partners', {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { partners?: unknown };
    if (!Array.isArray(body.partners)) return undefined;
    return body.partners
      .filter(
        (entry): entry is { id: string; name: string } =>
          typeof entry?.id === 'string' && typeof entry?.name === 'string',
      )
      .map(({ id, name }) => ({ id, name }));
  } catch {
    return undefined;
  }
}

/**
 * The program's directory (program settings, partners, reps) for a signed-in person. Until the
 * program document is synced to the device, it comes with the app: the demo program's, or for
 * another program only what the sign-in said, in the demo's currency and zone. Names the sign-in
 * gave (the demo users) win over the generated ones. Without `partnerId`: the partners a vendor
 * manager may choose from.
 */
export async function directoryFor(
  claims: Claims,
  partnerId: string | undefined,
  now: number,
  users: DemoUser[] = [],
): Promise<ProgramDirectory> {
  let directory: ProgramDirectory;
  if (claims.programId === DEMO_PROGRAM_ID) {
    directory = directoryOf(await loadDemo(now));
  } else {
    directory = {
      program: {
        id: claims.programId,
        name: claims.programId,
        currency: DEMO_CURRENCY,
        timeZone: DEMO_TZ,
        stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
      },
      partners: [],
      reps: [],
    };
  }
  const partners = new Map<string, Partner>(directory.partners.map((partner) => [partner.id, partner]));
  const reps = new Map<string, Rep>(directory.reps.map((rep) => [rep.id, rep]));
  for (const user of users.filter((candidate) => candidate.programId === claims.programId)) {
    if (user.partnerId && user.partnerName) {
      const known = partners.get(user.partnerId);
      partners.set(user.partnerId, {
        createdAt: 0,
        ...known,
        id: user.partnerId,
        programId: claims.programId,
        name: user.partnerName,
      });
    }
    if (user.partnerId && user.role !== 'vendor_manager') {
      const known = reps.get(user.userId);
      reps.set(user.userId, {
        createdAt: 0,
        ...known,
        id: user.userId,
        partnerId: user.partnerId,
        role: user.role,
        name: user.name,
      });
    }
  }
  if (partnerId !== undefined && !partners.has(partnerId))
    partners.set(partnerId, { id: partnerId, programId: claims.programId, name: partnerId, createdAt: 0 });
  if (partnerId !== undefined && claims.role !== 'vendor_manager' && !reps.has(claims.userId)) {
    reps.set(claims.userId, {
      id: claims.userId,
      partnerId,
      name: claims.userId,
      role: claims.role,
      createdAt: 0,
    });
  }
  return { program: directory.program, partners: [...partners.values()], reps: [...reps.values()] };
}
