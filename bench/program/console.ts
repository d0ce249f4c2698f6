/** The vendor console of the program bench in headless Chromium (the production build). */
import { signToken } from '../../server/auth/tokens';
import { PROGRAM_KPIS_ON_SCREEN } from '../../src/lib/app/marks';
import { ensureBuilt, launchBrowser } from '../../test/support/browser-harness';
import { PROGRAM } from './records';

const RELOADS = 5;

/** The console opened by signing in from a link (all downloaded), then reloaded (from the device). */
export async function consoleOpens(
  origin: string,
  secret: Uint8Array,
): Promise<{ firstMs: number; reloadMs: number[]; storedBytes: number }> {
  ensureBuilt();
  const token = await signToken({ userId: 'v-1', role: 'vendor_manager', programId: PROGRAM }, secret, {
    ttl: '1h',
  });
  const browser = await launchBrowser({ width: 390, height: 844 });
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const onScreen = () =>
      page
        .waitForFunction((name) => performance.getEntriesByName(name)[0]?.startTime, PROGRAM_KPIS_ON_SCREEN, {
          timeout: 120_000,
        })
        .then((handle) => handle.jsonValue() as Promise<number>);
    await page.goto(`${origin}/signin#token=${token}`);
    // A vendor manager's link asks which partner's records to open first: the first one.
    const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
    await page
      .getByRole('combobox', { name: 'Partner to open' })
      .locator('option')
      .first()
      .waitFor({ state: 'attached' });
    const clickedAt = await page.evaluate(() => performance.now());
    await signIn.click();
    const firstMs = (await onScreen()) - clickedAt;
    const reloadMs: number[] = [];
    for (let run = 0; run < RELOADS; run++) {
      await page.reload();
      reloadMs.push(await onScreen());
    }
    const storedBytes = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    return { firstMs, reloadMs, storedBytes };
  } finally {
    await browser.close();
  }
}
