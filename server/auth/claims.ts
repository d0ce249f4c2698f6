/** What a signed token says about its holder; the only input, with the room name, of every access decision. */
import type { Role } from '../../src/lib/domain/schema';

export interface TokenClaims {
  userId: string;
  role: Role;
  programId: string;
  /** The partner a rep or partner manager works for; absent for a vendor manager. */
  partnerId?: string;
}

/** What a connection may do in a room. */
export type Access = 'write' | 'read' | 'none';
