/**
 * A deterministic demo program: the same seed and end date always give the same records.
 *
 * Six partners of clearly different quality (one that a channel manager should flag), 3–8 reps each,
 * 18 months of leads and deals with monthly seasonality, channels that perform differently, lost
 * reasons, open deals in every stage and some past their expected close. It is what the app shows
 * on first start, what the benchmarks load (scaled up with `dealsPerRepMonth`), and a realistic
 * input for the report command.
 */
import {
  DEFAULT_STAGE_PROBABILITY,
  OPEN_STAGES,
  type Channel,
  type Deal,
  type Lead,
  type LostReason,
  type OpenStage,
  type Partner,
  type Program,
  type Rep,
  type Stage,
  type StageChange,
} from '../domain/schema';
import { DAY_MS, parseDay, startOfLocalDay } from '../kpi/calendar';
import { DEMO_CURRENCY, DEMO_PROGRAM_ID, DEMO_TZ } from './demo-program';

export interface DemoOptions {
  seed: number;
  /** The calendar date (YYYY-MM-DD, program time zone) the history runs up to; the demo's "today". */
  end?: string;
  months?: number;
  /** Leads each rep finds in an average month; scales the whole program (benchmarks raise it). */
  leadsPerRepMonth?: number;
  /** Keep each deal's stage history (the benchmarks leave it out to measure the KPI path alone). */
  stageLog?: boolean;
  /**
   * The instant the history is seen at, within the day before `end`: what would happen after it
   * (a lead found this afternoon, a deal lost tonight) has not happened yet. The history is made for
   * the whole day first, so the same seed and end give the same partners, reps and records whatever
   * the time of day; see `seenAt`. Default: the start of `end`.
   */
  now?: number;
}

export interface DemoProgram {
  program: Program;
  partners: Partner[];
  reps: Rep[];
  leads: Lead[];
  deals: Deal[];
  /** The instant the history ends at ("now" for the demo). */
  now: number;
}

export const DEMO_END = '2026-12-01';
const PROGRAM_TZ = DEMO_TZ;
const CURRENCY = DEMO_CURRENCY;
const RUPEE = 100; // minor units (paise) per rupee

/** How a partner behaves: the differences the KPIs should reveal. */
interface PartnerProfile {
  id: string;
  name: string;
  reps: number;
  /** Relative lead volume. */
  activity: number;
  /** Share of leads that become deals. */
  dealRate: number;
  /** Share of closed deals that are won. */
  winRate: number;
  /** Typical won deal, in rupees. */
  dealSize: number;
  /** Typical days from deal creation to decision. */
  cycleDays: number;
  /** Share of open deals that stall past their expected close. */
  stallRate: number;
  channelMix: Record<Channel, number>;
}

const PARTNERS: PartnerProfile[] = [
  {
    id: 'p-sunrise',
    name: 'Sunrise Systems',
    reps: 8,
    activity: 1.2,
    dealRate: 0.45,
    winRate: 0.55,
    dealSize: 420_000,
    cycleDays: 38,
    stallRate: 0.1,
    channelMix: { paid: 0.2, earned: 0.25, owned: 0.2, referral: 0.35 },
  },
  {
    id: 'p-bluepeak',
    name: 'BluePeak IT',
    reps: 6,
    activity: 1,
    dealRate: 0.4,
    winRate: 0.48,
    dealSize: 310_000,
    cycleDays: 45,
    stallRate: 0.15,
    channelMix: { paid: 0.3, earned: 0.3, owned: 0.2, referral: 0.2 },
  },
  {
    id: 'p-kaveri',
    name: 'Kaveri Solutions',
    reps: 5,
    activity: 0.9,
    dealRate: 0.35,
    winRate: 0.4,
    dealSize: 240_000,
    cycleDays: 52,
    stallRate: 0.2,
    channelMix: { paid: 0.35, earned: 0.2, owned: 0.3, referral: 0.15 },
  },
  {
    id: 'p-northstar',
    name: 'Northstar Tech',
    reps: 3,
    activity: 0.6,
    dealRate: 0.5,
    winRate: 0.62,
    dealSize: 650_000,
    cycleDays: 60,
    stallRate: 0.1,
    channelMix: { paid: 0.1, earned: 0.3, owned: 0.2, referral: 0.4 },
  },
  {
    id: 'p-metro',
    name: 'Metro Digital',
    reps: 7,
    activity: 1.5,
    dealRate: 0.3,
    winRate: 0.36,
    dealSize: 95_000,
    cycleDays: 21,
    stallRate: 0.25,
    channelMix: { paid: 0.5, earned: 0.15, owned: 0.25, referral: 0.1 },
  },
  // Pursues many opportunities and loses most of them: the partner to flag.
  {
    id: 'p-lotus',
    name: 'Lotus Infotech',
    reps: 4,
    activity: 1.1,
    dealRate: 0.55,
    winRate: 0.12,
    dealSize: 180_000,
    cycleDays: 48,
    stallRate: 0.35,
    channelMix: { paid: 0.45, earned: 0.15, owned: 0.3, referral: 0.1 },
  },
];

