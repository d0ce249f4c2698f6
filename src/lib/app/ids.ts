/** Record ids made on the device, without a server round trip: a kind prefix and 12 random hex digits. */
export function newId(prefix: 'L' | 'D'): string {
  return `${prefix}-${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
}
