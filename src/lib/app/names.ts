/**
 * Names of the domain's enum values in the interface's language. (One argument each, so that
 * `CHANNELS.map(channelName)` works; `valueName` takes a locale.)
 */
import type { Channel, LeadStatus, LostReason, Stage } from '../domain/schema';
import { m } from '../paraglide/messages';
import type { Locale } from '../paraglide/runtime';

type Options = { locale?: Locale };
type Name = (inputs: Record<string, never>, options: Options) => string;

const NAMES = {
  channel: {
    paid: m.channel_paid,
    earned: m.channel_earned,
    owned: m.channel_owned,
    referral: m.channel_referral,
  },
  stage: {
    prospecting: m.stage_prospecting,
    qualified: m.stage_qualified,
    proposal: m.stage_proposal,
    negotiation: m.stage_negotiation,
    won: m.stage_won,
    lost: m.stage_lost,
  },
  status: {
    new: m.status_new,
    qualified: m.status_qualified,
    disqualified: m.status_disqualified,
    converted: m.status_converted,
  },
  lostReason: {
    competitor: m.reason_competitor,
    price: m.reason_price,
    no_decision: m.reason_no_decision,
    timing: m.reason_timing,
    other: m.reason_other,
  },
} satisfies {
  channel: Record<Channel, Name>;
  stage: Record<Stage, Name>;
  status: Record<LeadStatus, Name>;
  lostReason: Record<LostReason, Name>;
};

export function channelName(channel: Channel): string {
  return NAMES.channel[channel]({}, {});
}

export function stageName(stage: Stage): string {
  return NAMES.stage[stage]({}, {});
}

export function statusName(status: LeadStatus): string {
  return NAMES.status[status]({}, {});
}

export function lostReasonName(reason: LostReason): string {
  return NAMES.lostReason[reason]({}, {});
}

/**
 * The name of a value of a record field (`channel`, `stage`, `status`, `lostReason`) as a person
 * reads it ("referral" → "Referral", "रेफ़रल"); undefined for a field or value without one.
 */
export function valueName(field: string, value: string, options: Options = {}): string | undefined {
  if (!Object.hasOwn(NAMES, field)) return undefined;
  const names: Record<string, Name> = NAMES[field as keyof typeof NAMES];
  return Object.hasOwn(names, value) ? names[value]?.({}, options) : undefined;
}
