/** Settings from the environment, with their defaults (the README lists each). */
export interface ServerConfig {
  port: number;
  host: string;
}

export function readConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const port = Number(env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT "${env['PORT']}" is not a port number (0–65535)`);
  return { port, host: env['HOST'] ?? '0.0.0.0' };
}
