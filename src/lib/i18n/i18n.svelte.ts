/**
 * The interface language (English or Hindi), switchable at any time without a reload. Messages
 * come from Paraglide (messages/*.json, compiled into src/lib/paraglide); numbers, money and dates
 * go through Intl in the locale that goes with the language.
 */
import { getLocale, setLocale, locales, type Locale } from '$lib/paraglide/runtime';

/**
 * Intl locale for numbers and dates: Indian grouping (4,20,000) and Latin digits in both languages,
 * so that every number on a Hindi screen — money, percentages, counts, dates, chart axes, and what
 * the browser's own inputs show — has one form (src/lib/ui/format.ts says why; docs/languages.md).
 */
const NUMBER_LOCALES: Record<Locale, string> = { en: 'en-IN', hi: 'hi-IN' };

/** The Intl locale for a language's numbers, money and dates. */
export function numberLocale(locale: Locale): string {
  return NUMBER_LOCALES[locale];
}

class Language {
  current = $state<Locale>(getLocale());

  readonly available = locales;

  /** Intl locale for this language's numbers, money and dates. */
  get intl(): string {
    return numberLocale(this.current);
  }

  set(locale: Locale): void {
    setLocale(locale, { reload: false });
    this.current = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
  }
}

export const language = new Language();
export type { Locale };
