import type { RunSummary } from '../infra/local/run-summary.js';
import { sandboxChartsCsv } from '../infra/sandbox/charts-csv.js';
import type { Catalog } from '../infra/sandbox/catalog.js';
import { dayAfter, table, withPipeline } from './pipeline.js';

type Access = 'extended' | 'development' | 'none';

const ceil = (n: number, size: number) => Math.ceil(n / size);

/** The fewest calls a day can cost each provider, given what the pipeline already knew. */
const minimums = (
  access: Access,
  chart: readonly string[],
  known: ReadonlySet<string>,
  catalog: Catalog,
): Record<'spotify' | 'reccobeats', number> => {
  const n = chart.length;
  const fresh = chart.filter((id) => !known.has(id)).length;
  // Audio features (or their absence, which is cached too) are known after a track's first day.
  const newNoSpotifyFeatures = chart.filter(
    (id) => !known.has(id) && catalog.track(id)?.audioFeatures === null,
  ).length;
  const featuresUnknown = fresh;
  // A token, and the playlist's pages of 50. A process that still holds a token from the day before
  // saves the token call, so a warm day can come in one under this.
  const playlist = 1 + ceil(n, 50);
  if (access === 'extended') {
    return {
      // Popularity changes daily: every track, 50 a call; features for what is not known, 100 a call.
      spotify: playlist + ceil(n, 50) + ceil(featuresUnknown, 100),
      // Features Spotify does not have, 40 a call.
      reccobeats: ceil(newNoSpotifyFeatures, 40),
    };
  }
  if (access === 'development') {
    // One lookup per new track (no multi-id lookups); popularity and features from ReccoBeats.
    return { spotify: playlist + fresh, reccobeats: ceil(n, 40) + ceil(featuresUnknown, 40) };
  }
  return { spotify: 0, reccobeats: ceil(n, 40) + ceil(featuresUnknown, 40) };
};

/** The first day after `from` whose chart has at least `count` tracks not on `from`'s (the table shows how many). */
const dayWithNewTracks = (catalog: Catalog, from: string, count: number): string => {
  const seen = new Set(catalog.chartFor('global', from));
  for (let i = 1; i <= 120; i += 1) {
    const day = dayAfter(from, i);
    if (catalog.chartFor('global', day).filter((id) => !seen.has(id)).length >= count) return day;
  }
  throw new Error(`no day within 120 days of ${from} has ${count} new tracks`);
};

const chartsFile = (catalog: Catalog, date: string) => {
  const file = sandboxChartsCsv(catalog, 'global', date);
  return { name: file.name, body: Buffer.from(file.body, 'utf8') };
};

/** One provider's requests for one day, beside the fewest possible. */
export interface RequestCount {
  readonly user: string;
  readonly day: string;
  readonly provider: 'spotify' | 'reccobeats';
  readonly requests: number;
  readonly minimum: number;
}

/**
 * The HTTP requests a chart day (200 entries) costs each provider, for each kind of user (a Spotify
 * app with extended access, one in Development Mode, no Spotify app), on a cold day (every track
 * new) and a warm one (10 or more new tracks), each beside the minimum possible for that day:
 * ceil(n / batch size) per endpoint for what was not already known.
 */
export const requestCounts = async (): Promise<{ counts: RequestCount[]; text: string }> => {
  const rows = [['user', 'day', 'new tracks', 'provider', 'requests', 'minimum']];
  const counts: RequestCount[] = [];
  for (const access of ['extended', 'development', 'none'] as const) {
    await withPipeline(
      { CHARTFLOW_SANDBOX_ACCESS: access },
      async (pipeline) => {
        const catalog = pipeline.sandbox!.catalog;
        const cold = '2026-09-01';
        const warm = dayWithNewTracks(catalog, cold, 10);
        const known = new Set<string>();
        for (const [label, chartDate] of [
          ['cold', cold],
          ['warm', warm],
        ] as const) {
          const chart = catalog.chartFor('global', chartDate);
          const summary: RunSummary =
            access === 'none'
              ? (await pipeline.ingest([chartsFile(catalog, chartDate)]))[0]!
              : await pipeline.run({ chartId: 'global', chartDate });
          const minimum = minimums(access, chart, known, catalog);
          const user = access === 'none' ? 'no Spotify app' : access;
          const day = `${label} ${chartDate} (${summary.status})`;
          for (const provider of ['spotify', 'reccobeats'] as const) {
            const requests = summary.requests[provider] ?? 0;
            counts.push({ user, day, provider, requests, minimum: minimum[provider] });
            rows.push([
              user,
              day,
              String(chart.filter((id) => !known.has(id)).length),
              provider,
              String(requests),
              String(minimum[provider]),
            ]);
          }
          chart.forEach((id) => known.add(id));
        }
      },
      { inspect: true },
    );
  }
  return { counts, text: table(rows) };
};
