import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultRateLimits, parseLocalConfig } from '../shared/config/config.js';
import { LocalPipeline } from '../infra/local/runtime.js';
import type { RunSummary } from '../infra/local/run-summary.js';
import { sandboxChartsCsv } from '../infra/sandbox/charts-csv.js';
import type { Catalog } from '../infra/sandbox/catalog.js';
import { daysBetween } from '../infra/local/cli/commands/backfill.js';
import { logger } from '../shared/logger.js';

/**
 * `npm run bench`, on the embedded default:
 * 1. the wall time of a 200-entry sandbox day, end to end, split by phase;
 * 2. the HTTP requests a chart day costs each provider, for each kind of user (a Spotify app with
 *    extended access, one in Development Mode, no Spotify app), on a cold day (every track new) and
 *    a warm one (10 new tracks), each beside the minimum possible for that day: ceil(n / batch size)
 *    per endpoint for what was not already known. Target: at most that minimum + 1 per provider;
 * 3. a one-year sandbox backfill (365 days × 200 entries) in one batch, in total and per phase.
 *    Target: under 2 minutes on a 2-core machine.
 */
type Access = 'extended' | 'development' | 'none';

const withPipeline = async <T>(
  env: Record<string, string>,
  work: (p: LocalPipeline) => Promise<T>,
): Promise<T> => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-bench-'));
  const pipeline = await LocalPipeline.start({
    config: parseLocalConfig({ CHARTFLOW_HOME: home, ...env }),
    processEnv: process.env,
  });
  try {
    return await work(pipeline);
  } finally {
    await pipeline.close();
    await rm(home, { recursive: true, force: true });
  }
};

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
};

const seconds = (ms: number) => (ms / 1000).toFixed(2);

const phases = async (): Promise<string> => {
  const rows = [
    ['day', 'entries', 'status', 'total s', 'extract', 'enrich', 'load', 'checks', 'dbt', 'requests'],
  ];
  await withPipeline({}, async (pipeline) => {
    for (const chartDate of ['2026-10-01', '2026-10-02', '2026-10-03']) {
      const started = performance.now();
      const s = await pipeline.run({ chartId: 'global', chartDate });
      const t = s.timingsMs;
      rows.push([
        chartDate,
        String(s.rows.stage.chart_songs ?? 0),
        s.status,
        seconds(performance.now() - started),
        ...[t.extract, t.enrich, t.load, t.checks, t.dbt].map(seconds),
        Object.entries(s.requests)
          .map(([p, n]) => `${p} ${n}`)
          .join(', '),
      ]);
    }
  });
  return table(rows);
};

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
    const day = new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    if (catalog.chartFor('global', day).filter((id) => !seen.has(id)).length >= count) return day;
  }
  throw new Error(`no day within 120 days of ${from} has ${count} new tracks`);
};

const chartsFile = (catalog: Catalog, date: string) => {
  const file = sandboxChartsCsv(catalog, 'global', date);
  return { name: file.name, body: Buffer.from(file.body, 'utf8') };
};

const costs = async (): Promise<{ text: string; withinTarget: boolean }> => {
  const rows = [['user', 'day', 'new tracks', 'provider', 'requests', 'minimum', 'within min+1']];
  let withinTarget = true;
  for (const access of ['extended', 'development', 'none'] as const) {
    await withPipeline({ CHARTFLOW_SANDBOX_ACCESS: access }, async (pipeline) => {
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
        for (const provider of ['spotify', 'reccobeats'] as const) {
          const made = summary.requests[provider] ?? 0;
          const ok = made <= minimum[provider] + 1;
          withinTarget &&= ok;
          rows.push([
            access === 'none' ? 'no Spotify app' : access,
            `${label} ${chartDate} (${summary.status})`,
            String(chart.filter((id) => !known.has(id)).length),
            provider,
            String(made),
            String(minimum[provider]),
            ok ? 'yes' : 'NO',
          ]);
        }
        chart.forEach((id) => known.add(id));
      }
    });
  }
  return { text: table(rows), withinTarget };
};

/** The year the backfill bench loads: 365 days, every one a full 200-entry chart in the sandbox. */
const backfillYear = { from: '2025-01-01', to: '2025-12-31' };
const backfillTargetMs = 120_000;

