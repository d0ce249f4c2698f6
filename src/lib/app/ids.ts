/** Record ids made on the device, without a server round trip: a kind prefix and 12 random hex digits. */
export function newId(prefix: 'L' | 'D'): string {
  return `${prefix}-${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * The id of the deal that lead `leadId` converts into: the same on every device, so that two
 * devices converting one lead offline make one deal, not two that would count one sale twice
 * (their creations meet on one key and one wins: sync SPEC S11). A lead id is at most 64
 * characters (ID_PATTERN), as a deal id must be: a long one keeps its start and a hash of it all.
 */
export function dealIdFromLead(leadId: string): string {
  const id = `D-${leadId}`;
  return id.length <= MAX_ID_LENGTH ? id : `D-${leadId.slice(0, MAX_ID_LENGTH - 19)}-${hash64(leadId)}`;
}

const MAX_ID_LENGTH = 64;

/**
 * 64 bits of hash over `text`'s UTF-16 code units, as 16 hex digits: 32-bit FNV-1a, and a second
 * 32-bit lane of the same kind that also mixes in the first. Devices of every version must derive
 * the same deal id: never change it.
 */
function hash64(text: string): string {
  let low = 0x811c9dc5;
  let high = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    low = Math.imul(low ^ unit, 0x01000193);
    high = Math.imul(high ^ unit ^ (low >>> 16), 0x01000193);
  }
  const hex = (lane: number) => (lane >>> 0).toString(16).padStart(8, '0');
  return hex(high) + hex(low);
}
