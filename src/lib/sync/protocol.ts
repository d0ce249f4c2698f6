/**
 * What the app's sync server and the device agree on beyond the stock y-websocket protocol.
 * Shared by `server/` and the device (no Yjs or browser code here).
 */
import type { Role } from '../domain/schema';

/** One person the demo server offers at sign-in (`GET /api/demo-users`). */
export interface DemoUser {
  userId: string;
  name: string;
  role: Role;
  programId: string;
  partnerId?: string;
  partnerName?: string;
}

/** y-websocket message types (y-websocket 3.1 and the stock server use these numbers). */
export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_AUTH = 2;
export const MESSAGE_QUERY_AWARENESS = 3;
/**
 * Server → device: the room's state vector, sent after the server has stored what the device sent
 * (and after it answers the device's sync step 1), so the device can count what is not saved yet.
 * Only sent to connections that negotiated `SYNC_SUBPROTOCOL`: a stock client would log an unknown type.
 */
export const MESSAGE_SAVED = 100;

/** The subprotocol the app offers, and the server answers with. */
export const SYNC_SUBPROTOCOL = 'partner-kpi';
/** The token travels as a second offered subprotocol, `bearer.<token>`, never as the chosen one. */
export const BEARER_PREFIX = 'bearer.';

/** Close codes: y-websocket 3.1 stops reconnecting on 4400–4499 and retries on anything else. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
/** Too many messages or bytes per second: the client may come back later. */
export const CLOSE_POLICY = 1008;
/** A message that is not a valid sync message. */
export const CLOSE_INVALID = 1007;
/** Too many connections from one address, or the server is shutting down: try again later. */
export const CLOSE_TRY_LATER = 1013;
