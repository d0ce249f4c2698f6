/**
 * The rooms of the sync server, named once for the device and the server. A name is parsed once
 * and strictly: the same parsed value decides access (server/auth/acl.ts) and finds the room.
 *
 *   program/<programId>                               the vendor's program document: directory,
 *                                                     staff, targets (vendor staff only)
 *   program/<programId>/rollups                       the vendor's figures: the program's buckets by
 *                                                     day, every partner's by month (written by the
 *                                                     server alone; vendor staff read it)
 *   program/<programId>/rollups/days                  every partner's buckets by day, from which the
 *                                                     server keeps the figures above (the server's
 *                                                     alone: no client opens it)
 *   program/<programId>/partner/<partnerId>           one partner's leads and deals
 *   program/<programId>/partner/<partnerId>/channel   what the vendor shares with that partner: the
 *                                                     program's settings, the partner's own entry,
 *                                                     people and targets (written by the server
 *                                                     alone, from the program document), and
 *                                                     the program benchmark as that partner sees it
 *
 * Ids follow the domain's id rule (1–64 letters, digits, '-', '_', '.', ':'; a letter or digit
 * first), so a name has exactly one reading.
 */
import { ID_PATTERN } from '../domain/schema';

export type RoomName =
  | { kind: 'program'; programId: string; name: string }
  | { kind: 'rollups'; programId: string; name: string }
  | { kind: 'rollupDays'; programId: string; name: string }
  | { kind: 'partner'; programId: string; partnerId: string; name: string }
  | { kind: 'channel'; programId: string; partnerId: string; name: string };

export type RoomKind = RoomName['kind'];

/** The domain's id rule without its anchors, to embed in the room pattern. */
const ID = ID_PATTERN.source.slice(1, -1);
const ROOM = new RegExp(`^program/(${ID})(?:/(rollups)(/days)?|/partner/(${ID})(/channel)?)?$`);

/** The room a name stands for, or undefined for anything that is not exactly one of the shapes above. */
export function parseRoom(name: string): RoomName | undefined {
  const match = ROOM.exec(name);
  if (!match) return undefined;
  const [, programId, rollups, days, partnerId, channel] = match as unknown as [
    string,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (rollups) return { kind: days ? 'rollupDays' : 'rollups', programId, name };
  if (partnerId === undefined) return { kind: 'program', programId, name };
  return { kind: channel ? 'channel' : 'partner', programId, partnerId, name };
}

export const programRoom = (programId: string) => `program/${programId}`;
export const rollupsRoom = (programId: string) => `program/${programId}/rollups`;
export const rollupDaysRoom = (programId: string) => `program/${programId}/rollups/days`;
export const partnerRoom = (programId: string, partnerId: string) =>
  `program/${programId}/partner/${partnerId}`;
export const channelRoom = (programId: string, partnerId: string) =>
  `program/${programId}/partner/${partnerId}/channel`;

/** The sync endpoint of the server that served the app. */
export function syncUrlOf(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
}
