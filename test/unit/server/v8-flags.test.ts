import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_V8_FLAGS } from '../../../server/v8-flags';

describe('the server’s V8 flags', () => {
  it('are on node’s command line in npm start, where the process’s own heap takes them', () => {
    const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts
      .start;
    const beforeScript = start.slice(0, start.indexOf('server/start.ts'));
    expect(beforeScript.startsWith('node ')).toBe(true);
    for (const flag of SERVER_V8_FLAGS) expect(beforeScript.split(' ')).toContain(flag);
  });
});
