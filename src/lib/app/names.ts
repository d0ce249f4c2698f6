/** Names of the domain's enum values in the interface's language. */
import type { Channel, LeadStatus, LostReason, Stage } from '../domain/schema';
import { m } from '../paraglide/messages';

export function channelName(channel: Channel): string {
  return { paid: m.channel_paid, earned: m.channel_earned, owned: m.channel_owned, referral: m.channel_referral }[channel]();
}

export function stageName(stage: Stage): string {
  return {
    prospecting: m.stage_prospecting,
    qualified: m.stage_qualified,
    proposal: m.stage_proposal,
    negotiation: m.stage_negotiation,
    won: m.stage_won,
    lost: m.stage_lost,
  }[stage]();
}

export function statusName(status: LeadStatus): string {
  return { new: m.status_new, qualified: m.status_qualified, disqualified: m.status_disqualified, converted: m.status_converted }[status]();
}

export function lostReasonName(reason: LostReason): string {
  return { competitor: m.reason_competitor, price: m.reason_price, no_decision: m.reason_no_decision, timing: m.reason_timing, other: m.reason_other }[reason]();
}
