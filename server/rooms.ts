/**
 * Room names, parsed once and strictly: the same parsed value decides access and finds the room.
 *
 *   program/<programId>                       the program document (partners, reps, targets, rollups)
 *   program/<programId>/partner/<partnerId>   one partner's leads and deals
 *
 * Ids follow the domain's id rule (1–64 letters, digits, '-', '_', '.', ':'; a letter or digit first).
 */
export type RoomName =
  | { kind: 'program'; programId: string; name: string }
  | { kind: 'partner'; programId: string; partnerId: string; name: string };

import { ID_PATTERN } from '../src/lib/domain/schema';

/** The domain's id rule without its anchors, to embed in the room patterns. */
const ID = ID_PATTERN.source.slice(1, -1);
const PROGRAM_ROOM = new RegExp(`^program/(${ID})$`);
const PARTNER_ROOM = new RegExp(`^program/(${ID})/partner/(${ID})$`);

/** The room a name stands for, or undefined for anything that is not exactly one of the two shapes. */
export function parseRoom(name: string): RoomName | undefined {
  const program = PROGRAM_ROOM.exec(name);
  if (program) return { kind: 'program', programId: program[1]!, name };
  const partner = PARTNER_ROOM.exec(name);
  if (partner) return { kind: 'partner', programId: partner[1]!, partnerId: partner[2]!, name };
  return undefined;
}

export const programRoom = (programId: string) => `program/${programId}`;
export const partnerRoom = (programId: string, partnerId: string) => `program/${programId}/partner/${partnerId}`;
