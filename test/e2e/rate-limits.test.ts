import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import { reccobeatsKnowsTrack, type SandboxStatsSnapshot } from '../../infra/sandbox/index.js';
import { trackMessageSchema } from '../../shared/records/messages.js';
import { startTestPipeline, type TestPipeline } from '../support/pipeline.js';
import { attributeRowsOf, recordRequests, type AttributeRow } from '../support/provenance.js';
import { currentChartsCsv } from '../services/chart-fetch/sources/spotify-charts-csv-files.js';

const sorted = (ids: Iterable<string>) => [...ids].sort();

/** Every chart track has a row of the run, enriched from Spotify's metadata. */
const expectAllEnriched = (rows: Map<string, AttributeRow>, chart: readonly string[]) => {
  expect(sorted(rows.keys())).toEqual(sorted(chart));
  expect(
    chart.filter(
      (id) => rows.get(id)!.enrichment_status !== 'ok' || rows.get(id)!.metadata_source !== 'spotify',
    ),
  ).toEqual([]);
};

describe('End to end: rate limits, quotas and token expiry lose no record', () => {
  describe('a 429 storm: the client allows far more than the providers accept', () => {
    const chartDate = '2026-08-03';
    let t: TestPipeline;
    let summary: RunSummary;
    let served: SandboxStatsSnapshot;
    let rows: Map<string, AttributeRow>;

    beforeAll(async () => {
      t = await startTestPipeline({
        label: 'rate-storm',
        // Development Mode: 200 single lookups, 8 in flight at a time (singleLookupsAtOnce), which the
        // client's limiter lets through far faster than the sandbox's 40 a second accepts.
        env: {
          CHARTFLOW_SANDBOX_ACCESS: 'development',
          SPOTIFY_RATE_LIMIT: '400/1',
          RECCOBEATS_RATE_LIMIT: '50/1',
        },
        sandbox: {
          rateLimit: { requests: 40, windowMs: 1_000 },
          reccobeatsRateLimit: { requests: 2, windowMs: 1_000 },
        },
      });
      summary = await t.pipeline.run({ chartId: 'global', chartDate });
      served = t.pipeline.sandbox!.stats.snapshot();
      rows = await attributeRowsOf(t.pipeline, summary);
    });
    afterAll(() => t?.stop());

    it('gets many 429s with Retry-After from both providers', () => {
      // 200 lookups against 40 a second: each window's 40 pass, then the lookups in flight are refused
      // until it turns, about 8 a window over 5 windows (give or take the window's edge).
      expect(served.byProvider.spotify.rateLimited).toBeGreaterThanOrEqual(20);
      expect(served.byProvider.reccobeats.rateLimited).toBeGreaterThan(0);
      expect(served.unauthorized).toBe(0);
    });

    it('still runs the day to success, with every chart row enriched and nothing dead-lettered', () => {
      const chart = t.pipeline.sandbox!.catalog.chartFor('global', chartDate);
      expect(summary).toMatchObject({ status: 'succeeded', backlog: null, spotifyAccess: 'development' });
      expect(summary.deadLettered).toEqual([]);
      expect(summary.failedInvocations).toEqual([]);
      expect(t.pipeline.deadLetters.peek()).toEqual([]);
      expect(summary.rows.chartEntriesThisDay).toBe(chart.length);
      expectAllEnriched(rows, chart);
      // ReccoBeats was refused too, yet every track it knows has its popularity.
      const catalog = t.pipeline.sandbox!.catalog;
      expect(chart.map((id) => [id, rows.get(id)!.popularity_source])).toEqual(
        chart.map((id) => [id, reccobeatsKnowsTrack(catalog, id) ? 'reccobeats' : null]),
      );
      expect([...rows.values()].filter((r) => /reccobeats failed/.test(r.missing_reason ?? ''))).toEqual([]);
    });

    it('waits as told and asks again only what was refused: each 429 costs exactly one more request', () => {
      const { spotify, reccobeats } = served.byProvider;
      const r = served.requests;
      // Through = asked − refused: the playlist's 4 pages, the multi-id 403, 200 single lookups,
      // audio features at most once, and ReccoBeats' 5 + 5 batches of 40.
      expect(spotify.requests - spotify.rateLimited - r.token).toBe(
        4 + 1 + 200 + Math.min(1, r.audioFeatures),
      );
      expect(reccobeats.requests - reccobeats.rateLimited).toBe(5 + 5);
      // The run counted every request it made, the refused ones included.
      expect(summary.requests).toEqual({ spotify: spotify.requests, reccobeats: reccobeats.requests });
    });
  });

  describe("the client's own limiter, set below the provider's", () => {
    const chartDate = '2026-08-04';
    let t: TestPipeline;
    let summary: RunSummary;
    let served: SandboxStatsSnapshot;
    const sentAt: { url: string; at: number }[] = [];

    beforeAll(async () => {
      t = await startTestPipeline({
        label: 'rate-below',
        env: {
          CHARTFLOW_SANDBOX_ACCESS: 'extended',
          SPOTIFY_RATE_LIMIT: '4/1',
          RECCOBEATS_RATE_LIMIT: '4/1',
        },
        sandbox: {
          rateLimit: { requests: 5, windowMs: 1_000 },
          reccobeatsRateLimit: { requests: 5, windowMs: 1_000 },
        },
      });
      const requests = recordRequests();
      try {
        summary = await t.pipeline.run({ chartId: 'global', chartDate });
      } finally {
        requests.stop();
      }
      sentAt.push(...requests.sent);
      served = t.pipeline.sandbox!.stats.snapshot();
    });
    afterAll(() => t?.stop());

    it('never gets a 429, though the day needs more requests than the provider takes in a second', () => {
      expect(served.rateLimited).toBe(0);
      expect(served.byProvider.spotify.quotaExceeded).toBe(0);
      // A token, 4 playlist pages, 4 tracks calls, 2 audio-features calls: 11 where 5 a second pass.
      expect(served.byProvider.spotify.requests).toBe(11);
      expect(summary).toMatchObject({ status: 'succeeded', backlog: null });
      expect(summary.deadLettered).toEqual([]);
      expect(summary.rows.chartEntriesThisDay).toBe(200);
    });

    it('sends at most 4 requests to a provider in any second', () => {
      const sandboxUrl = t.pipeline.sandbox!.url;
      const spotifySends = sentAt
        .filter((s) => s.url.startsWith(sandboxUrl) && !s.url.includes('/reccobeats/'))
        .map((s) => s.at);
      expect(spotifySends).toHaveLength(11);
      // The 5th request after any one goes a window later; unpaced, all 11 would go within a few
      // hundred milliseconds. The times are taken as each request starts, after the limiter let it
      // through, so each carries the event loop's delay of the moment: one taken 16 ms late makes
      // a gap of 984 ms on a busy machine (CI at c43bb8d). The limiter's own admissions are held to
      // the window exactly in test/shared/http/rate-limiter.test.ts.
      const gaps = spotifySends.slice(4).map((at, i) => at - spotifySends[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
      expect(spotifySends.at(-1)! - spotifySends[0]!).toBeGreaterThanOrEqual(2 * 900);
    });
  });

  describe('a spent daily quota (429 QUOTA_EXCEEDED, Retry-After an hour)', () => {
    const chartDate = '2026-08-05';
    let t: TestPipeline;
    let summary: RunSummary;
    let chart: readonly string[];
    let startedAt: number;
    let tookMs: number;

    beforeAll(async () => {
      t = await startTestPipeline({ label: 'rate-quota', env: { CHARTFLOW_SANDBOX_ACCESS: 'extended' } });
      const catalog = t.pipeline.sandbox!.catalog;
      chart = catalog.chartFor('global', chartDate);
      // The chart comes from a Spotify Charts file, so the spent quota meets the lookups only.
      const file = currentChartsCsv(
        chart.map((trackId) => ({
          trackId,
          trackName: catalog.track(trackId)!.name,
          artistNames: catalog
            .track(trackId)!
            .artistIds.map((a) => catalog.artistName(a, chartDate))
            .join(', '),
        })),
      );
      t.pipeline.sandbox!.faults.quotaExceeded({ provider: 'spotify', retryAfterSeconds: 3600 });
      startedAt = performance.now();
      [summary] = (await t.pipeline.ingest([
        { name: `regional-global-daily-${chartDate}.csv`, body: Buffer.from(file, 'utf8') },
      ])) as [RunSummary];
      tookMs = performance.now() - startedAt;
    });
    afterAll(() => t?.stop());

    it('returns at once instead of waiting an hour, and loads the day with what it has', () => {
      // An hour is 3,600 s; the first dbt build of a fresh home on a busy machine can take a minute or more.
      expect(tookMs).toBeLessThan(600_000);
      expect(summary).toMatchObject({ chartId: 'global-daily', status: 'succeeded' });
      expect(summary.rows.chartEntriesThisDay).toBe(chart.length);
    });

    it('asks /tracks once, and keeps every track in the backlog as a quota until it ends', () => {
      const served = t.pipeline.sandbox!.stats.snapshot();
      expect(served.requests).toMatchObject({ token: 1, tracks: 1 });
      expect(summary.missing.byKind.quota).toBe(chart.length);
      expect(summary.backlog).toEqual({ tracks: chart.length, until: expect.any(String) });
      // The tracks wait as long as the quota said, counted from when the run wrote the backlog
      // (the seconds of its lookups after the refusal: a little late, never early).
      const waitMs = Date.parse(summary.backlog!.until!) - startedAt - performance.timeOrigin;
      expect(waitMs).toBeGreaterThan(3_500_000);
      expect(waitMs).toBeLessThanOrEqual(3_660_000);
    });

    it('dead-letters nothing and leaves nothing in the queue', () => {
      expect(summary.deadLettered).toEqual([]);
      expect(t.pipeline.deadLetters.peek()).toEqual([]);
      expect(summary.failedInvocations).toEqual([]);
      expect(t.pipeline.queue.depth()).toMatchObject({ visible: 0, inFlight: 0, running: 0 });
    });

    it('gives every chart track its row: what ReccoBeats knows, the rest missing with the quota as reason', async () => {
      const rows = await attributeRowsOf(t.pipeline, summary);
      expect(sorted(rows.keys())).toEqual(sorted(chart));
      for (const row of rows.values()) expect(row.missing_reason).toMatch(/^quota: /);
    });
  });

  describe('tokens that expire in the middle of a run', () => {
    const chartDate = '2026-08-06';
    let t: TestPipeline;
    let summary: RunSummary;
    let served: SandboxStatsSnapshot;
    let rows: Map<string, AttributeRow>;

    beforeAll(async () => {
      t = await startTestPipeline({
        label: 'rate-token',
        // 200 single lookups at 20 a second: about 10 s, five lifetimes of a 2-second token.
        env: { CHARTFLOW_SANDBOX_ACCESS: 'development', SPOTIFY_RATE_LIMIT: '20/1' },
        sandbox: { tokenTtlSeconds: 2 },
      });
      summary = await t.pipeline.run({ chartId: 'global', chartDate });
      served = t.pipeline.sandbox!.stats.snapshot();
      rows = await attributeRowsOf(t.pipeline, summary);
    });
    afterAll(() => t?.stop());

    it('asks for new tokens as the old ones expire', () => {
      expect(served.requests.track).toBeGreaterThanOrEqual(200);
      expect(served.requests.token).toBeGreaterThan(1);
    });

    it('loses no record whatever happens: each chart track is in the marts or still in the queue, none dead-lettered', async () => {
      const chart = t.pipeline.sandbox!.catalog.chartFor('global', chartDate);
      expect(summary.deadLettered).toEqual([]);
      expect(t.pipeline.deadLetters.peek()).toEqual([]);
      const queued = t.pipeline.queue.peek().map((m) => trackMessageSchema.parse(JSON.parse(m.body)).trackId);
      const loaded =
        summary.status === 'succeeded'
          ? (
              await t.pipeline.warehouse.query<{ track_id: string }>(
                `select track_id from marts.fct_chart_entries where chart_date = cast(:d as date)`,
                { d: chartDate },
              )
            ).map((r) => r.track_id)
          : [];
      expect(sorted([...loaded, ...queued])).toEqual(sorted(chart));
    });

    // BUG (shared/spotify/spotify-client.ts, #get): the token is taken before the request waits its
    // turn in Spotify's rate limiter, so a lookup that waits longer than the token has left is sent
    // with an expired one (401); the retry after renewing waits again behind the queue and expires
    // too, and the second 401 fails the whole batch (attribute-enricher.ts, #spotifySingleTracks
    // rethrows 401 as an endpoint error): the day is handed back to the queue instead of loading.
    it('runs the day to success, every chart row enriched, no 401 turned into a failure', () => {
      const chart = t.pipeline.sandbox!.catalog.chartFor('global', chartDate);
      expect(summary).toMatchObject({ status: 'succeeded', backlog: null });
      expect(summary.rows.chartEntriesThisDay).toBe(chart.length);
      expectAllEnriched(rows, chart);
    });
  });
});
