import { describe, expect, it } from 'vitest';
import { kpiCards } from '../../../src/lib/app/kpi-view';
import { buildRollup, computeKpis, parsePeriod } from '../../../src/lib/kpi';
import { changeOf } from '../../../src/lib/ui/change';
import { deal } from '../../factories/records';

const TZ = 'Asia/Kolkata';
const range = (from: string, to: string) => {
  const parsed = parsePeriod({ from, to, tz: TZ });
  if (!parsed.ok) throw new Error('bad period');
  return parsed.range;
};
const won = (amount: number, closedAt: string) =>
  deal({
    partnerId: 'p1',
    repId: 'r1',
    stage: 'won',
    amount,
    createdAt: Date.parse(closedAt) - 10 * 86_400_000,
    closedAt: Date.parse(closedAt),
  });

describe('KPI cards: the change against the previous period', () => {
  it('says "new" for money that was zero before, never a number in minor units; counts change by their number', () => {
    const rollup = buildRollup(
      TZ,
      [],
      [won(1_02_42_16_700, '2026-12-03T10:00:00+05:30'), won(5_00_000_00, '2026-12-04T10:00:00+05:30')],
    );
    const current = computeKpis(rollup, { range: range('2026-12-01', '2027-01-01'), scope: { kind: 'all' } });
    const previous = computeKpis(rollup, {
      range: range('2026-11-01', '2026-12-01'),
      scope: { kind: 'all' },
    });
    const cards = new Map(kpiCards({ current, previous }, 'INR', 'en-IN').map((card) => [card.key, card]));
    expect(cards.get('revenue')).toMatchObject({ change: 'new', trend: 'up-good' });
    // The open pipeline is a figure of now in both periods: no change.
    expect(cards.get('pipeline')!.change).toBe('');
    expect(cards.get('overdue')!.change).toBe('');
    expect(cards.get('dealCount')).toMatchObject({ change: '+2', trend: 'up-good' });
    for (const card of cards.values()) expect(card.change).not.toMatch(/\d{4}/);
  });

  it('shows a close rate too early to judge without a change, and says why; without a previous period, no change at all', () => {
    const rollup = buildRollup(TZ, [], [won(5_00_000_00, '2026-12-04T10:00:00+05:30')]);
    const current = computeKpis(rollup, { range: range('2026-12-01', '2027-01-01'), scope: { kind: 'all' } });
    const previous = computeKpis(rollup, {
      range: range('2026-11-01', '2026-11-07'),
      scope: { kind: 'all' },
    });
    const cards = new Map(
      kpiCards({ current, previous, closeRateTooEarly: { ageDays: 6, cycleDays: 28 } }, 'INR', 'en-IN').map(
        (card) => [card.key, card],
      ),
    );
    expect(cards.get('closeRate')).toMatchObject({ change: 'too early to judge', trend: 'flat' });
    expect(cards.get('closeRate')!.hint).toContain('28 days');
    const alone = kpiCards({ current }, 'INR', 'en-IN');
    expect(alone.map((card) => card.change)).toEqual(alone.map(() => ''));
  });

  it('keeps percent for money and counts against a previous figure, points for ratios', () => {
    expect(changeOf(150, 100, 'money', 'en')).toEqual({ text: '+50%', trend: 'up-good' });
    expect(changeOf(1, 4, 'count', 'en', false)).toEqual({ text: '-75%', trend: 'down-good' });
    expect(changeOf(0.25, 0.2, 'ratio', 'en')).toEqual({ text: '+5\u00a0pts', trend: 'up-good' });
    expect(changeOf(3, 0, 'count', 'en', false)).toEqual({ text: '+3', trend: 'up-bad' });
    expect(changeOf(3, 0, 'money', 'en')).toEqual({ text: '', trend: 'up-good', fromZero: true });
    expect(changeOf(null, 0, 'money', 'en')).toEqual({ text: '', trend: 'flat' });
  });
});
