/**
 * The messages as a whole: one word for one thing in each language (a glossary), so that a screen
 * never calls the same KPI by two names; and counts that agree with their nouns ("1 deal").
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as messages from '$lib/paraglide/messages';

type Messages = Record<string, unknown>;
const read = (locale: string): Messages =>
  JSON.parse(readFileSync(new URL(`../../../messages/${locale}.json`, import.meta.url), 'utf8')) as Messages;
const en = read('en');
const hi = read('hi');
/** Every text of a message, its plural variants included. */
const texts = (message: unknown): string[] =>
  typeof message === 'string' ? [message] : (JSON.stringify(message).match(/"(?:[^"\\]|\\.)*"/g) ?? []);

/** English term → the one Hindi term for it. */
const GLOSSARY: [RegExp, string][] = [
  [/quality score/i, 'गुणवत्ता स्कोर'],
  [/median/i, 'माध्यिका'],
  [/close rate/i, 'क्लोज़ रेट'],
  [/win rate/i, 'जीत दर'],
];

describe('the Hindi messages', () => {
  it('use one term for each thing', () => {
    const stray: string[] = [];
    for (const [key, message] of Object.entries(en)) {
      if (key.startsWith('$')) continue;
      for (const [term, hindi] of GLOSSARY) {
        if (
          texts(message).some((text) => term.test(text)) &&
          !texts(hi[key]).some((text) => text.includes(hindi))
        )
          stray.push(`${key}: ${JSON.stringify(hi[key])} (${hindi})`);
      }
    }
    expect(stray).toEqual([]);
    expect(JSON.stringify(hi)).not.toMatch(/क्वालिटी|मध्यक/);
  });

  it('have every message the English ones have, and no other', () => {
    expect(Object.keys(hi).sort()).toEqual(Object.keys(en).sort());
  });
});

describe('counts in messages', () => {
  /** Every input of a message the same value (a channel's name aside): what a screen would show for a count of `value`. */
  const all = (value: string) =>
    new Proxy({}, { get: (_inputs, key) => (key === 'channel' ? 'Referral' : value) });
  const say = (name: string, value: string, locale: 'en' | 'hi') => {
    const message = (messages as unknown as Record<string, (inputs: object, options: object) => string>)[
      name
    ]!;
    return message(all(value), { locale });
  };
  const names = Object.keys(en).filter((key) => !key.startsWith('$'));

  it('never say "1 deals", "1 days" or "1 partners" in English', () => {
    const wrong = names
      .map((name) => say(name, '1', 'en'))
      .filter((text) => /\b1 (?:\w+ )?(?:deals|days|leads|partners|prospects|changes)\b/.test(text));
    expect(wrong).toEqual([]);
    expect(say('kpi_pipeline_hint', '1', 'en')).toBe('1 deal, weighted 1');
    expect(say('kpi_pipeline_hint', '2', 'en')).toBe('2 deals, weighted 2');
    // Counts reach messages formatted (Latin digits, Indian grouping): a grouped count is plural.
    expect(say('kpi_pipeline_hint', '1,00,000', 'en')).toBe('1,00,000 deals, weighted 1,00,000');
  });

  it('agree in Hindi too', () => {
    expect(say('rec_overdue', '1', 'hi')).toBe('1 की 1 डील अपनी अपेक्षित तारीख से पीछे है।');
    expect(say('rec_overdue', '3', 'hi')).toBe('3 की 3 डील अपनी अपेक्षित तारीख से पीछे हैं।');
    // Hindi's plural rules put 0 with 1; the sentence does not: none of them bought.
    expect(say('kpi_close_rate_hint', '0', 'hi')).toBe('0 में से 0 संभावित ग्राहकों ने खरीदा');
    expect(say('kpi_close_rate_hint', '1', 'hi')).toBe('1 में से 1 संभावित ग्राहक ने खरीदा');
  });
});