/** Channels perform differently: referrals win most and paid leads least. */
const CHANNEL_WIN: Record<Channel, number> = { paid: 0.7, earned: 1.05, owned: 0.95, referral: 1.35 };
const CHANNEL_SIZE: Record<Channel, number> = { paid: 0.85, earned: 1, owned: 0.95, referral: 1.25 };
/** Lead volume by calendar month (Jan…Dec): the Indian financial year ends in March; festive season in Oct–Nov. */
const SEASONALITY = [1.0, 1.05, 1.45, 0.75, 0.7, 0.8, 0.9, 0.95, 1.05, 1.25, 1.2, 0.9];
const LOST_REASON_WEIGHTS: [LostReason, number][] = [
  ['competitor', 0.35],
  ['price', 0.25],
  ['no_decision', 0.2],
  ['timing', 0.15],
  ['other', 0.05],
];

const FIRST_NAMES = [
  'Aarav',
  'Priya',
  'Rohan',
  'Ananya',
  'Vikram',
  'Meera',
  'Arjun',
  'Kavya',
  'Rahul',
  'Sneha',
  'Aditya',
  'Isha',
  'Karan',
  'Neha',
  'Siddharth',
  'Pooja',
  'Manish',
  'Divya',
  'Nikhil',
  'Riya',
];
const LAST_NAMES = [
  'Sharma',
  'Iyer',
  'Patel',
  'Reddy',
  'Gupta',
  'Nair',
  'Singh',
  'Menon',
  'Joshi',
  'Rao',
  'Das',
  'Kulkarni',
  'Banerjee',
  'Chopra',
  'Pillai',
];
const COMPANY_A = [
  'Shakti',
  'Ganga',
  'Indus',
  'Vista',
  'Orbit',
  'Nimbus',
  'Saffron',
  'Peacock',
  'Deccan',
  'Coral',
  'Monsoon',
  'Himalaya',
  'Lotus',
  'Tiger',
  'Banyan',
];
const COMPANY_B = [
  'Textiles',
  'Pharma',
  'Logistics',
  'Foods',
  'Motors',
  'Retail',
  'Finance',
  'Steel',
  'Hospitals',
  'Agro',
  'Telecom',
  'Realty',
  'Schools',
  'Hotels',
  'Exports',
];
const COMPANY_C = ['Pvt Ltd', 'Ltd', 'LLP', 'Industries', 'Group'];
const DEAL_KINDS = [
  'Cloud migration',
  'Annual licence',
  'Security suite',
  'Data platform',
  'Support renewal',
  'ERP rollout',
  'Backup service',
  'Analytics add-on',
];

