/**
 * The interface language (English or Hindi), switchable at any time without a reload. Messages
 * come from Paraglide (messages/*.json, compiled into src/lib/paraglide); numbers, money and dates
 * go through Intl in the locale that goes with the language.
 */
import { getLocale, setLocale, locales, type Locale } from '$lib/paraglide/runtime';

/** Intl locale for numbers and dates: Indian grouping (4,20,000) in both; Devanagari digits in Hindi. */
const NUMBER_LOCALES: Record<Locale, string> = { en: 'en-IN', hi: 'hi-IN-u-nu-deva' };

class Language {
  current = $state<Locale>(getLocale());

  readonly available = locales;

  /** Intl locale for this language's numbers, money and dates. */
  get intl(): string {
    return NUMBER_LOCALES[this.current];
  }

  set(locale: Locale): void {
    setLocale(locale, { reload: false });
    this.current = locale;
    if (typeof document !== 'undefined') document.documentElement.lang = locale;
  }
}

export const language = new Language();
export type { Locale };
