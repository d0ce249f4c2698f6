/**
 * The sync bench's device (bench/sync/client.ts) makes its edits before a load and sends them one
 * by one during it: each made edit must be a whole one, as an edit made at its own time would be.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SyncClient } from '../../../bench/sync/client';
import { benchDeal } from '../../../bench/sync/plan';
import { LOAD_MARK, WARM_UP_MARK } from '../../../bench/sync/tally';
import { createDeal, openPartnerDoc, readDeal } from '../../../src/lib/sync/partner-doc';

const PLAN = { index: 0, userId: 'rep-1', dealId: 'd-1', token: undefined };

function client(): SyncClient {
  const device = new SyncClient('program/bench/partner/p1', PLAN, false, undefined, 'partner');
  createDeal(
    device.pd!,
    benchDeal(PLAN.dealId, 'p1', PLAN.userId, 0, Date.now(), 'negotiation'),
    PLAN.userId,
  );
  return device;
}

describe('the sync bench device', () => {
  it('makes every edit whole, however quickly: a later updatedAt and an edit-log entry of its own each', () => {
    const device = client();
    const copy = openPartnerDoc(new Y.Doc());
    Y.applyUpdate(copy.doc, Y.encodeStateAsUpdate(device.doc));
    const made: Uint8Array[] = [];
    device.doc.on('update', (update: Uint8Array) => made.push(update));
    // Far quicker than a millisecond each: the same Date.now() for most of them.
    device.prepare([0, 1, 2, 3, 4], WARM_UP_MARK);
    device.prepare([0, 1, 2], LOAD_MARK);
    expect(made).toHaveLength(8);

    const times: number[] = [];
    for (const update of made) {
      Y.applyUpdate(copy.doc, update);
      times.push(readDeal(copy, PLAN.dealId)!.updatedAt);
    }
    expect(times.every((time, i) => i === 0 || time > times[i - 1]!)).toBe(true);
    const titleEdits = [...copy.doc.getMap('deals').keys()].filter(
      (key) => key.startsWith(`${PLAN.dealId}/edit/`) && key.endsWith('/title'),
    );
    expect(titleEdits).toHaveLength(8);
    expect(readDeal(copy, PLAN.dealId)!.title).toBe(device.lastTitle);
    expect(device.lastTitle).toContain(`${LOAD_MARK}2@`);
  });

  it('sends its edits in the order it made them, and refuses another', () => {
    const device = client();
    device.prepare([3, 7], LOAD_MARK);
    expect(() => device.edit(7)).toThrow(/edit 7 was not the next one prepared/);
  });
});
