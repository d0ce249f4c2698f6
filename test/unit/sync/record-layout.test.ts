/**
 * The pure half of the sync layout (src/lib/sync/record-layout.ts): key names and the derivation of
 * a record from its stored parts, named after the SPEC.md rules they implement.
 */
import { describe, expect, it } from 'vitest';
import {
  DEAL_OVERRIDE_FIELDS,
  LEAD_OVERRIDE_FIELDS,
  baseStageLog,
  compareStageChanges,
  concurrentLosers,
  editKey,
  editsToTrim,
  readEditEntry,
  type EditEntry,
  deriveDeal,
  deriveLead,
  deriveStageHistory,
  encodeStored,
  fieldKey,
  parseKey,
  readStoredObject,
  stageKey,
} from '../../../src/lib/sync/record-layout';
import { BASE_INSTANT as T0, DAY_MS, deal, lead } from '../../factories/records';

describe('S1: keys', () => {
  it('S1: base, field and stage keys parse back to their id; unknown shapes are recognised as such', () => {
    expect(parseKey('D1.x:y')).toEqual({ part: 'base', id: 'D1.x:y' });
    expect(parseKey(fieldKey('D1.x', 'title'))).toEqual({ part: 'field', id: 'D1.x', field: 'title' });
    expect(parseKey(stageKey('D1', T0, 'p1-r1'))).toEqual({ part: 'stage', id: 'D1' });
    expect(parseKey(editKey('D1', T0, 'p1-r1', 'amount'))).toEqual({ part: 'edit', id: 'D1' });
    expect(parseKey('D1/tags/vip')).toEqual({ part: 'unknown', id: 'D1' });
  });

  it('S1: base values are JSON text; readers also take plain objects and reject anything else', () => {
    const stored = encodeStored({ id: 'L1', n: 1 });
    expect(typeof stored).toBe('string');
    expect(readStoredObject(stored)).toEqual({ id: 'L1', n: 1 });
    expect(readStoredObject({ id: 'L1' })).toEqual({ id: 'L1' });
    expect([
      readStoredObject('[1]'),
      readStoredObject('{oops'),
      readStoredObject(7),
      readStoredObject(null),
    ]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('S2, S4: which fields overrides may set', () => {
  it('S4: the stage group, the history and the id are never field overrides', () => {
    for (const field of ['id', 'stage', 'probability', 'closedAt', 'lostReason', 'stageLog'])
      expect(DEAL_OVERRIDE_FIELDS.has(field)).toBe(false);
    expect([...DEAL_OVERRIDE_FIELDS]).toEqual([
      'partnerId',
      'repId',
      'leadId',
      'title',
      'channel',
      'amount',
      'currency',
      'createdAt',
      'expectedCloseAt',
      'updatedAt',
      'deletedAt',
    ]);
    expect(LEAD_OVERRIDE_FIELDS.has('id')).toBe(false);
  });

  it('S4: a stage field written as an override by a foreign writer is ignored', () => {
    const read = deriveDeal(encodeStored(deal({ id: 'D1', stage: 'proposal' })), [
      ['stage', 'won'],
      ['lostReason', 'price'],
    ]);
    expect(read).toMatchObject({ stage: 'proposal' });
    expect(read).not.toHaveProperty('lostReason');
  });

  it('S2: overrides apply over the base; null clears; what the reader gets is a copy', () => {
    const base = { ...lead({ id: 'L1', notes: 'n' }), extra: 1 };
    const read = deriveLead(base, [
      ['company', 'B Ltd'],
      ['notes', null],
    ]);
    expect(read).toEqual({ ...lead({ id: 'L1' }), company: 'B Ltd' });
    if (read) read.company = 'mutated';
    expect(base.company).toBe('Acme Pvt Ltd');
  });
});

describe('S5: the stage log', () => {
  it('S5: the order is (at, by), by compared as code units', () => {
    const changes = [
      { stage: 'won', at: 2, by: 'a' },
      { stage: 'lost', at: 1, by: 'b' },
      { stage: 'qualified', at: 1, by: 'B' },
      { stage: 'proposal', at: 1, by: 'a' },
    ] as const;
    expect([...changes].sort(compareStageChanges).map((change) => change.by + change.at)).toEqual([
      'B1',
      'a1',
      'b1',
      'a2',
    ]);
  });

  it('S5: the winning entry is the greatest (at, by) — the base counts at its last change', () => {
    const base = encodeStored(
      deal({ id: 'D1', stage: 'qualified', stageLog: [{ stage: 'qualified', at: T0 + 5, by: 'm' }] }),
    );
    const entry = (stage: string, at: number, by: string) => encodeStored({ stage, at, by, probability: 1 });
    expect(deriveDeal(base, undefined, [entry('proposal', T0 + 5, 'a')])?.stage).toBe('qualified');
    expect(deriveDeal(base, undefined, [entry('proposal', T0 + 5, 'z')])?.stage).toBe('proposal');
    expect(
      deriveDeal(base, undefined, [entry('proposal', T0 + 6, 'a'), entry('negotiation', T0 + 4, 'z')])?.stage,
    ).toBe('proposal');
  });

  it('S5: a log that does not end in the base stage is completed, after its last entry', () => {
    const base = {
      stage: 'won',
      createdAt: T0,
      updatedAt: T0,
      closedAt: T0 + DAY_MS,
      stageLog: [{ stage: 'proposal', at: T0 + 2 * DAY_MS, by: 'x' }],
    };
    expect(baseStageLog(base, 'x')).toEqual([
      { stage: 'proposal', at: T0 + 2 * DAY_MS, by: 'x' },
      { stage: 'won', at: T0 + 2 * DAY_MS + 1, by: 'x' },
    ]);
    expect(baseStageLog(base, 'y').at(-1)).toEqual({ stage: 'won', at: T0 + 2 * DAY_MS, by: 'y' });
  });
});

describe('S7: older shapes', () => {
  it('S7: a base without a log gets one entry: at closedAt when closed, else at createdAt, by the rep', () => {
    expect(baseStageLog({ stage: 'lost', createdAt: T0, closedAt: T0 + DAY_MS, repId: 'r' }, 'r')).toEqual([
      { stage: 'lost', at: T0 + DAY_MS, by: 'r' },
    ]);
    expect(baseStageLog({ stage: 'proposal', createdAt: T0, repId: 'r' }, 'r')).toEqual([
      { stage: 'proposal', at: T0, by: 'r' },
    ]);
  });

  it('S7: history entries recorded without their fields get the stage default and, when closed, closedAt = at', () => {
    const base = deal({
      id: 'D1',
      stage: 'negotiation',
      stageLog: [
        { stage: 'lost', at: T0, by: 'r' },
        { stage: 'negotiation', at: T0 + DAY_MS, by: 'r' },
      ],
    });
    expect(deriveStageHistory(base)).toEqual([
      { stage: 'lost', at: T0, by: 'r', probability: 0, closedAt: T0 },
      { stage: 'negotiation', at: T0 + DAY_MS, by: 'r', probability: 75 },
    ]);
  });
});

describe('S13: the edit log', () => {
  const entry = (
    field: string,
    base: EditEntry['base'],
    value: EditEntry['value'],
    at: number,
    by: string,
  ): EditEntry => ({ field, base, value, at, by });

  it('S13: the losers are the other values set from the base of the value kept, that nobody set anything from later', () => {
    const entries = [
      entry('amount', 100, 200, T0 + 1, 'p1-a'),
      entry('amount', 100, 300, T0 + 2, 'p1-b'),
      entry('amount', 100, 400, T0 + 3, 'p1-c'),
      entry('amount', 300, 100, T0 + 4, 'p1-d'), // d saw 300 and set it back: 300 lost to no one
      entry('title', null, 'New', T0 + 1, 'p1-a'),
    ];
    expect(concurrentLosers(entries, { amount: 200, title: 'New' })).toEqual([
      { field: 'amount', value: 400, by: 'p1-c', at: T0 + 3 },
    ]);
    // The kept value came from no entry (an import, an older version): nothing to say.
    expect(concurrentLosers(entries, { amount: 999, title: 'New' })).toEqual([]);
    // The same person setting one value on two devices: one line.
    expect(
      concurrentLosers(
        [
          entry('title', 'A', 'B', T0, 'p1-a'),
          entry('title', 'A', 'C', T0 + 1, 'p1-b'),
          entry('title', 'A', 'C', T0 + 2, 'p1-b'),
        ],
        { title: 'B' },
      ),
    ).toEqual([{ field: 'title', value: 'C', by: 'p1-b', at: T0 + 1 }]);
  });

  it('S13: entries are read only in their shape, for logged fields', () => {
    expect(readEditEntry(JSON.stringify(entry('amount', 1, 2, T0, 'p1-a')), 'deal')).toEqual(
      entry('amount', 1, 2, T0, 'p1-a'),
    );
    expect(readEditEntry(JSON.stringify({ field: 'company', at: T0, by: 'p1-a' }), 'lead')).toEqual(
      entry('company', null, null, T0, 'p1-a'),
    );
    for (const bad of [
      { ...entry('stage', 'won', 'lost', T0, 'p1-a') },
      { ...entry('updatedAt', 1, 2, T0, 'p1-a') },
      { ...entry('company', 'A', 'B', T0, 'p1-a') }, // a lead field, read as a deal's
      { ...entry('amount', 1, 2, Number.POSITIVE_INFINITY, 'p1-a') },
      { field: 'amount', value: [1], base: 1, at: T0, by: 'p1-a' },
      { field: 'amount', value: 1, base: 1, at: T0, by: 'p1/a' },
    ]) {
      expect(readEditEntry(JSON.stringify(bad), 'deal')).toBeUndefined();
    }
  });

  it('S13: trimming keeps the newest by (at, by, field) and drops what cannot be read, whatever the order given', () => {
    const items = [5, 1, 4, 2, 3].map((n) => ({
      key: `k${n}`,
      entry: entry('title', null, `T${n}`, T0 + n, 'p1-a'),
    }));
    expect(editsToTrim([...items, { key: 'junk', entry: undefined }], 3).sort()).toEqual([
      'junk',
      'k1',
      'k2',
    ]);
    expect(editsToTrim(items.slice(0, 2), 3)).toEqual([]);
  });
});
