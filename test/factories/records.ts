/**
 * Test factories for leads and deals.
 *
 * - `lead({...})`, `deal({...})`: one valid record with sensible defaults, for hand-written fixtures.
 * - `localTime(tz, 'YYYY-MM-DD', 'HH:mm:ss.SSS')`: the instant of a wall-clock time in a zone.
 * - `leadArb`, `dealArb`: fast-check arbitraries of single valid records.
 * - `programArb()`: a whole consistent program (partners p1..pN, reps pK-rJ, leads, deals made from
 *   some of the leads, deleted records, zero amounts, open deals with expected close dates, instants
 *   right at local midnights of several zones) as `{ leads, deals, ... }`.
 *
 * Everything here is built from the schema module only, never from the KPI engine.
 */
import fc from 'fast-check';
import { TZDate } from '@date-fns/tz';
import {
  CHANNELS,
  DEFAULT_STAGE_PROBABILITY,
  LEAD_STATUSES,
  LOST_REASONS,
  STAGES,
  type Channel,
  type Deal,
  type Lead,
  type LeadStatus,
  type LostReason,
  type Stage,
} from '../../src/lib/domain';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** The time zones the property tests run in: half-hour and 45-minute offsets, DST north and south. */
export const TIME_ZONES = [
  'Asia/Kolkata',
  'America/New_York',
  'UTC',
  'Asia/Kathmandu',
  'America/Santiago',
] as const;

/** Where generated instants fall: each window holds a daylight-saving change of New York or Santiago. */
export interface TimeWindow {
  name: string;
  /** First and last day (UTC calendar dates) of the window. */
  fromDate: string;
  toDate: string;
}

export const WINDOWS: readonly TimeWindow[] = [
  // New York springs forward on 2026-03-08, Santiago falls back on 2026-04-05.
  { name: 'spring-2026', fromDate: '2026-02-10', toDate: '2026-04-20' },
  // Santiago springs forward at midnight on 2026-09-06, New York falls back on 2026-11-01.
  { name: 'autumn-2026', fromDate: '2026-08-25', toDate: '2026-11-10' },
];

export const CURRENCIES = ['INR', 'USD', 'JPY', 'KWD'] as const;

/** Default instant of hand-written fixtures: 2026-01-10 12:00 UTC (17:30 in Kolkata). */
export const BASE_INSTANT = Date.UTC(2026, 0, 10, 12);

