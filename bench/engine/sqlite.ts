/**
 * The baseline of the KPI engine's bench: the same figures computed by SQLite (in memory, indexed)
 * with SQL over the same rows, and ours put in the same shape to compare them.
 */
import Database from 'better-sqlite3';
import { CHANNELS, OPEN_STAGES, type Deal } from '../../src/lib/domain';
import type { KpiFigures } from '../../src/lib/kpi';
import { time } from '../stats';

/** The figures both compute: won, revenue, average deal size, win rate, pipeline by stage, channel revenue and win rate. */
export interface Figures {
  won: number;
  revenue: number;
  averageDealSize: number | null;
  winRate: number | null;
  pipelineByStage: Record<string, { count: number; value: number }>;
  channelRevenue: Record<string, number>;
  channelWinRate: Record<string, number | null>;
}

export function figuresOf(kpis: KpiFigures): Figures {
  return {
    won: kpis.dealCount,
    revenue: kpis.revenue,
    averageDealSize: kpis.averageDealSize,
    winRate: kpis.winRate,
    pipelineByStage: Object.fromEntries(OPEN_STAGES.map((s) => [s, kpis.pipeline.byStage[s]])),
    channelRevenue: Object.fromEntries(CHANNELS.map((c) => [c, kpis.channels[c].revenue])),
    channelWinRate: Object.fromEntries(CHANNELS.map((c) => [c, kpis.channels[c].winRate])),
  };
}

export function sqliteBaseline(deals: Deal[], from: number, to: number) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE deals (id TEXT PRIMARY KEY, partner_id TEXT, rep_id TEXT, channel TEXT, amount INTEGER, stage TEXT,
           probability INTEGER, created_at INTEGER, closed_at INTEGER, deleted_at INTEGER)`);
  const insert = db.prepare('INSERT INTO deals VALUES (?,?,?,?,?,?,?,?,?,?)');
  const loadMs = time(() =>
    db.transaction(() => {
      for (const d of deals)
        insert.run(
          d.id,
          d.partnerId,
          d.repId,
          d.channel,
          d.amount,
          d.stage,
          d.probability,
          d.createdAt,
          d.closedAt ?? null,
          d.deletedAt ?? null,
        );
    })(),
  );
  const indexMs = time(() =>
    db.exec(`CREATE INDEX deals_closed ON deals (stage, closed_at, channel, amount);
             CREATE INDEX deals_open ON deals (stage, created_at, amount);
             ANALYZE;`),
  );
  const closed =
    db.prepare(`SELECT channel, SUM(stage = 'won') AS won, SUM(CASE WHEN stage = 'won' THEN amount ELSE 0 END) AS revenue,
                             SUM(stage = 'lost') AS lost FROM deals
                             WHERE stage IN ('won', 'lost') AND closed_at >= ? AND closed_at < ? AND deleted_at IS NULL GROUP BY channel`);
  const open = db.prepare(`SELECT stage, COUNT(*) AS count, SUM(amount) AS value FROM deals
                           WHERE stage IN ('prospecting', 'qualified', 'proposal', 'negotiation') AND created_at < ? AND deleted_at IS NULL GROUP BY stage`);
  const compute = (): Figures => {
    const byChannel = closed.all(from, to) as {
      channel: string;
      won: number;
      revenue: number;
      lost: number;
    }[];
    const byStage = open.all(to) as { stage: string; count: number; value: number }[];
    const won = byChannel.reduce((sum, row) => sum + row.won, 0);
    const lost = byChannel.reduce((sum, row) => sum + row.lost, 0);
    const revenue = byChannel.reduce((sum, row) => sum + row.revenue, 0);
    const channel = (c: string) => byChannel.find((row) => row.channel === c);
    return {
      won,
      revenue,
      averageDealSize: won ? revenue / won : null,
      winRate: won + lost ? won / (won + lost) : null,
      pipelineByStage: Object.fromEntries(
        OPEN_STAGES.map((s) => {
          const row = byStage.find((r) => r.stage === s);
          return [s, { count: row?.count ?? 0, value: row?.value ?? 0 }];
        }),
      ),
      channelRevenue: Object.fromEntries(CHANNELS.map((c) => [c, channel(c)?.revenue ?? 0])),
      channelWinRate: Object.fromEntries(
        CHANNELS.map((c) => {
          const row = channel(c);
          return [c, row && row.won + row.lost ? row.won / (row.won + row.lost) : null];
        }),
      ),
    };
  };
  return { db, loadMs, indexMs, compute };
}
