/** Settings from the environment, with their defaults (the README lists each). */
import { join, resolve } from 'node:path';

export interface ServerConfig {
  port: number;
  host: string;
  /** Where SQLite and the generated token secret live (DATA_DIR, default ./data). */
  dataDir: string;
  /** Origins whose pages may open a sync socket (ALLOWED_ORIGINS, comma-separated); empty: same host only. */
  allowedOrigins: string[];
  /** TOKEN_SECRET, when set; otherwise one is generated once and kept under dataDir. */
  tokenSecret: string | undefined;
  /** Seed the demo program on first start and offer its demo users at sign-in (DEMO, default on). */
  demo: boolean;
}

export function readConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const port = Number(env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT "${env['PORT']}" is not a port number (0–65535)`);
  const allowedOrigins = (env['ALLOWED_ORIGINS'] ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      throw new Error(`ALLOWED_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path)`);
  }
  const demo = (env['DEMO'] ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(demo))
    throw new Error(`DEMO "${env['DEMO']}" must be on or off`);
  return {
    port,
    host: env['HOST'] ?? '0.0.0.0',
    dataDir: resolve(env['DATA_DIR'] ?? './data'),
    allowedOrigins,
    tokenSecret: env['TOKEN_SECRET'] || undefined,
    demo: ['on', 'true', '1'].includes(demo),
  };
}

/** The SQLite file of the server's default storage, under dataDir. */
export const sqliteFile = (config: ServerConfig): string => join(config.dataDir, 'partner-kpi.sqlite');