/** mulberry32: a tiny, fast, seedable generator — good enough for demo data, not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function generateDemoProgram(options: DemoOptions): DemoProgram {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T extends string>(weights: Iterable<[T, number]>): T => {
    const entries = [...weights];
    let roll = random() * entries.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of entries) if ((roll -= weight) < 0) return value;
    return entries[entries.length - 1]![0];
  };
  /** Roughly log-normal around `typical`: most values near it, a long tail of large ones. */
  const around = (typical: number, spread = 0.45) =>
    typical * Math.exp(spread * (random() + random() + random() - 1.5) * 2);

  const endDay = parseDay(options.end ?? DEMO_END);
  if (endDay === null) throw new Error(`Demo end "${options.end}" is not a calendar date (YYYY-MM-DD).`);
  const months = options.months ?? 18;
  const leadsPerRepMonth = options.leadsPerRepMonth ?? 9;
  const keepStageLog = options.stageLog ?? true;
  const now = startOfLocalDay(endDay, PROGRAM_TZ);
  // The months of history end with the one holding the last day before `end` (partly, when `end`
  // falls inside a month).
  const lastDate = new Date((endDay - 1) * DAY_MS);
  const startDay = Date.UTC(lastDate.getUTCFullYear(), lastDate.getUTCMonth() - (months - 1), 1) / DAY_MS;

  const program: Program = {
    id: DEMO_PROGRAM_ID,
    name: 'Acme Cloud Partner Program',
    currency: CURRENCY,
    timeZone: PROGRAM_TZ,
    stageProbabilities: { ...DEFAULT_STAGE_PROBABILITY },
  };
  const programStart = startOfLocalDay(startDay, PROGRAM_TZ);
  const partners: Partner[] = [];
  const reps: Rep[] = [];
  const leads: Lead[] = [];
  const deals: Deal[] = [];
  let leadSeq = 0;
  let dealSeq = 0;

  const dayStarts = new Map<number, number>();
  /** A working-hours instant (09:00–19:00 local) on local day `day`. */
  const workingInstant = (day: number) => {
    let start = dayStarts.get(day);
    if (start === undefined) dayStarts.set(day, (start = startOfLocalDay(day, PROGRAM_TZ)));
    return start + Math.floor((9 + random() * 10) * 3_600_000);
  };

  const makeDeal = (
    profile: PartnerProfile,
    rep: Rep,
    channel: Channel,
    createdAt: number,
    lead?: Lead,
  ): Deal => {
    const id = `D${String(++dealSeq).padStart(6, '0')}`;
    const amount =
      Math.max(5_000, Math.round(around(profile.dealSize * CHANNEL_SIZE[channel]) / 100) * 100) * RUPEE;
    const cycle = Math.max(3, around(profile.cycleDays, 0.35)) * DAY_MS;
    const decidedAt = createdAt + cycle;
    const expectedCloseAt = createdAt + Math.round(profile.cycleDays * (0.8 + random() * 0.4)) * DAY_MS;
    // A stalled deal sits open past its expected close for weeks or months, then is mostly lost.
    const stalls = random() < profile.stallRate;
    const closesAt = decidedAt + (stalls ? (20 + random() * 120) * DAY_MS : 0);
    const base = {
      id,
      partnerId: profile.id,
      repId: rep.id,
      ...(lead ? { leadId: lead.id } : {}),
      title: `${pick(DEAL_KINDS)} — ${lead?.company ?? pick(COMPANY_A) + ' ' + pick(COMPANY_B)}`,
      channel,
      amount,
      currency: CURRENCY,
      createdAt,
      expectedCloseAt,
    };
    const log: StageChange[] = [{ stage: 'prospecting', at: createdAt, by: rep.id }];
    /** Open stages the deal passed through by `until`, spread evenly over its cycle. */
    const progress = (until: number): Stage => {
      const reached = Math.min(
        OPEN_STAGES.length - 1,
        Math.floor(((until - createdAt) / cycle) * OPEN_STAGES.length),
      );
      for (let step = 1; step <= reached; step++) {
        log.push({
          stage: OPEN_STAGES[step]!,
          at: createdAt + Math.round((cycle * step) / OPEN_STAGES.length),
          by: rep.id,
        });
      }
      return OPEN_STAGES[reached]!;
    };
    const withLog = (deal: Deal): Deal => (keepStageLog ? { ...deal, stageLog: log } : deal);

    if (closesAt < now) {
      const closedAt = Math.round(closesAt);
      progress(closedAt);
      const won = random() < Math.min(0.95, profile.winRate * CHANNEL_WIN[channel] * (stalls ? 0.4 : 1));
      log.push({ stage: won ? 'won' : 'lost', at: closedAt, by: rep.id });
      return withLog({
        ...base,
        stage: won ? 'won' : 'lost',
        probability: won ? 100 : 0,
        closedAt,
        ...(won
          ? {}
          : { lostReason: stalls && random() < 0.6 ? 'no_decision' : weighted(LOST_REASON_WEIGHTS) }),
        updatedAt: closedAt,
      });
    }
    const stage = progress(Math.min(now - 1, Math.round(decidedAt)));
    const lastChange = log[log.length - 1]!.at;
    // Now and then a rep overrides the stage's default probability.
    const probability =
      random() < 0.2
        ? Math.min(95, Math.max(5, DEFAULT_STAGE_PROBABILITY[stage] + (random() < 0.5 ? -10 : 10)))
        : DEFAULT_STAGE_PROBABILITY[stage];
    return withLog({ ...base, stage, probability, updatedAt: lastChange });
  };

  for (const profile of PARTNERS) {
    partners.push({ id: profile.id, programId: program.id, name: profile.name, createdAt: programStart });
    for (let r = 1; r <= profile.reps; r++) {
      const repName = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
      const rep: Rep = {
        id: `${profile.id.slice(2)}-r${r}`,
        partnerId: profile.id,
        name: repName,
        role: r === 1 ? 'partner_manager' : 'rep',
        createdAt: programStart,
      };
      reps.push(rep);
      const repSkill = 0.8 + random() * 0.4;
      for (let month = 0; month < months; month++) {
        const monthStartDay =
          Date.UTC(
            new Date(startDay * DAY_MS).getUTCFullYear(),
            new Date(startDay * DAY_MS).getUTCMonth() + month,
            1,
          ) / DAY_MS;
        const nextMonthDay =
          Date.UTC(
            new Date(monthStartDay * DAY_MS).getUTCFullYear(),
            new Date(monthStartDay * DAY_MS).getUTCMonth() + 1,
            1,
          ) / DAY_MS;
        const days = Math.min(nextMonthDay, endDay) - monthStartDay;
        if (days <= 0) continue;
        const season = SEASONALITY[new Date(monthStartDay * DAY_MS).getUTCMonth()]!;
        const count = Math.round(
          leadsPerRepMonth * profile.activity * season * (0.75 + random() * 0.5) * (days / 30),
        );
        for (let n = 0; n < count; n++) {
          const createdAt = workingInstant(monthStartDay + Math.floor(random() * days));
          const channel = weighted(Object.entries(profile.channelMix) as [Channel, number][]);
          const company = `${pick(COMPANY_A)} ${pick(COMPANY_B)} ${pick(COMPANY_C)}`;
          const contactName = `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`;
          const lead: Lead = {
            id: `L${String(++leadSeq).padStart(6, '0')}`,
            partnerId: profile.id,
            repId: rep.id,
            createdAt,
            channel,
            status: 'new',
            company,
            contactName,
            phone: `+91 9${String(Math.floor(random() * 1e9)).padStart(9, '0')}`,
            email: `${contactName.split(' ')[0]!.toLowerCase()}@${company.split(' ')[0]!.toLowerCase()}.example`,
          };
          const qualifiedAt = createdAt + Math.round((1 + random() * 6) * DAY_MS);
          const becomesDeal = random() < profile.dealRate * repSkill * (channel === 'referral' ? 1.2 : 1);
          if (qualifiedAt < now && (becomesDeal || random() < 0.3)) {
            lead.qualifiedAt = qualifiedAt;
            lead.status = 'qualified';
            const dealAt = qualifiedAt + Math.round((0.5 + random() * 4) * DAY_MS);
            if (becomesDeal && dealAt < now) {
              lead.status = 'converted';
              deals.push(makeDeal(profile, rep, channel, dealAt, lead));
            }
          } else if (qualifiedAt < now && random() < 0.4) {
            lead.status = 'disqualified';
          }
          leads.push(lead);
          // Some deals come without a lead: renewals and walk-ins logged straight as deals.
          if (random() < 0.12) {
            const directAt = workingInstant(monthStartDay + Math.floor(random() * days));
            if (directAt < now) deals.push(makeDeal(profile, rep, channel, directAt));
          }
        }
      }
    }
  }
  if (options.now === undefined || options.now >= now) return { program, partners, reps, leads, deals, now };
  return { program, partners, reps, ...seenAt(leads, deals, options.now), now: options.now };
}

