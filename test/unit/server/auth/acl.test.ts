import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  APP_PROTOCOL,
  BEARER_PROTOCOL_PREFIX,
  roomAccess,
  tokenFromRequest,
} from '../../../../server/auth/acl';
import type { Access, TokenClaims } from '../../../../server/auth/claims';
import { parseRoom, type RoomName } from '../../../../src/lib/sync/rooms';

const room = (name: string): RoomName => {
  const parsed = parseRoom(name);
  if (!parsed) throw new Error(`test room "${name}" does not parse`);
  return parsed;
};

const claimsOf: Record<TokenClaims['role'], TokenClaims> = {
  rep: { userId: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'p1' },
  partner_manager: { userId: 'pm-1', role: 'partner_manager', programId: 'prog-1', partnerId: 'p1' },
  vendor_manager: { userId: 'vm-1', role: 'vendor_manager', programId: 'prog-1' },
};

const ROOMS = {
  'own program': 'program/prog-1',
  'own rollups': 'program/prog-1/rollups',
  'foreign program': 'program/prog-2',
  'foreign rollups': 'program/prog-2/rollups',
  'own partner': 'program/prog-1/partner/p1',
  'own channel': 'program/prog-1/partner/p1/channel',
  'foreign partner': 'program/prog-1/partner/p2',
  'foreign channel': 'program/prog-1/partner/p2/channel',
  'own partner id in a foreign program': 'program/prog-2/partner/p1',
  'own channel id in a foreign program': 'program/prog-2/partner/p1/channel',
  'own rollups by day': 'program/prog-1/rollups/days',
} as const;

// The README's and server/auth/acl.ts's matrix; partners of one program are competitors.
// role             program  rollups  foreign  f.rollups  partner  channel  f.partner  f.channel  p1@prog-2  channel@prog-2  rollups/days
const MATRIX: [TokenClaims['role'], ...Access[]][] = [
  ['rep', 'none', 'none', 'none', 'none', 'write', 'read', 'none', 'none', 'none', 'none', 'none'],
  [
    'partner_manager',
    'none',
    'none',
    'none',
    'none',
    'write',
    'read',
    'none',
    'none',
    'none',
    'none',
    'none',
  ],
  ['vendor_manager', 'write', 'read', 'none', 'none', 'read', 'read', 'read', 'read', 'none', 'none', 'none'],
];

describe('roomAccess', () => {
  it.each(
    MATRIX.flatMap(([role, ...accesses]) =>
      Object.entries(ROOMS).map(([what, name], index) => ({ role, what, name, access: accesses[index]! })),
    ),
  )('$role in the $what room ($name): $access', ({ role, name, access }) => {
    expect(roomAccess(claimsOf[role], room(name))).toBe(access);
  });

  it('covers every role of the domain', () => {
    expect(MATRIX.map(([role]) => role).sort()).toEqual(Object.keys(claimsOf).sort());
  });

  it('gives nothing to claims that do not fit their role, wherever they go', () => {
    const misfits: TokenClaims[] = [
      { userId: 'rep-1', role: 'rep', programId: 'prog-1' },
      { userId: 'pm-1', role: 'partner_manager', programId: 'prog-1' },
      { userId: 'vm-1', role: 'vendor_manager', programId: 'prog-1', partnerId: 'p1' },
    ];
    for (const claims of misfits) {
      for (const name of Object.values(ROOMS)) expect(roomAccess(claims, room(name))).toBe('none');
    }
  });

  it('compares ids exactly: no prefix, case or suffix match', () => {
    const rep = claimsOf.rep;
    for (const name of [
      'program/prog-10/partner/p1',
      'program/prog-1/partner/p10',
      'program/PROG-1/partner/p1',
      'program/prog-1/partner/P1',
      'program/prog',
    ]) {
      expect(roomAccess(rep, room(name))).toBe('none');
    }
  });
});

function request(headers: Record<string, string>, url: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  req.url = url;
  return req;
}

describe('tokenFromRequest', () => {
  it('exports the subprotocol names the app offers', () => {
    expect(APP_PROTOCOL).toBe('partner-kpi');
    expect(BEARER_PROTOCOL_PREFIX).toBe('bearer.');
  });

  it('reads the bearer subprotocol and answers with the app protocol, never the token', () => {
    const found = tokenFromRequest(
      request({ 'sec-websocket-protocol': 'partner-kpi, bearer.aaa.bbb.ccc' }, '/program/prog-1'),
    );
    expect(found).toEqual({ token: 'aaa.bbb.ccc', protocol: 'partner-kpi' });
  });

  it('prefers the subprotocol to the query parameter', () => {
    const found = tokenFromRequest(
      request(
        { 'sec-websocket-protocol': 'bearer.from-header,partner-kpi' },
        '/program/prog-1?token=from-query',
      ),
    );
    expect(found).toEqual({ token: 'from-header', protocol: 'partner-kpi' });
  });

  it('falls back to the token query parameter, as y-websocket params send it', () => {
    expect(tokenFromRequest(request({}, '/program/prog-1/partner/p1?token=aaa.bbb.ccc'))).toEqual({
      token: 'aaa.bbb.ccc',
    });
    expect(
      tokenFromRequest(request({ 'sec-websocket-protocol': 'partner-kpi' }, '/program/prog-1?token=t')),
    ).toEqual({ token: 't', protocol: 'partner-kpi' });
  });

  it('names no protocol when the client did not offer the app protocol', () => {
    expect(tokenFromRequest(request({ 'sec-websocket-protocol': 'bearer.t' }, '/'))).toEqual({ token: 't' });
    expect(tokenFromRequest(request({ 'sec-websocket-protocol': 'partner-kpi-v2, bearer.t' }, '/'))).toEqual({
      token: 't',
    });
  });

  it('finds no token when there is none, an empty one, or two different ones', () => {
    expect(tokenFromRequest(request({}, '/program/prog-1'))).toEqual({ token: undefined });
    expect(tokenFromRequest(request({}, '/program/prog-1?token='))).toEqual({ token: undefined });
    expect(tokenFromRequest(request({}, '/program/prog-1?token=a&token=b'))).toEqual({ token: undefined });
    expect(
      tokenFromRequest(request({ 'sec-websocket-protocol': 'partner-kpi, bearer.a, bearer.b' }, '/?token=c')),
    ).toEqual({ token: undefined, protocol: 'partner-kpi' });
    expect(tokenFromRequest(request({ 'sec-websocket-protocol': 'partner-kpi, bearer.' }, '/'))).toEqual({
      token: undefined,
      protocol: 'partner-kpi',
    });
  });

  it('decodes the query parameter', () => {
    expect(tokenFromRequest(request({}, '/x?room=1&token=a%2Eb.c'))).toEqual({ token: 'a.b.c' });
  });
});
