import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer } from '../../server/app';
import { readConfig } from '../../server/config';

describe('app server', () => {
  const staticDir = mkdtempSync(join(tmpdir(), 'partner-kpi-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Partner KPI</title>');
  const server = createAppServer({ staticDir });
  let base = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(staticDir, { recursive: true, force: true });
  });

  it('answers GET /healthz with 200', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('serves the app, and index.html for deep links', async () => {
    expect(await (await fetch(`${base}/`)).text()).toContain('Partner KPI');
    const deepLink = await fetch(`${base}/deals/D1`);
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toContain('Partner KPI');
  });

  it('refuses other methods', async () => {
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('server config', () => {
  it('defaults to port 8080 and refuses a bad PORT', () => {
    expect(readConfig({}).port).toBe(8080);
    expect(readConfig({ PORT: '3000' }).port).toBe(3000);
    expect(() => readConfig({ PORT: 'eighty' })).toThrow(/PORT "eighty" is not a port number/);
  });
});