/**
 * The records as they stood at `now`: records created later are left out, a deal closed later is
 * still open in the stage it had reached, and a lead qualified or converted later is not yet.
 * Takes no random numbers, so that the rest of the demo is the same at any time of the day.
 */
function seenAt(allLeads: Lead[], allDeals: Deal[], now: number): { leads: Lead[]; deals: Deal[] } {
  const deals: Deal[] = [];
  for (const deal of allDeals) {
    if (deal.createdAt >= now) continue;
    const later = (deal.closedAt ?? 0) >= now || (deal.stageLog ?? []).some((change) => change.at >= now);
    if (!later) {
      deals.push(deal);
      continue;
    }
    const log = (
      deal.stageLog ?? [{ stage: 'prospecting' as const, at: deal.createdAt, by: deal.repId }]
    ).filter((change) => change.at < now);
    const last = log[log.length - 1]!;
    const stage = last.stage as OpenStage;
    const { closedAt: _closedAt, lostReason: _lostReason, stageLog: _stageLog, ...open } = deal;
    deals.push({
      ...open,
      stage,
      probability: DEFAULT_STAGE_PROBABILITY[stage],
      updatedAt: last.at,
      ...(deal.stageLog ? { stageLog: log } : {}),
    });
  }
  const converted = new Set(deals.flatMap((deal) => (deal.leadId === undefined ? [] : [deal.leadId])));
  const leads: Lead[] = [];
  for (const lead of allLeads) {
    if (lead.createdAt >= now) continue;
    if (lead.qualifiedAt !== undefined && lead.qualifiedAt >= now) {
      const { qualifiedAt: _qualifiedAt, ...unqualified } = lead;
      leads.push({ ...unqualified, status: 'new' });
    } else if (lead.status === 'converted' && !converted.has(lead.id))
      leads.push({ ...lead, status: 'qualified' });
    else leads.push(lead);
  }
  return { leads, deals };
}
