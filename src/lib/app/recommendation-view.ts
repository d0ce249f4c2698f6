/** A recommendation as a sentence in the interface's language, with its figures formatted. */
import type { Recommendation } from '../kpi/recommendations';
import type { Channel } from '../domain/schema';
import { channelName } from './names';
import { formatMoneyShort, formatNumber, formatPercent } from '../ui/format';
import { m } from '../paraglide/messages';

export function recommendationText(recommendation: Recommendation, currency: string, locale: string): string {
  const v = recommendation.values;
  const num = (key: string) => Number(v[key]);
  const money = (key: string) => formatMoneyShort(num(key), currency, locale);
  const percent = (key: string) => formatPercent(num(key), locale);
  const channel = (key: string) => channelName(String(v[key]) as Channel);
  switch (recommendation.kind) {
    case 'overdueDeals':
      return m.rec_overdue({ count: formatNumber(num('count'), locale), value: money('value') });
    case 'closeRateFell':
      return m.rec_close_rate_fell({ from: percent('from'), to: percent('to') });
    case 'winRateFell':
      return m.rec_win_rate_fell({ from: percent('from'), to: percent('to') });
    case 'weakChannel':
      return m.rec_weak_channel({
        channel: channel('channel'),
        winRate: percent('winRate'),
        best: channel('bestChannel'),
        bestWinRate: percent('bestWinRate'),
      });
    case 'competitorLosses':
      return m.rec_competitor({ count: formatNumber(num('count'), locale), share: percent('share') });
    case 'noProspects':
      return m.rec_no_prospects();
    case 'pipelineThin':
      return m.rec_pipeline_thin({ weighted: money('weighted'), previous: money('previousRevenue') });
    case 'strongChannel':
      return m.rec_strong_channel({ channel: channel('channel'), share: percent('share') });
  }
}
