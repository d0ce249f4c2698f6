/**
 * Renders the app icons (static/icons/*.png) from SVG with the system Chromium, so that the PNGs are
 * reproducible from this file and no image tool needs installing. Run: `npx tsx scripts/icons.ts`.
 *
 * The motif is the one of static/favicon.svg: three white bars on #0f4c81, on a 64-unit grid.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../test/support/browser-harness';

const BRAND = '#0f4c81';
const BARS = 'M14 46V30h8v16zm14 0V20h8v26zm14 0V12h8v34z';
/** Centre of the bars' bounding box (x 14–50, y 12–46) on the 64-unit grid. */
const BARS_CENTRE = { x: 32, y: 29 };

interface IconSpec {
  file: string;
  size: number;
  /**
   * `rounded`: a rounded square with transparent corners, like the favicon (purpose "any").
   * `full`: the whole square filled, for platforms that crop the icon themselves (maskable, iOS).
   */
  background: 'rounded' | 'full';
  /** Scale of the bars around the icon's centre; 1 keeps the favicon's proportions. */
  motifScale: number;
}

const ICONS: IconSpec[] = [
  { file: 'icon-192.png', size: 192, background: 'rounded', motifScale: 1 },
  { file: 'icon-512.png', size: 512, background: 'rounded', motifScale: 1 },
  // A maskable icon may be cropped to a circle of 80 % of its width. At 0.8 the bars' corners lie
  // 19.8 units from the centre, inside the 25.6-unit safe circle with a margin.
  { file: 'icon-maskable-512.png', size: 512, background: 'full', motifScale: 0.8 },
  // iOS rounds the corners itself and paints transparency black, so the square is filled.
  { file: 'apple-touch-icon.png', size: 180, background: 'full', motifScale: 0.9 },
];

function iconSvg({ size, background, motifScale }: IconSpec): string {
  const backdrop =
    background === 'rounded'
      ? '<rect width="64" height="64" rx="14" fill="' + BRAND + '"/>'
      : '<rect width="64" height="64" fill="' + BRAND + '"/>';
  // Centre the bars in the icon, then scale them about that centre.
  const place = `translate(32 32) scale(${motifScale}) translate(${-BARS_CENTRE.x} ${-BARS_CENTRE.y})`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 64 64">` +
    `${backdrop}<path transform="${place}" d="${BARS}" fill="#fff"/></svg>`
  );
}

async function main(): Promise<void> {
  const outDir = fileURLToPath(new URL('../static/icons/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  // `launch` starts Chromium on a fresh temporary profile and deletes it on close.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    for (const icon of ICONS) {
      const page = await browser.newPage({
        viewport: { width: icon.size, height: icon.size },
        deviceScaleFactor: 1,
      });
      await page.setContent(
        `<!doctype html><html><body style="margin:0"><div style="display:flex">${iconSvg(icon)}</div></body></html>`,
      );
      const png = await page.screenshot({
        type: 'png',
        omitBackground: true,
        clip: { x: 0, y: 0, width: icon.size, height: icon.size },
      });
      writeFileSync(join(outDir, icon.file), png);
      console.log(`static/icons/${icon.file} (${icon.size}×${icon.size})`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
}

await main();
