/**
 * The key that signs and verifies tokens: TOKEN_SECRET when set, otherwise one generated on first
 * start and kept in `<dataDir>/token-secret`, so that the server and the `token` command (and every
 * restart) agree on it without anyone having to choose one.
 *
 * The file holds the base64url text of 32 random bytes, and the key is that text's UTF-8 bytes,
 * exactly as for TOKEN_SECRET: `TOKEN_SECRET=$(cat data/token-secret)` keeps every token valid.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const SECRET_FILE = 'token-secret';
/** Characters, for TOKEN_SECRET and the file alike: 32 is the least that can carry HS256's 256 bits. */
export const MIN_SECRET_LENGTH = 32;

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function readSecretFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new Error(`Cannot read the token secret ${path}: ${(error as Error).message}`, { cause: error });
  }
  const secret = text.trim();
  // Never replaced silently: a new secret would sign everyone out, so a damaged file needs a person.
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `The token secret ${path} is damaged (under ${MIN_SECRET_LENGTH} characters): restore it, or delete it to sign everyone out`,
    );
  }
  return secret;
}

/**
 * Writes a new secret under a private name, then links it into place, which fails if the file
 * exists: of two processes starting together exactly one wins, and the other reads the winner's.
 * A reader never sees a half-written file, because the final name only ever points at a whole one.
 */
function createSecretFile(dataDir: string, path: string): string {
  const secret = randomBytes(32).toString('base64url');
  const temp = join(dataDir, `.${SECRET_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return secret;
  } catch (error) {
    if (errorCode(error) !== 'EEXIST')
      throw new Error(`Cannot store the token secret in ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    const theirs = readSecretFile(path);
    if (theirs === undefined)
      throw new Error(`The token secret ${path} vanished while it was being created`, { cause: error });
    return theirs;
  } finally {
    unlinkSync(temp);
  }
}

/** The signing key of this installation (see above); throws, naming the setting, when it is unusable. */
export function loadTokenSecret({
  tokenSecret,
  dataDir,
}: {
  tokenSecret: string | undefined;
  dataDir: string;
}): Uint8Array {
  if (tokenSecret !== undefined) {
    if (tokenSecret.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `TOKEN_SECRET is too short: it must be at least ${MIN_SECRET_LENGTH} characters (e.g. from \`openssl rand -base64 32\`)`,
      );
    }
    return new TextEncoder().encode(tokenSecret);
  }
  const path = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  const secret = readSecretFile(path) ?? createSecretFile(dataDir, path);
  return new TextEncoder().encode(secret);
}