function dateParts(date: string): [number, number, number] {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) throw new Error(`not a date: ${date}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** The instant at which the wall clock of `tz` shows `date` `time` (time defaults to 00:00). */
export function localTime(tz: string, date: string, time = '00:00'): number {
  const [year, month, day] = dateParts(date);
  const match = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{3}))?)?$/.exec(time);
  if (!match) throw new Error(`not a time: ${time}`);
  const [hours, minutes, seconds, millis] = [
    Number(match[1]),
    Number(match[2]),
    Number(match[3] ?? 0),
    Number(match[4] ?? 0),
  ];
  return new TZDate(year, month - 1, day, hours, minutes, seconds, millis, tz).getTime();
}

/** UTC calendar date `days` after `date`. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = dateParts(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

export function daysBetween(fromDate: string, toDate: string): number {
  const [y1, m1, d1] = dateParts(fromDate);
  const [y2, m2, d2] = dateParts(toDate);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / DAY_MS);
}

// ---------------------------------------------------------------------------------------------
// Hand-written fixtures

let leadSerial = 0;
let dealSerial = 0;

/** A valid lead of partner p1, rep p1-r1, channel paid, created at BASE_INSTANT, overridable field by field. */
export function lead(overrides: Partial<Lead> = {}): Lead {
  leadSerial += 1;
  return {
    id: `lead-${leadSerial}`,
    partnerId: 'p1',
    repId: 'p1-r1',
    createdAt: BASE_INSTANT,
    channel: 'paid',
    status: 'new',
    company: 'Acme Pvt Ltd',
    contactName: 'Asha Rao',
    ...overrides,
  };
}

/**
 * A valid deal of partner p1, rep p1-r1, channel paid, 100.00 INR, created at BASE_INSTANT.
 * Unless overridden: the probability is the stage's default, a won or lost deal is closed one day
 * after it was created, and `updatedAt` is the latest of its instants.
 */
export function deal(overrides: Partial<Deal> = {}): Deal {
  dealSerial += 1;
  const stage: Stage = overrides.stage ?? 'prospecting';
  const createdAt = overrides.createdAt ?? BASE_INSTANT;
  const closed = stage === 'won' || stage === 'lost';
  const closedAt = 'closedAt' in overrides ? overrides.closedAt : closed ? createdAt + DAY_MS : undefined;
  const record: Deal = {
    id: `deal-${dealSerial}`,
    partnerId: 'p1',
    repId: 'p1-r1',
    title: 'Annual licence',
    channel: 'paid',
    amount: 100_00,
    currency: 'INR',
    stage,
    probability: DEFAULT_STAGE_PROBABILITY[stage],
    createdAt,
    updatedAt: Math.max(createdAt, closedAt ?? createdAt),
    ...overrides,
  };
  if (closedAt === undefined) delete record.closedAt;
  else record.closedAt = closedAt;
  return record;
}

/** A deal made from a lead: same partner, rep and channel, linked by `leadId`. */
export function dealFrom(source: Lead, overrides: Partial<Deal> = {}): Deal {
  return deal({
    partnerId: source.partnerId,
    repId: source.repId,
    channel: source.channel,
    leadId: source.id,
    createdAt: source.createdAt,
    ...overrides,
  });
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** `arb` one time in `1 + rest`, otherwise undefined. */
function sometimes<T>(arb: fc.Arbitrary<T>, rest = 7): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: rest, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

function windowBounds(window: TimeWindow): { from: number; to: number; days: number } {
  const from = localTime('UTC', window.fromDate);
  const to = localTime('UTC', window.toDate);
  return { from, to, days: Math.round((to - from) / DAY_MS) };
}

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/**
 * How a generated instant is chosen: anywhere in the window, or exactly at (or one millisecond
 * either side of) the local midnight, in one of TIME_ZONES, of one of the program's key dates.
 * Periods start and end on key dates too, so records land right on period edges.
 */
export type InstantSeed = { at: number } | { key: number; tz: string; delta: number };

export function instantSeedArb(window: TimeWindow): fc.Arbitrary<InstantSeed> {
  const { from, to } = windowBounds(window);
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: from, max: to }).map((at): InstantSeed => ({ at })) },
    {
      weight: 2,
      arbitrary: fc.record({
        key: fc.nat({ max: 99 }),
        tz: fc.constantFrom<string>(...TIME_ZONES),
        delta: fc.constantFrom(-1, 0, 1),
      }),
    },
  );
}

export function resolveInstant(seed: InstantSeed, keyDates: readonly string[]): number {
  return 'at' in seed ? seed.at : localTime(seed.tz, pick(keyDates, seed.key)) + seed.delta;
}

/** Instants in a window, often at local midnights of its dates. */
export function instantArb(window: TimeWindow): fc.Arbitrary<number> {
  const { days } = windowBounds(window);
  const dates = Array.from({ length: days + 1 }, (_, i) => addDays(window.fromDate, i));
  return instantSeedArb(window).map((seed) => resolveInstant(seed, dates));
}

/** A non-negative duration: sometimes 0, sometimes exact days, mostly up to six weeks. */
export const durationArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }).map((days) => days * DAY_MS) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 42 * DAY_MS }) },
);

/** Amounts in minor units: zero, small (odd sums make half minor units in averages), large. */
export const amountArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 999 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1_000, max: 5_000_000_00 }) },
);

interface LeadShape {
  partner: number;
  rep: number;
  createdAt: InstantSeed;
  channel: Channel;
  status: LeadStatus;
  qualifiedAfter: number | undefined;
  deletedAfter: number | undefined;
  phone: string | undefined;
  email: string | undefined;
  notes: string | undefined;
}

interface DealShape {
  partner: number;
  rep: number;
  /** Index (modulo the number of leads) of the lead the deal is made from, if any. */
  lead: number | undefined;
  createdAt: InstantSeed;
  sinceLead: number;
  channel: Channel;
  amount: number;
  stage: Stage;
  probability: number | undefined;
  /** A won or lost deal closes some time after its creation, or at a key instant (not before its creation). */
  close: { after: number } | { at: InstantSeed };
  expectedCloseAt: InstantSeed | undefined;
  lostReason: LostReason | undefined;
  deletedAfter: number | undefined;
}

function leadShapeArb(window: TimeWindow): fc.Arbitrary<LeadShape> {
  return fc.record({
    partner: fc.nat({ max: 99 }),
    rep: fc.nat({ max: 99 }),
    createdAt: instantSeedArb(window),
    channel: fc.constantFrom(...CHANNELS),
    status: fc.constantFrom(...LEAD_STATUSES),
    qualifiedAfter: sometimes(durationArb, 2),
    deletedAfter: sometimes(durationArb, 7),
    phone: sometimes(fc.constantFrom('+91 98450 12345', '(212) 555-0199'), 2),
    email: sometimes(fc.constantFrom('asha@example.in', 'buyer@corp.example.com'), 2),
    notes: sometimes(fc.constantFrom('Met at the expo', 'Call back in Q3'), 3),
  });
}

function dealShapeArb(window: TimeWindow): fc.Arbitrary<DealShape> {
  return fc.record({
    partner: fc.nat({ max: 99 }),
    rep: fc.nat({ max: 99 }),
    lead: fc.oneof(fc.constant(undefined), fc.nat({ max: 999 })),
    createdAt: instantSeedArb(window),
    sinceLead: durationArb,
    channel: fc.constantFrom(...CHANNELS),
    amount: amountArb,
    stage: fc.constantFrom(...STAGES),
    probability: sometimes(fc.integer({ min: 0, max: 100 }), 2),
    close: fc.oneof(
      { weight: 3, arbitrary: durationArb.map((after) => ({ after })) },
      { weight: 1, arbitrary: instantSeedArb(window).map((at) => ({ at })) },
    ),
    expectedCloseAt: sometimes(instantSeedArb(window), 1),
    lostReason: sometimes(fc.constantFrom(...LOST_REASONS), 1),
    deletedAfter: sometimes(durationArb, 7),
  });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, V>>);
}

interface Roster {
  partners: string[];
  repsOf: (partner: string) => string[];
}

function roster(partnerCount: number, repsPerPartner: number): Roster {
  const partners = Array.from({ length: partnerCount }, (_, i) => `p${i + 1}`);
  return {
    partners,
    repsOf: (partner) => Array.from({ length: repsPerPartner }, (_, i) => `${partner}-r${i + 1}`),
  };
}

function buildLead(shape: LeadShape, id: string, team: Roster, keyDates: readonly string[]): Lead {
  const partnerId = pick(team.partners, shape.partner);
  const created = resolveInstant(shape.createdAt, keyDates);
  return {
    id,
    partnerId,
    repId: pick(team.repsOf(partnerId), shape.rep),
    createdAt: created,
    channel: shape.channel,
    status: shape.status,
    company: `Company ${id}`,
    contactName: `Contact ${id}`,
    ...optional('phone', shape.phone),
    ...optional('email', shape.email),
    ...optional('notes', shape.notes),
    ...optional(
      'qualifiedAt',
      shape.qualifiedAfter === undefined ? undefined : created + shape.qualifiedAfter,
    ),
    ...optional('deletedAt', shape.deletedAfter === undefined ? undefined : created + shape.deletedAfter),
  };
}

function buildDeal(
  shape: DealShape,
  id: string,
  team: Roster,
  leads: readonly Lead[],
  currency: string,
  keyDates: readonly string[],
): Deal {
  const source = shape.lead === undefined || leads.length === 0 ? undefined : pick(leads, shape.lead);
  const partnerId = source?.partnerId ?? pick(team.partners, shape.partner);
  const createdAt =
    source === undefined ? resolveInstant(shape.createdAt, keyDates) : source.createdAt + shape.sinceLead;
  const closed = shape.stage === 'won' || shape.stage === 'lost';
  const closeAt =
    'after' in shape.close
      ? createdAt + shape.close.after
      : Math.max(createdAt, resolveInstant(shape.close.at, keyDates));
  const closedAt = closed ? closeAt : undefined;
  const probability = closed
    ? DEFAULT_STAGE_PROBABILITY[shape.stage]
    : (shape.probability ?? DEFAULT_STAGE_PROBABILITY[shape.stage]);
  const expectedCloseAt =
    closed || shape.expectedCloseAt === undefined
      ? undefined
      : resolveInstant(shape.expectedCloseAt, keyDates);
  return {
    id,
    partnerId,
    repId: source?.repId ?? pick(team.repsOf(partnerId), shape.rep),
    ...optional('leadId', source?.id),
    title: `Deal ${id}`,
    channel: source?.channel ?? shape.channel,
    amount: shape.amount,
    currency,
    stage: shape.stage,
    probability,
    createdAt,
    ...optional('expectedCloseAt', expectedCloseAt),
    ...optional('closedAt', closedAt),
    ...optional('lostReason', shape.stage === 'lost' ? shape.lostReason : undefined),
    updatedAt: Math.max(createdAt, closedAt ?? createdAt),
    ...optional('deletedAt', shape.deletedAfter === undefined ? undefined : createdAt + shape.deletedAfter),
  };
}

const DEFAULT_TEAM = roster(3, 2);
const DEFAULT_WINDOW = WINDOWS[0]!;
const DEFAULT_KEY_DATES = [
  DEFAULT_WINDOW.fromDate,
  addDays(DEFAULT_WINDOW.fromDate, 26),
  DEFAULT_WINDOW.toDate,
];

/** One valid lead (partners p1..p3, two reps each), possibly deleted, with optional contact fields. */
export const leadArb: fc.Arbitrary<Lead> = fc
  .tuple(leadShapeArb(DEFAULT_WINDOW), fc.nat({ max: 9999 }))
  .map(([shape, n]) => buildLead(shape, `L${n}`, DEFAULT_TEAM, DEFAULT_KEY_DATES));

/** One valid deal of any stage and currency (closed ones with closedAt), sometimes made from a lead `L1`. */
export const dealArb: fc.Arbitrary<Deal> = fc
  .tuple(
    dealShapeArb(DEFAULT_WINDOW),
    leadShapeArb(DEFAULT_WINDOW),
    fc.nat({ max: 9999 }),
    fc.constantFrom(...CURRENCIES),
  )
  .map(([shape, leadShape, n, currency]) => {
    const source =
      shape.lead === undefined ? [] : [buildLead(leadShape, 'L1', DEFAULT_TEAM, DEFAULT_KEY_DATES)];
    return buildDeal(shape, `D${n}`, DEFAULT_TEAM, source, currency, DEFAULT_KEY_DATES);
  });

export interface GeneratedProgram {
  window: TimeWindow;
  /** Dates at whose local midnights many instants fall, and on which many periods start or end. */
  keyDates: string[];
  currency: string;
  partners: string[];
  reps: string[];
  leads: Lead[];
  deals: Deal[];
}

export interface ProgramOptions {
  maxPartners?: number;
  maxRepsPerPartner?: number;
  maxLeads?: number;
  maxDeals?: number;
  windows?: readonly TimeWindow[];
}

/**
 * A consistent program: unique ids `L1..`, `D1..`; a deal made from a lead copies its partner, rep
 * and channel and is created no earlier than the lead; several deals may come from one lead.
 */
export function programArb(options: ProgramOptions = {}): fc.Arbitrary<GeneratedProgram> {
  const windows = options.windows ?? WINDOWS;
  return fc.constantFrom(...windows).chain((window) =>
    fc
      .record({
        partnerCount: fc.integer({ min: 1, max: options.maxPartners ?? 5 }),
        repCount: fc.integer({ min: 1, max: options.maxRepsPerPartner ?? 3 }),
        currency: fc.constantFrom(...CURRENCIES),
        keyDays: fc.uniqueArray(fc.integer({ min: -5, max: windowBounds(window).days }), {
          minLength: 2,
          maxLength: 6,
        }),
        leads: fc.array(leadShapeArb(window), { maxLength: options.maxLeads ?? 25, size: 'max' }),
        deals: fc.array(dealShapeArb(window), { maxLength: options.maxDeals ?? 30, size: 'max' }),
      })
      .map(({ partnerCount, repCount, currency, keyDays, leads: leadShapes, deals: dealShapes }) => {
        const team = roster(partnerCount, repCount);
        const keyDates = [...keyDays].sort((a, b) => a - b).map((day) => addDays(window.fromDate, day));
        const leads = leadShapes.map((shape, i) => buildLead(shape, `L${i + 1}`, team, keyDates));
        const deals = dealShapes.map((shape, i) =>
          buildDeal(shape, `D${i + 1}`, team, leads, currency, keyDates),
        );
        return {
          window,
          keyDates,
          currency,
          partners: team.partners,
          reps: team.partners.flatMap((partner) => team.repsOf(partner)),
          leads,
          deals,
        };
      }),
  );
}

/**
 * A period of calendar dates around a window: from a key date or any day from 20 days before the
 * window, to a later key date or 1 to 75 days on, in one of TIME_ZONES.
 */
export function periodArb(program: {
  window: TimeWindow;
  keyDates?: readonly string[];
}): fc.Arbitrary<{ from: string; to: string; tz: string }> {
  const { window } = program;
  const keyDates = program.keyDates ?? [];
  const span = daysBetween(window.fromDate, window.toDate);
  const anyDay = fc.integer({ min: -20, max: span }).map((day) => addDays(window.fromDate, day));
  return fc
    .record({
      from: keyDates.length === 0 ? anyDay : fc.oneof(anyDay, fc.constantFrom(...keyDates)),
      length: fc.oneof(
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 75 }) },
      ),
      toKey: fc.option(fc.nat({ max: 99 }), { nil: undefined }),
      tz: fc.constantFrom(...TIME_ZONES),
    })
    .map(({ from, length, toKey, tz }) => {
      const later = keyDates.filter((date) => date > from);
      const to = toKey === undefined || later.length === 0 ? addDays(from, length) : pick(later, toKey);
      return { from, to, tz };
    });
}
