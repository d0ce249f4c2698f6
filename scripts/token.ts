/**
 * `npm run --silent token -- --role <role> --program <id> [--partner <id>] --user <id> [--ttl 8h]`
 * `npm run --silent token -- --revoke <userId|tokenId>`
 *
 * Prints a signed token, and only the token, on stdout, signed with exactly the server's key (same
 * DATA_DIR / TOKEN_SECRET). Exit 2 with the reasons and the usage on stderr for wrong options; exit 1
 * when the key itself cannot be had. Never prints a token anywhere but stdout.
 *
 * `--revoke` voids every token of that user (or that one token, by its id: the JWT's `jti`) issued
 * until now, in the server's storage under DATA_DIR: running servers close its open sockets within
 * a second.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES } from '../src/lib/domain/schema';
import { loadTokenSecret } from '../server/auth/secret';
import { checkClaims, parseTtl, signToken } from '../server/auth/tokens';
import { readConfig } from '../server/config';
import { ID_PATTERN } from '../src/lib/domain/schema';
import { openSqliteStorage } from '../server/storage/sqlite-storage';

const USAGE = `usage: npm run --silent token -- --role <${ROLES.join('|')}> --program <id> [--partner <id>] --user <id> [--ttl 8h]
       npm run --silent token -- --revoke <userId|tokenId>
  --partner   required for rep and partner_manager, not given for vendor_manager
  --ttl       lifetime: a whole number followed by s, m, h or d (default 8h)
  --revoke    voids every token of that user, or the one token with that id (its jti), issued until now
The key is TOKEN_SECRET, or the one kept in DATA_DIR (default ./data), as for the server.`;

const FLAG_OF_CLAIM: Record<string, string> = {
  userId: '--user',
  role: '--role',
  programId: '--program',
  partnerId: '--partner',
};

type Outcome = { code: 0; stdout: string } | { code: 1 | 2; problems: string[] };

async function run(args: string[]): Promise<Outcome> {
  let options;
  try {
    options = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        role: { type: 'string' },
        program: { type: 'string' },
        partner: { type: 'string' },
        user: { type: 'string' },
        ttl: { type: 'string', default: '8h' },
        revoke: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return { code: 2, problems: [(error as Error).message] };
  }
  if (options.help) return { code: 0, stdout: USAGE };
  if (options.revoke !== undefined) return revoke(options.revoke, args.length);

  const missing = (['--role', '--program', '--user'] as const).filter(
    (flag) => options[flag.slice(2) as 'role' | 'program' | 'user'] === undefined,
  );
  const problems = missing.map((flag) => `${flag} is required`);
  let ttlSeconds = 0;
  try {
    ttlSeconds = parseTtl(options.ttl);
  } catch (error) {
    problems.push(`--ttl ${(error as Error).message}`);
  }
  const partner = options.partner === undefined ? {} : { partnerId: options.partner };
  const checked = checkClaims({
    userId: options.user,
    role: options.role,
    programId: options.program,
    ...partner,
  });
  for (const problem of checked.ok ? [] : checked.problems) {
    const flag = FLAG_OF_CLAIM[problem.claim] ?? problem.claim;
    if (!missing.some((name) => name === flag)) problems.push(`${flag} ${problem.message}`);
  }
  if (!checked.ok || problems.length > 0) return { code: 2, problems };

  let secret: Uint8Array;
  try {
    secret = loadTokenSecret(readConfig(process.env));
  } catch (error) {
    return { code: 1, problems: [(error as Error).message] };
  }
  return { code: 0, stdout: await signToken(checked.claims, secret, { ttl: ttlSeconds }) };
}

async function revoke(subject: string, argCount: number): Promise<Outcome> {
  if (argCount !== 2) return { code: 2, problems: ['--revoke is given alone'] };
  if (!ID_PATTERN.test(subject))
    return { code: 2, problems: [`--revoke "${subject}" is not a user id or a token id`] };
  let config;
  try {
    config = readConfig(process.env);
  } catch (error) {
    return { code: 1, problems: [(error as Error).message] };
  }
  const storage = openSqliteStorage(join(config.dataDir, 'partner-kpi.sqlite'));
  try {
    const revokedAt = Date.now();
    await storage.revoke(subject, revokedAt);
    return {
      code: 0,
      stdout: `Revoked every token of ${subject} issued until ${new Date(revokedAt).toISOString()}.`,
    };
  } finally {
    await storage.close();
  }
}

const outcome = await run(process.argv.slice(2));
if (outcome.code === 0) process.stdout.write(`${outcome.stdout}\n`);
else
  process.stderr.write(
    `token: ${outcome.problems.join('\ntoken: ')}\n${outcome.code === 2 ? `${USAGE}\n` : ''}`,
  );
process.exitCode = outcome.code;
