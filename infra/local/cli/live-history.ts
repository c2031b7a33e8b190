import type { LocalConfig } from '../../../shared/config/config.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { onlyTodayRefusal } from '../../../services/chart-fetch/sources/chart-source.js';
import { UsageError } from './options.js';

/**
 * Refuses, before anything starts, the days a live run cannot read: in live mode the charts are
 * Spotify playlists, which capture only today (UTC). chart-fetch refuses them too
 * (`assertSourceHasDay`), so a caller that skips this check still stores nothing; this one says
 * it first, as a usage mistake (exit 2). The sandbox has history and is never refused.
 *
 * @throws {UsageError} naming the first day that is not today
 */
export const assertLiveDays = (config: LocalConfig, dates: readonly string[], clock: Clock): void => {
  if (config.mode !== 'live' || config.spotify === undefined) return;
  const today = clock.now().toISOString().slice(0, 10);
  const past = dates.filter((date) => date !== today);
  if (past.length === 0) return;
  const many = past.length > 1 ? `${past.length} of the days asked for are past days, the first ` : '';
  throw new UsageError(`${many}${onlyTodayRefusal(past[0]!, today)}`);
};
