/**
 * Who may do what in which room, from nothing but the token's claims and the parsed room name.
 * Partners of one program are often competitors: nothing of one partner may reach another.
 *
 *   room                                   rep, partner_manager        vendor_manager
 *   program/<p>                            none                        write
 *   program/<p>/rollups                    none                        read   (the server writes)
 *   program/<p>/rollups/days               none                        none   (the server's alone)
 *   program/<p>/partner/<own>              write                       read
 *   program/<p>/partner/<own>/channel      read                        read   (the server writes)
 *   program/<p>/partner/<other>[/channel]  none                        read
 *   another program                        none                        none
 *
 * Everything else — a claim set that does not fit its role, a room of another shape — is `none`.
 * Deny is the default: each grant below is spelled out. The rooms the server writes (rollups,
 * channels) are read-only for everyone, so no client's write ever reaches them.
 */
import type { IncomingMessage } from 'node:http';
import type { RoomName } from '../../src/lib/sync/rooms';
import type { Access, TokenClaims } from './claims';

export function roomAccess(claims: TokenClaims, room: RoomName): Access {
  if (room.programId !== claims.programId) return 'none';
  switch (claims.role) {
    case 'rep':
    case 'partner_manager':
      if (claims.partnerId === undefined) return 'none';
      if (room.kind === 'partner') return room.partnerId === claims.partnerId ? 'write' : 'none';
      if (room.kind === 'channel') return room.partnerId === claims.partnerId ? 'read' : 'none';
      return 'none';
    case 'vendor_manager':
      // verifyToken never yields this, but a vendor manager bound to a partner is not one we know.
      if (claims.partnerId !== undefined) return 'none';
      if (room.kind === 'rollupDays') return 'none';
      return room.kind === 'program' ? 'write' : 'read';
    default:
      return 'none';
  }
}

/** The subprotocol the app speaks; the server answers with it, so that browsers accept the socket. */
export const APP_PROTOCOL = 'partner-kpi';
/**
 * Browsers cannot set headers on a WebSocket, so the app sends its token as a second offered
 * subprotocol, `bearer.<token>` (every JWT character is allowed in a subprotocol name). The server
 * must never answer with it: that would echo the token.
 */
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

/**
 * The token a connection presents: from an offered `bearer.<token>` subprotocol, else from the
 * `token` query parameter (what the stock y-websocket client's `params: { token }` sends).
 * `protocol` is APP_PROTOCOL when the client offered it, i.e. the one to answer with.
 * Two different tokens in one place are ambiguous and give none. Nothing here logs: the URL and the
 * header are secrets.
 */
export function tokenFromRequest(req: IncomingMessage): { token: string | undefined; protocol?: string } {
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter(Boolean);
  const protocol = offered.includes(APP_PROTOCOL) ? { protocol: APP_PROTOCOL } : {};
  const bearers = offered
    .filter((protocol) => protocol.startsWith(BEARER_PROTOCOL_PREFIX))
    .map((protocol) => protocol.slice(BEARER_PROTOCOL_PREFIX.length));
  if (bearers.length > 0) return { token: single(bearers), ...protocol };
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('token');
  return { token: single(params), ...protocol };
}

function single(values: string[]): string | undefined {
  const distinct = new Set(values);
  if (distinct.size !== 1) return undefined;
  const [value] = distinct;
  return value === '' ? undefined : value;
}
