import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTokenSecret } from '../../../../server/auth/secret';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('loadTokenSecret', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'partner-kpi-secret-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a secret once, keeps it in <dataDir>/token-secret and reuses it', () => {
    const dataDir = join(dir, 'nested', 'data');
    const first = loadTokenSecret({ tokenSecret: undefined, dataDir });
    const stored = readFileSync(join(dataDir, 'token-secret'), 'utf8');
    expect(stored).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(text(first)).toBe(stored.trim());
    expect(loadTokenSecret({ tokenSecret: undefined, dataDir })).toEqual(first);
    expect(readFileSync(join(dataDir, 'token-secret'), 'utf8')).toBe(stored);
    // No temporary files are left behind.
    expect(readdirSync(dataDir)).toEqual(['token-secret']);
  });

  it('gives each new data directory its own secret', () => {
    const a = loadTokenSecret({ tokenSecret: undefined, dataDir: join(dir, 'a') });
    const b = loadTokenSecret({ tokenSecret: undefined, dataDir: join(dir, 'b') });
    expect(a).not.toEqual(b);
  });

  it('writes the file readable by its owner only (0600)', () => {
    loadTokenSecret({ tokenSecret: undefined, dataDir: dir });
    expect(statSync(join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
  });

  it('reads a secret that is already there, as TOKEN_SECRET would be read', () => {
    const existing = 'an-existing-secret-of-more-than-32-chars';
    writeFileSync(join(dir, 'token-secret'), `${existing}\n`, { mode: 0o600 });
    expect(text(loadTokenSecret({ tokenSecret: undefined, dataDir: dir }))).toBe(existing);
    expect(loadTokenSecret({ tokenSecret: existing, dataDir: join(dir, 'elsewhere') })).toEqual(
      loadTokenSecret({ tokenSecret: undefined, dataDir: dir }),
    );
  });

  it('uses TOKEN_SECRET when set, and then neither reads nor writes the file', () => {
    const tokenSecret = 'x'.repeat(32);
    writeFileSync(join(dir, 'token-secret'), 'a-different-secret-in-the-file-of-40-chars\n');
    expect(text(loadTokenSecret({ tokenSecret, dataDir: dir }))).toBe(tokenSecret);
    const untouched = join(dir, 'untouched');
    loadTokenSecret({ tokenSecret, dataDir: untouched });
    expect(() => statSync(untouched)).toThrow(/ENOENT/);
  });

  it('refuses a TOKEN_SECRET under 32 characters, naming it', () => {
    expect(() => loadTokenSecret({ tokenSecret: 'x'.repeat(31), dataDir: dir })).toThrow(
      /TOKEN_SECRET is too short: it must be at least 32 characters/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a damaged secret file instead of silently replacing it', () => {
    writeFileSync(join(dir, 'token-secret'), 'short\n');
    expect(() => loadTokenSecret({ tokenSecret: undefined, dataDir: dir })).toThrow(
      /token-secret is damaged/,
    );
    expect(readFileSync(join(dir, 'token-secret'), 'utf8')).toBe('short\n');
  });
});
