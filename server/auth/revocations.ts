/**
 * Revoked tokens, as this server instance knows them: a copy of the storage's revocations, brought
 * up to date by `refresh()` (the sync server calls it about twice a second, so a revocation made by
 * `npm run token -- --revoke` or by another instance reaches open sockets within a second).
 *
 * A revocation names a user id or one token's id and voids every token of it issued at or before
 * the moment of revocation. Token times are whole seconds, so a token issued in the same second as
 * the revocation is void too: issue a new one a second later.
 */
import type { RevocationStore } from '../storage/storage';
import type { TokenFacts } from './tokens';

export class RevocationList {
  /** Subject (user id or token id) → the latest instant at which its tokens were revoked. */
  private readonly revokedAt = new Map<string, number>();
  private lastSeq = 0;

  constructor(private readonly store: RevocationStore) {}

  /** Reads the revocations recorded since the last call; true when there were any. */
  async refresh(): Promise<boolean> {
    const added = await this.store.revocationsAfter(this.lastSeq);
    for (const { seq, subject, revokedAt } of added) {
      this.revokedAt.set(subject, Math.max(revokedAt, this.revokedAt.get(subject) ?? 0));
      this.lastSeq = Math.max(this.lastSeq, seq);
    }
    return added.length > 0;
  }

  isRevoked(token: Pick<TokenFacts, 'claims' | 'tokenId' | 'issuedAt'>): boolean {
    for (const subject of [token.claims.userId, token.tokenId]) {
      if (subject === undefined) continue;
      const revokedAt = this.revokedAt.get(subject);
      if (revokedAt !== undefined && revokedAt >= token.issuedAt) return true;
    }
    return false;
  }
}
