/**
 * Whether a screen fits the phone it is shown on: nothing wider than the viewport (the page never
 * pans sideways), and every tab of the tab bar whole, on screen and tappable.
 */
import type { Page } from 'playwright-core';

export interface Misfit {
  scrollWidth: number;
  innerWidth: number;
  /** Elements that reach past the right edge, widest first (tag.class "text"). */
  wide: string[];
  /** Tabs that are cut off, off screen or hidden. */
  tabs: string[];
}

/** How the screen now on `page` misfits, or undefined when it fits. `tabBar`: whether the screen has one. */
export async function misfit(page: Page, tabBar: boolean): Promise<Misfit | undefined> {
  const fits = () => {
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width) return false;
    const tabs = [...document.querySelectorAll('nav[aria-label] a')];
    return tabs.every((tab) => {
      const box = tab.getBoundingClientRect();
      return (
        box.width > 0 &&
        box.left >= 0 &&
        box.right <= width &&
        box.top >= 0 &&
        box.bottom <= window.innerHeight &&
        tab.scrollWidth <= tab.clientWidth
      );
    });
  };
  // A chart redraws at its new width once its resize observer has run: wait for that, not a time.
  await page.waitForFunction(fits, undefined, { timeout: 3_000 }).catch(() => undefined);
  const found = await page.evaluate(() => {
    const width = window.innerWidth;
    // An element reaches past the edge by its box, or by content that overflows a box it does not clip.
    const reach = (element: Element) => {
      const box = element.getBoundingClientRect();
      const spills =
        getComputedStyle(element).overflowX === 'visible' ? element.scrollWidth - element.clientWidth : 0;
      return box.right + Math.max(0, spills);
    };
    const wide = [...document.querySelectorAll('body *')]
      .map((element) => ({ element, right: reach(element) }))
      .filter(({ element, right }) => right > width + 0.5 && !element.closest('.visually-hidden, .skip'))
      .sort((a, b) => b.right - a.right)
      .slice(0, 5)
      .map(
        ({ element, right }) =>
          `${element.tagName.toLowerCase()}.${element.className} "${(element.textContent ?? '').slice(0, 30)}" → ${Math.round(right)}`,
      );
    const tabs = [...document.querySelectorAll('nav[aria-label] a')]
      .filter((tab) => {
        const box = tab.getBoundingClientRect();
        return !(
          box.width > 0 &&
          box.left >= 0 &&
          box.right <= width &&
          box.top >= 0 &&
          box.bottom <= window.innerHeight &&
          tab.scrollWidth <= tab.clientWidth
        );
      })
      .map((tab) => tab.textContent ?? '');
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: width,
      wide,
      tabs,
      tabCount: document.querySelectorAll('nav[aria-label] a').length,
    };
  });
  const missingTabBar = tabBar && found.tabCount === 0;
  if (found.scrollWidth <= found.innerWidth && found.tabs.length === 0 && !missingTabBar) return undefined;
  return {
    scrollWidth: found.scrollWidth,
    innerWidth: found.innerWidth,
    wide: found.wide,
    tabs: missingTabBar ? ['(no tab bar)'] : found.tabs,
  };
}