/** Limits high enough never to pace: the sandbox answers as fast as it can. */
const liftedLimit = '1000000/1';

const backfill = async (): Promise<{ text: string; withinTarget: boolean }> => {
  const days = daysBetween(backfillYear.from, backfillYear.to).map((chartDate) => ({
    chartId: 'global',
    chartDate,
  }));
  const summary = await withPipeline(
    { SPOTIFY_RATE_LIMIT: liftedLimit, RECCOBEATS_RATE_LIMIT: liftedLimit },
    (pipeline) => pipeline.backfill(days),
  );
  const t = summary.timingsMs;
  const busy = summary.busyMs;
  const rows = [
    ['phase', 'wall s', 'busy s', 'what'],
    [
      'total',
      seconds(t.total),
      '',
      `${summary.status}: ${summary.loads} of ${days.length} days in batch ${summary.batchId}`,
    ],
    ['loading', seconds(t.load), '', 'every day fetched, enriched and loaded; days overlap'],
    ['  fetch', seconds(t.fetch), seconds(busy.fetch), 'chart-fetch: playlist pages, chart CSV, manifest'],
    ['  enrich', seconds(t.enrich), seconds(busy.enrich), 'track-attributes: lookups, attribute CSVs'],
    [
      '  load',
      seconds(t.stageLoad),
      seconds(busy.stageLoad),
      'stage-loader: completeness, claim, COPY into the stage',
    ],
    ['checks', seconds(t.checks), '', 'every check, over all the loads at once'],
    ['dbt', seconds(t.dbt), '', 'one dbt build of the whole year'],
  ];
  const requests = Object.entries(summary.requests);
  // What the same requests would cost at the default limits: each provider's requests at its rate.
  const pacing = requests.map(([provider, n]) => {
    const limit = defaultRateLimits[provider as keyof typeof defaultRateLimits];
    return limit ? { provider, n, limit, ms: (n / limit.requests) * limit.windowMs } : undefined;
  });
  const slowest = Math.max(0, ...pacing.map((p) => p?.ms ?? 0));
  const text = [
    table(rows),
    '',
    `rows loaded: ${Object.entries(summary.rows)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}; marts: ${Object.entries(summary.marts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `requests: ${requests.map(([p, n]) => `${p} ${n}`).join(', ')}`,
    `The Spotify and ReccoBeats rate limits were lifted for this run (SPOTIFY_RATE_LIMIT=${liftedLimit}, RECCOBEATS_RATE_LIMIT=${liftedLimit}): the sandbox does not need them.`,
    ...pacing.flatMap((p) =>
      p
        ? [
            `At the default ${p.provider} limit (${p.limit.requests} per ${p.limit.windowMs / 1000} s), its ${p.n} requests alone take at least ${seconds(p.ms)} s.`,
          ]
        : [],
    ),
    `So at the default limits, loading the year would take at least ${seconds(slowest)} s instead of ${seconds(t.load)} s (the dbt build is the same).`,
  ].join('\n');
  return { text, withinTarget: summary.status === 'succeeded' && t.total < backfillTargetMs };
};

// As on the command line: the pipeline's own logs are for warnings and errors, unless asked for.
if (!process.env.POWERTOOLS_LOG_LEVEL) logger.setLogLevel('WARN');

console.log('chartflow bench, on the embedded default (sandbox, DuckDB, local dbt)\n');
console.log('1. One sandbox day of the global chart (200 entries), end to end; times in seconds\n');
console.log(await phases());
console.log('\nThe first day includes dbt creating the marts; later days are incremental.\n');
console.log('2. HTTP requests per chart day (200 entries), per provider, beside the minimum possible\n');
const { text, withinTarget } = await costs();
console.log(text);
console.log(
  `\n${withinTarget ? 'Every' : 'NOT every'} count is within minimum + 1. The usual one-call-per-track approach makes 200 to 400 calls for such a day.`,
);
console.log(
  `\n3. A one-year backfill in one batch: ${backfillYear.from} to ${backfillYear.to}, global (200 entries a day); times in seconds\n`,
);
const year = await backfill();
console.log(year.text);
console.log(
  `\n${year.withinTarget ? 'Within' : 'NOT within'} the target of ${backfillTargetMs / 60_000} minutes. "busy" adds up the time of each phase's invocations, which overlap.`,
);
