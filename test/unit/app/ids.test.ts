import { describe, expect, it } from 'vitest';
import { dealIdFromLead, newId } from '$lib/app/ids';
import { ID_PATTERN } from '$lib/domain/schema';

describe('newId', () => {
  it('makes a prefixed random id', () => {
    expect(newId('D')).toMatch(/^D-[0-9a-f]{12}$/);
    expect(newId('L')).not.toBe(newId('L'));
  });
});

describe('dealIdFromLead', () => {
  it('is the same for one lead on every device, and names the lead', () => {
    expect(dealIdFromLead('L-0123456789ab')).toBe('D-L-0123456789ab');
    expect(dealIdFromLead('L-0123456789ab')).toBe(dealIdFromLead('L-0123456789ab'));
    expect(dealIdFromLead('L-0123456789ab')).not.toBe(dealIdFromLead('L-0123456789ac'));
  });

  it('is a valid id for every valid lead id, the longest included, and tells long ones with one start apart', () => {
    const start = 'crm-export-2026-12-07-partner-north-leads-batch-0001-';
    const long = [`${start}0000000001`, `${start}0000000002`, 'x'.repeat(63), 'x'.repeat(64)];
    for (const leadId of [...long, 'L1', 'x'.repeat(62)]) {
      expect(leadId).toMatch(ID_PATTERN);
      expect(dealIdFromLead(leadId)).toMatch(ID_PATTERN);
    }
    expect(new Set(long.map(dealIdFromLead)).size).toBe(long.length);
    expect(dealIdFromLead('x'.repeat(62))).toBe(`D-${'x'.repeat(62)}`);
  });
});
