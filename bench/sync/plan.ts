/**
 * Who takes part in a sync load and what they start with: the rooms of a scenario and their
 * clients, the program the vendor writes, and the deals every room holds.
 */
import {
  CHANNELS,
  DEFAULT_STAGE_PROBABILITY,
  type Deal,
  type Partner,
  type Program,
  type Rep,
  type Stage,
} from '../../src/lib/domain/schema';
import type { initProgram } from '../../src/lib/sync/program-doc';
import { partnerRoom } from '../../src/lib/sync/rooms';
import { PROGRAM_ID, type Scenario } from './scenarios';

export interface ClientPlan {
  index: number;
  userId: string;
  dealId: string;
  token: string | undefined;
}

export interface RoomPlan {
  partnerId: string;
  name: string;
  clients: ClientPlan[];
}

/** The vendor's user, who writes the program and reads the rollups. */
export const VENDOR_USER = 'v-bench';

export function planRooms(scenario: Scenario): RoomPlan[] {
  const rooms: RoomPlan[] = [];
  for (let r = 0; r < scenario.rooms; r++) {
    const partnerId = `p${String(r + 1).padStart(2, '0')}`;
    const clients: ClientPlan[] = [];
    for (let c = 0; c < scenario.clientsPerRoom; c++) {
      const userId = `r-${partnerId}-${String(c + 1).padStart(3, '0')}`;
      clients.push({
        index: r * scenario.clientsPerRoom + c,
        userId,
        dealId: `d-${userId}`,
        token: undefined,
      });
    }
    rooms.push({ partnerId, name: partnerRoom(PROGRAM_ID, partnerId), clients });
  }
  return rooms;
}

const DAY = 86_400_000;
const STAGE_CYCLE: readonly Stage[] = ['prospecting', 'qualified', 'proposal', 'negotiation', 'won', 'lost'];

/** The program document's content: the program (whose time zone the rollup worker needs), its partners and reps. */
export function programContent(rooms: readonly RoomPlan[], now: number): Parameters<typeof initProgram>[1] {
  const program: Program = {
    id: PROGRAM_ID,
    name: 'Bench program',
    currency: 'INR',
    timeZone: 'Asia/Kolkata',
    stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
  };
  const partners: Partner[] = rooms.map((room) => ({
    id: room.partnerId,
    programId: PROGRAM_ID,
    name: `Partner ${room.partnerId}`,
    createdAt: now - 400 * DAY,
  }));
  const reps: Rep[] = rooms.flatMap((room) =>
    room.clients.map((client) => ({
      id: client.userId,
      partnerId: room.partnerId,
      name: `Rep ${client.userId}`,
      role: 'rep' as const,
      createdAt: now - 400 * DAY,
    })),
  );
  return {
    program,
    partners,
    reps,
    staff: [{ id: VENDOR_USER, name: 'Bench vendor', role: 'vendor_manager' }],
  };
}

/** A deal of a partner; its number `n` spreads its age (30–360 days), stage, channel and amount. */
export function benchDeal(
  id: string,
  partnerId: string,
  repId: string,
  n: number,
  now: number,
  stage: Stage = STAGE_CYCLE[n % STAGE_CYCLE.length]!,
): Deal {
  const createdAt = now - (30 + (n % 330)) * DAY;
  const closed = stage === 'won' || stage === 'lost';
  const closedAt = closed ? createdAt + (5 + (n % 40)) * DAY : undefined;
  return {
    id,
    partnerId,
    repId,
    title: `Deal ${n}`,
    channel: CHANNELS[n % CHANNELS.length]!,
    amount: 50_000 + ((n * 7_919) % 5_000_000),
    currency: 'INR',
    stage,
    probability: DEFAULT_STAGE_PROBABILITY[stage],
    createdAt,
    ...(closedAt === undefined ? {} : { closedAt }),
    ...(stage === 'lost' ? { lostReason: 'price' as const } : {}),
    updatedAt: closedAt ?? createdAt,
  };
}
