import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenSecret } from '../../server/auth/secret';
import { verifyToken } from '../../server/auth/tokens';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'partner-kpi-token-cli-'));
  dirs.push(dir);
  return dir;
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function token(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    // TOKEN_SECRET from the outer environment must not decide which key signs.
    const child = spawn('npm', ['run', '--silent', 'token', '--', ...args], {
      cwd: root,
      env: { ...process.env, TOKEN_SECRET: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run token', { timeout: 60_000 }, () => {
  it('prints one line, a token signed with the DATA_DIR secret, with the given claims and expiry', async () => {
    const dir = dataDir();
    const before = Date.now();
    const run = await token(
      ['--role', 'rep', '--program', 'prog-1', '--partner', 'p1', '--user', 'rep-1', '--ttl', '30m'],
      { DATA_DIR: dir },
    );
    const after = Date.now();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const verified = await verifyToken(
      run.stdout.trim(),
      loadTokenSecret({ tokenSecret: undefined, dataDir: dir }),
    );
    expect(verified).toMatchObject({
      ok: true,
      claims: { userId: 'rep-1', role: 'rep', programId: 'prog-1', partnerId: 'p1' },
    });
    const expiresAt = verified.ok ? verified.expiresAt : 0;
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 30 * 60_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 30 * 60_000);
  });

  it('defaults to 8 hours and signs a vendor manager, with TOKEN_SECRET when set', async () => {
    const tokenSecret = 'a-token-secret-for-the-cli-test-of-40-chars';
    const before = Date.now();
    const run = await token(['--role', 'vendor_manager', '--program', 'prog-1', '--user', 'vm-1'], {
      DATA_DIR: dataDir(),
      TOKEN_SECRET: tokenSecret,
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const verified = await verifyToken(run.stdout.trim(), new TextEncoder().encode(tokenSecret));
    expect(verified).toMatchObject({
      ok: true,
      claims: { userId: 'vm-1', role: 'vendor_manager', programId: 'prog-1' },
    });
    expect(verified.ok && verified.expiresAt - before).toBeGreaterThan(8 * 3_600_000 - 2_000);
  });

  it('agrees on one secret when several start at once on a fresh DATA_DIR', async () => {
    const dir = dataDir();
    const args = ['--role', 'partner_manager', '--program', 'prog-1', '--partner', 'p1', '--user', 'pm-1'];
    const runs = await Promise.all(Array.from({ length: 4 }, () => token(args, { DATA_DIR: dir })));
    const secret = loadTokenSecret({ tokenSecret: undefined, dataDir: dir });
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(await verifyToken(run.stdout.trim(), secret)).toMatchObject({ ok: true });
    }
  });

  // Independent processes: run side by side, each asserting through its own context's expect.
  it.concurrent.for([
    [
      ['--role', 'admin', '--program', 'prog-1', '--user', 'u1'],
      /--role must be one of: rep, partner_manager, vendor_manager/,
    ],
    [
      ['--role', 'rep', '--program', 'prog-1', '--user', 'u1'],
      /--partner is required for a rep or a partner manager/,
    ],
    [
      ['--role', 'vendor_manager', '--program', 'prog-1', '--partner', 'p1', '--user', 'u1'],
      /--partner is not given for a vendor manager/,
    ],
    [
      ['--role', 'rep', '--program', 'prog 1', '--partner', 'p1', '--user', 'u1'],
      /--program must be 1–64 letters/,
    ],
    [
      ['--role', 'rep', '--program', 'prog-1', '--partner', 'p1', '--user', 'u1', '--ttl', '8 hours'],
      /--ttl "8 hours" is not a lifetime/,
    ],
    [['--program', 'prog-1'], /--role is required[\s\S]*--user is required/],
    [
      ['--role', 'rep', '--program', 'prog-1', '--partner', 'p1', '--user', 'u1', '--admin'],
      /Unknown option '--admin'/,
    ],
    [
      ['--role', 'rep', '--program', 'prog-1', '--partner', 'p1', '--user', 'u1', 'extra'],
      /Unexpected argument 'extra'/,
    ],
  ] as const)(
    'refuses %j: exit 2, the reason and the usage on stderr, nothing on stdout',
    async ([args, reason], { expect }) => {
      const run = await token([...args], { DATA_DIR: dataDir() });
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).toMatch(
        /usage: npm run --silent token -- --role <rep\|partner_manager\|vendor_manager>/,
      );
    },
  );

  it('refuses a short TOKEN_SECRET: exit 1, naming it, nothing on stdout', async () => {
    const run = await token(['--role', 'rep', '--program', 'prog-1', '--partner', 'p1', '--user', 'u1'], {
      DATA_DIR: dataDir(),
      TOKEN_SECRET: 'short',
    });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toMatch(/TOKEN_SECRET is too short/);
  });
});
