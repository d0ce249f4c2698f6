import { describe, expect, it } from 'vitest';
import {
  channelRoom,
  parseRoom,
  partnerRoom,
  programRoom,
  rollupDaysRoom,
  rollupsRoom,
} from '../../../src/lib/sync/rooms';

const ID_64 = `a${'b'.repeat(63)}`;

describe('parseRoom', () => {
  it('reads a program room', () => {
    expect(parseRoom('program/prog-1')).toEqual({
      kind: 'program',
      programId: 'prog-1',
      name: 'program/prog-1',
    });
  });

  it('reads a partner room', () => {
    expect(parseRoom('program/prog-1/partner/p_1.a:b')).toEqual({
      kind: 'partner',
      programId: 'prog-1',
      partnerId: 'p_1.a:b',
      name: 'program/prog-1/partner/p_1.a:b',
    });
  });

  it('reads the rooms only the server writes: a program’s rollups and a partner’s channel', () => {
    expect(parseRoom('program/prog-1/rollups')).toEqual({
      kind: 'rollups',
      programId: 'prog-1',
      name: 'program/prog-1/rollups',
    });
    expect(parseRoom('program/prog-1/partner/p1/channel')).toEqual({
      kind: 'channel',
      programId: 'prog-1',
      partnerId: 'p1',
      name: 'program/prog-1/partner/p1/channel',
    });
    expect(parseRoom(rollupsRoom('prog-1'))).toMatchObject({ kind: 'rollups' });
    expect(parseRoom(channelRoom('prog-1', 'p1'))).toMatchObject({ kind: 'channel', partnerId: 'p1' });
    expect(parseRoom('program/prog-1/rollups/days')).toEqual({
      kind: 'rollupDays',
      programId: 'prog-1',
      name: 'program/prog-1/rollups/days',
    });
    expect(parseRoom(rollupDaysRoom('prog-1'))).toMatchObject({ kind: 'rollupDays' });
    for (const name of [
      'program/prog-1/rollups/x',
      'program/prog-1/rollups/days/x',
      'program/prog-1/days',
      'program/prog-1/partner/p1/channel/x',
      'program/prog-1/channel',
      'program/prog-1/partner/p1/rollups',
    ])
      expect(parseRoom(name)).toBeUndefined();
  });

  it('accepts ids of 1 and of 64 characters', () => {
    expect(parseRoom('program/x')).toMatchObject({ programId: 'x' });
    expect(parseRoom(`program/${ID_64}/partner/${ID_64}`)).toMatchObject({
      programId: ID_64,
      partnerId: ID_64,
    });
  });

  it('round-trips the names it builds', () => {
    expect(parseRoom(programRoom('prog-1'))).toMatchObject({ kind: 'program', programId: 'prog-1' });
    expect(parseRoom(partnerRoom('prog-1', 'p1'))).toMatchObject({
      kind: 'partner',
      programId: 'prog-1',
      partnerId: 'p1',
    });
  });

  it.each([
    ['a trailing slash', 'program/prog-1/'],
    ['a trailing slash after a partner', 'program/prog-1/partner/p1/'],
    ['a leading slash', '/program/prog-1'],
    ['a doubled slash', 'program//prog-1'],
    ['extra segments', 'program/prog-1/partner/p1/deals'],
    ['a partner segment without an id', 'program/prog-1/partner'],
    ['a partner segment with an empty id', 'program/prog-1/partner/'],
    ['another word for partner', 'program/prog-1/partners/p1'],
    ['..', 'program/..'],
    ['.. as a partner', 'program/prog-1/partner/..'],
    ['.. in the middle', 'program/prog-1/../prog-2'],
    ['a leading dot', 'program/.hidden'],
    ['an empty program id', 'program/'],
    ['an empty name', ''],
    ['a program id over 64 characters', `program/${ID_64}b`],
    ['a partner id over 64 characters', `program/prog-1/partner/${ID_64}b`],
    ['percent-encoding', 'program/prog%2D1'],
    ['an encoded slash', 'program/prog-1%2Fpartner%2Fp1'],
    ['a space', 'program/prog 1'],
    ['leading whitespace', ' program/prog-1'],
    ['trailing whitespace', 'program/prog-1 '],
    ['a trailing newline', 'program/prog-1\n'],
    ['a tab', 'program/prog-1\t'],
    ['another prefix', 'programs/prog-1'],
    ['a capitalised prefix', 'Program/prog-1'],
    ['no prefix', 'prog-1'],
    ['a partner prefix only', 'partner/p1'],
    ['a query string', 'program/prog-1?x=1'],
    ['a backslash', 'program\\prog-1'],
    ['non-ASCII letters', 'program/prögram'],
    ['an id starting with a dash', 'program/-prog'],
  ])('refuses %s: %j', (_what, name) => {
    expect(parseRoom(name)).toBeUndefined();
  });
});
