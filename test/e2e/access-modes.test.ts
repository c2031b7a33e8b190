import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../infra/local/run-summary.js';
import type { Catalog, Sandbox, SandboxEndpoint } from '../../infra/sandbox/index.js';
import { reccobeatsKnowsTrack } from '../../infra/sandbox/index.js';
import {
  attributeCacheKey,
  cachedTrackSchema,
} from '../../services/track-attributes/enrichment/attribute-cache.js';
import { startTestPipeline, stageRows, type TestPipeline } from '../support/pipeline.js';
import {
  attributeRowsOf,
  recordRequests,
  idsAskedOf,
  requestsBetween,
  type AttributeRow,
} from '../support/provenance.js';
import {
  currentChartsCsv,
  sandboxChartRows,
  type ChartsCsvRowSpec,
} from '../services/chart-fetch/sources/spotify-charts-csv-files.js';

// Two consecutive days: on the second, 11 tracks enter the chart, 2 of them without audio features
// and 2 that ReccoBeats does not know (see `the two days` below, which checks it).
const day1 = '2026-09-25';
const day2 = '2026-09-26';
const days = [day1, day2] as const;

const spotifyCalls = 100;
const reccobeatsCalls = 40;
const batches = (count: number, perCall: number) => Math.ceil(count / perCall);
const sorted = (ids: Iterable<string>) => [...ids].sort();

/** What one kind of user's two days left behind. */
interface ModeRun {
  t: TestPipeline;
  summaries: RunSummary[];
  /** Requests the sandbox received per endpoint, day by day. */
  served: Record<SandboxEndpoint, number>[];
  /** The URLs this pipeline fetched from its sandbox, day by day. */
  urls: string[][];
  rows: Map<string, AttributeRow>[];
}

/** Runs `day` through `run`, recording what the sandbox served and what was fetched from it. */
const observed = async (
  sandbox: Sandbox,
  run: () => Promise<RunSummary[]>,
): Promise<{ summaries: RunSummary[]; served: Record<SandboxEndpoint, number>; urls: string[] }> => {
  const before = sandbox.stats.snapshot();
  const requests = recordRequests();
  const summaries = await run().finally(() => requests.stop());
  const urls = requests.urls().filter((u) => u.startsWith(`${sandbox.url}/`));
  return { summaries, served: requestsBetween(before, sandbox.stats.snapshot()), urls };
};

const runDays = async (
  t: TestPipeline,
  runDay: (date: string) => Promise<RunSummary[]>,
): Promise<ModeRun> => {
  const run: ModeRun = { t, summaries: [], served: [], urls: [], rows: [] };
  for (const date of days) {
    const { summaries, served, urls } = await observed(t.pipeline.sandbox!, () => runDay(date));
    const [summary] = summaries;
    run.summaries.push(summary!);
    run.served.push(served);
    run.urls.push(urls);
    run.rows.push(await attributeRowsOf(t.pipeline, summary!));
  }
  return run;
};

/** The sandbox's global chart of a day, as a Spotify Charts file would list it, with streams. */
const chartFileRows = (catalog: Catalog, date: string): ChartsCsvRowSpec[] =>
  sandboxChartRows(catalog, 'global', date, { topStreams: 3_000_000, step: 11_113 });

const entriesOf = (t: TestPipeline, chartId: string, date: string) =>
  t.pipeline.warehouse.query<{
    position: number;
    track_id: string;
    popularity: number | null;
    streams: bigint | number | null;
  }>(
    `select position, track_id, popularity, streams from marts.fct_chart_entries
     where chart_id = :chart_id and chart_date = cast(:d as date) order by position`,
    { chart_id: chartId, d: date },
  );

type TrackRow = {
  track_id: string;
  track_name: string;
  duration_ms: number | null;
  isrc: string | null;
  danceability: number | null;
  energy: number | null;
  tempo: number | null;
  musical_key: number | null;
  metadata_source: string | null;
  features_source: string | null;
};

const tracksOf = async (t: TestPipeline): Promise<Map<string, TrackRow>> => {
  const rows = await t.pipeline.warehouse.query<TrackRow>(
    `select track_id, track_name, duration_ms, isrc, danceability, energy, tempo, musical_key,
            metadata_source, features_source
     from marts.dim_tracks`,
  );
  return new Map(
    rows.map((r) => [
      r.track_id,
      {
        ...r,
        duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
        musical_key: r.musical_key === null ? null : Number(r.musical_key),
      },
    ]),
  );
};

/** Each track's entry in the lake's attribute cache: where its metadata and features came from, and when. */
const cacheOf = async (t: TestPipeline, ids: readonly string[]) =>
  Promise.all(
    ids.map(async (id) => {
      const body = await t.pipeline.store.get(attributeCacheKey(id));
      const entry = cachedTrackSchema.parse(JSON.parse(body?.toString('utf8') ?? 'null'));
      return {
        trackId: entry.trackId,
        metadata: entry.metadata?.source ?? null,
        features: entry.features?.source ?? null,
        fetchedOn: entry.metadata?.fetchedOn ?? null,
      };
    }),
  );

describe('End to end: what each kind of user gets, cold then warm (access levels, sources, provenance)', () => {
  let catalog: Catalog;
  let chart1: readonly string[];
  let chart2: readonly string[];
  /** On day 2's chart and not on day 1's: never seen by a pipeline that ran day 1. */
  let fresh: string[];
  const hasFeatures = (id: string) => catalog.track(id)!.audioFeatures !== null;
  const chartOf = (date: string) => (date === day1 ? chart1 : chart2);
  const modes: Partial<Record<'extended' | 'development' | 'none', ModeRun>> = {};

  afterAll(async () => {
    await Promise.all(Object.values(modes).map((m) => m.t.stop()));
  });

  const setCatalog = (t: TestPipeline) => {
    catalog = t.pipeline.sandbox!.catalog;
    chart1 = catalog.chartFor('global', day1);
    chart2 = catalog.chartFor('global', day2);
    const seen = new Set(chart1);
    fresh = chart2.filter((id) => !seen.has(id));
  };

  describe('an app with extended access', () => {
    let m: ModeRun;

    beforeAll(async () => {
      const t = await startTestPipeline({
        label: 'access-extended',
        env: { CHARTFLOW_SANDBOX_ACCESS: 'extended' },
      });
      setCatalog(t);
      m = modes.extended = await runDays(t, async (date) => [
        await t.pipeline.run({ chartId: 'global', chartDate: date }),
      ]);
    });

    it('the two days: a full chart each, 11 new tracks on day 2 (2 without audio features)', () => {
      expect([chart1.length, chart2.length, fresh.length]).toEqual([200, 200, 11]);
      expect(fresh.filter((id) => !hasFeatures(id))).toHaveLength(2);
      expect(chart1.filter((id) => !hasFeatures(id)).length).toBeGreaterThan(0);
    });

    it('runs both days to success, every chart row enriched, nothing dead-lettered', () => {
      for (const [i, summary] of m.summaries.entries()) {
        expect(summary).toMatchObject({ status: 'succeeded', spotifyAccess: 'extended', backlog: null });
        expect(summary.deadLettered).toEqual([]);
        expect(summary.failedInvocations).toEqual([]);
        expect(summary.rows.chartEntriesThisDay).toBe(200);
        expect(sorted(m.rows[i]!.keys())).toEqual(sorted(i === 0 ? chart1 : chart2));
      }
    });

    it('takes metadata, popularity and audio features from Spotify, and says why features are missing', () => {
      for (const [i, date] of days.entries()) {
        const chart = i === 0 ? chart1 : chart2;
        const got = chart.map((id) => {
          const r = m.rows[i]!.get(id)!;
          return {
            id,
            status: r.enrichment_status,
            metadata: r.metadata_source,
            popularity: [r.popularity, r.popularity_source],
            features: r.features_source,
            name: r.track_name,
          };
        });
        expect(got).toEqual(
          chart.map((id) => ({
            id,
            status: 'ok',
            metadata: 'spotify',
            popularity: [String(catalog.popularity(id, date)), 'spotify'],
            features: hasFeatures(id) ? 'spotify' : null,
            name: catalog.track(id)!.name,
          })),
        );
      }
      // Day 1, all cold: every track without features says both sources had none.
      const reasons = chart1.map((id) => [id, m.rows[0]!.get(id)!.missing_reason]);
      expect(reasons).toEqual(
        chart1.map((id) => [
          id,
          hasFeatures(id)
            ? null
            : 'not_found: no audio features: spotify has no audio features for this track, then reccobeats has none for this track',
        ]),
      );
      for (const id of chart2.filter((x) => !hasFeatures(x))) {
        expect(m.rows[1]!.get(id)!.missing_reason).toMatch(/^not_found: no audio features: /);
      }
    });

    it('day 1 (cold) costs the minimum: 1 token, 4 playlist pages, 4 tracks calls, 2 audio-features calls', () => {
      const withoutFeatures = chart1.filter((id) => !hasFeatures(id)).length;
      expect(m.served[0]).toEqual({
        token: 1,
        playlistItems: 4,
        tracks: 4,
        track: 0,
        audioFeatures: 2,
        reccobeatsTracks: 0,
        // Spotify had none for these: ReccoBeats is asked once for all of them.
        reccobeatsAudioFeatures: batches(withoutFeatures, reccobeatsCalls),
      });
      expect(m.summaries[0]!.requests).toEqual({
        spotify: 1 + 4 + 4 + 2,
        reccobeats: batches(withoutFeatures, reccobeatsCalls),
      });
    });

    it('day 2 (warm) costs the minimum: popularity of all 200 in 4 calls, audio features in ceil(new/100)', () => {
      const freshWithout = fresh.filter((id) => !hasFeatures(id));
      const minimum = {
        token: 0,
        playlistItems: 4,
        tracks: 4,
        track: 0,
        audioFeatures: batches(fresh.length, spotifyCalls),
        reccobeatsTracks: 0,
        reccobeatsAudioFeatures: batches(freshWithout.length, reccobeatsCalls),
      };
      expect(m.served[1]).toEqual(minimum);
      // At most the minimum + 1 per provider (here: exactly the minimum).
      expect(m.summaries[1]!.requests.spotify).toBeLessThanOrEqual(4 + 4 + minimum.audioFeatures + 1);
      expect(m.summaries[1]!.requests.reccobeats ?? 0).toBeLessThanOrEqual(
        minimum.reccobeatsAudioFeatures + 1,
      );
    });

    it('looks up on day 2 the popularity of every track and the audio features of the new ones', () => {
      const urls = m.urls[1]!;
      expect(idsAskedOf(urls, m.t.pipeline.sandbox!, '/v1/tracks').flat().sort()).toEqual(sorted(chart2));
      expect(idsAskedOf(urls, m.t.pipeline.sandbox!, '/v1/audio-features').flat()).toEqual(
        expect.arrayContaining(fresh),
      );
    });

    it('keeps what never changes of every day-1 track in the lake cache', async () => {
      const cached = await cacheOf(m.t, chart1);
      expect(cached).toEqual(
        chart1.map((id) => ({
          trackId: id,
          metadata: 'spotify',
          features: hasFeatures(id) ? 'spotify' : null,
          fetchedOn: day1,
        })),
      );
    });

    // Audio features are fetched once per track; a track no source had them for is remembered in
    // the attribute cache as "looked up, none" and asked again only after `featuresRecheckDays`
    // (services/track-attributes/enrichment/lookup-session.ts; docs/architecture.md, "Spotify, as
    // it is today").
    it('never asks audio features again for a track seen before, even one that had none', () => {
      const urls = m.urls[1]!;
      expect(idsAskedOf(urls, m.t.pipeline.sandbox!, '/v1/audio-features').flat().sort()).toEqual(
        sorted(fresh),
      );
      expect(idsAskedOf(urls, m.t.pipeline.sandbox!, '/reccobeats/v1/audio-features').flat().sort()).toEqual(
        sorted(fresh.filter((id) => !hasFeatures(id))),
      );
    });

    it('keeps the features of day 1 for the tracks seen again on day 2, with their source', () => {
      const again = chart2.filter((id) => chart1.includes(id) && hasFeatures(id));
      expect(again.length).toBe(
        chart2.length - fresh.length - chart2.filter((id) => !hasFeatures(id) && chart1.includes(id)).length,
      );
      for (const id of again) {
        const r = m.rows[1]!.get(id)!;
        expect([id, r.features_source, Number(r.danceability)]).toEqual([
          id,
          'spotify',
          catalog.track(id)!.audioFeatures!.danceability,
        ]);
      }
    });

    it('leaves the stage empty', async () => {
      expect(await stageRows(m.t.pipeline.warehouse)).toBe(0);
    });
  });

  describe('an app in Development Mode (no multi-id lookups, no popularity, no audio features)', () => {
    let m: ModeRun;

    beforeAll(async () => {
      const t = await startTestPipeline({
        label: 'access-development',
        // 200 single lookups on day 1: a limit that lets them through in about a second.
        env: { CHARTFLOW_SANDBOX_ACCESS: 'development', SPOTIFY_RATE_LIMIT: '250/1' },
      });
      setCatalog(t);
      m = modes.development = await runDays(t, async (date) => [
        await t.pipeline.run({ chartId: 'global', chartDate: date }),
      ]);
    });

    it('runs both days to success, knowing the app is in Development Mode', () => {
      expect(m.t.pipeline.sandbox!.accessMode).toBe('development');
      for (const [i, summary] of m.summaries.entries()) {
        expect(summary).toMatchObject({ status: 'succeeded', spotifyAccess: 'development', backlog: null });
        expect(summary.deadLettered).toEqual([]);
        expect(summary.failedInvocations).toEqual([]);
        expect(summary.rows.chartEntriesThisDay).toBe(200);
        expect(sorted(m.rows[i]!.keys())).toEqual(sorted(i === 0 ? chart1 : chart2));
      }
    });

    it('asks each closed endpoint at most once per process, and looks up each track never seen before once', () => {
      const rb = (n: number) => batches(n, reccobeatsCalls);
      const [first, second] = m.served as [Record<SandboxEndpoint, number>, Record<SandboxEndpoint, number>];
      // The 403 of multi-id lookups is learned on day 1 and remembered; audio features, closed to
      // every app without extended access, are asked at most once (or known closed with them).
      expect(first.tracks).toBe(1);
      expect(first.audioFeatures).toBeLessThanOrEqual(1);
      expect(m.t.pipeline.sandbox!.stats.snapshot().byProvider.spotify.restricted).toBe(
        first.tracks + first.audioFeatures,
      );
      expect(m.served).toEqual([
        {
          token: 1,
          playlistItems: 4,
          tracks: 1,
          audioFeatures: first.audioFeatures,
          track: 200,
          reccobeatsTracks: rb(200),
          reccobeatsAudioFeatures: rb(200),
        },
        {
          token: 0,
          playlistItems: 4,
          tracks: 0,
          audioFeatures: 0,
          track: fresh.length,
          reccobeatsTracks: rb(200),
          reccobeatsAudioFeatures: rb(fresh.length),
        },
      ]);
      expect(second.track).toBe(11);
      expect(m.summaries.map((s) => s.requests)).toEqual([
        { spotify: 1 + 4 + 1 + first.audioFeatures + 200, reccobeats: rb(200) * 2 },
        { spotify: 4 + fresh.length, reccobeats: rb(200) + rb(fresh.length) },
      ]);
      expect(idsAskedOf(m.urls[0]!, m.t.pipeline.sandbox!, '/v1/tracks/{id}').flat().sort()).toEqual(
        sorted(chart1),
      );
      expect(idsAskedOf(m.urls[1]!, m.t.pipeline.sandbox!, '/v1/tracks/{id}').flat().sort()).toEqual(
        sorted(fresh),
      );
      expect(idsAskedOf(m.urls[1]!, m.t.pipeline.sandbox!, '/reccobeats/v1/track').flat().sort()).toEqual(
        sorted(chart2),
      );
    });

    it('takes metadata from Spotify, popularity and audio features from ReccoBeats, and says what is missing', () => {
      for (const [i, date] of days.entries()) {
        const chart = i === 0 ? chart1 : chart2;
        const got = chart.map((id) => {
          const r = m.rows[i]!.get(id)!;
          return {
            id,
            status: r.enrichment_status,
            metadata: [r.metadata_source, r.track_name, r.album_id],
            popularity: [r.popularity, r.popularity_source],
            features: [r.features_source, r.danceability === null ? null : Number(r.danceability)],
            timeSignature: r.time_signature,
            missing: r.missing_reason,
          };
        });
        expect(got).toEqual(
          chart.map((id) => {
            const track = catalog.track(id)!;
            const known = reccobeatsKnowsTrack(catalog, id);
            const withFeatures = known && hasFeatures(id);
            const closed = `spotify audio features closed to this app (${m.t.pipeline.spotifyAccess.reason('audioFeatures')})`;
            const missing = [
              ...(known ? [] : ['not_found: no popularity: reccobeats does not know this track']),
              ...(withFeatures
                ? []
                : [`not_found: no audio features: ${closed}, then reccobeats has none for this track`]),
            ];
            return {
              id,
              status: 'ok',
              metadata: ['spotify', track.name, track.albumId],
              popularity: known ? [String(catalog.popularity(id, date)), 'reccobeats'] : [null, null],
              features: withFeatures ? ['reccobeats', track.audioFeatures!.danceability] : [null, null],
              // ReccoBeats does not measure it.
              timeSignature: null,
              missing: missing.length ? missing.join('; ') : null,
            };
          }),
        );
      }
    });

    // The same bug as with extended access, on ReccoBeats: tracks seen on day 1 without features
    // (unknown to ReccoBeats, or with none) are asked again on day 2.
    it('asks ReccoBeats on day 2 for the audio features of the new tracks only', () => {
      expect(
        idsAskedOf(m.urls[1]!, m.t.pipeline.sandbox!, '/reccobeats/v1/audio-features').flat().sort(),
      ).toEqual(sorted(fresh));
    });
  });

  describe('a user without a Spotify app (Spotify Charts CSV files, ReccoBeats)', () => {
    let m: ModeRun;
    const files: Record<string, ChartsCsvRowSpec[]> = {};

    beforeAll(async () => {
      const t = await startTestPipeline({ label: 'access-none', env: { CHARTFLOW_SANDBOX_ACCESS: 'none' } });
      setCatalog(t);
      m = modes.none = await runDays(t, async (date) => {
        files[date] = chartFileRows(catalog, date);
        const body = Buffer.from(currentChartsCsv(files[date]), 'utf8');
        return t.pipeline.ingest([{ name: `regional-global-daily-${date}.csv`, body }]);
      });
    });

    it('runs both files to success without a single Spotify request', () => {
      for (const [i, summary] of m.summaries.entries()) {
        expect(summary).toMatchObject({
          chartId: 'global-daily',
          chartDate: days[i],
          status: 'succeeded',
          spotifyAccess: 'none',
          backlog: null,
        });
        expect(summary.deadLettered).toEqual([]);
        expect(summary.failedInvocations).toEqual([]);
        expect(summary.rows.chartEntriesThisDay).toBe(200);
        expect(Object.keys(summary.requests)).toEqual(['reccobeats']);
      }
      expect(m.t.pipeline.sandbox!.stats.snapshot().byProvider.spotify.requests).toBe(0);
    });

    it('asks ReccoBeats for every track daily, and for audio features in as few calls as the new tracks need', () => {
      const known = (ids: readonly string[]) => ids.filter((id) => reccobeatsKnowsTrack(catalog, id));
      const rb = (n: number) => batches(n, reccobeatsCalls);
      const none = { token: 0, playlistItems: 0, tracks: 0, track: 0, audioFeatures: 0 };
      expect(m.served).toEqual([
        { ...none, reccobeatsTracks: rb(200), reccobeatsAudioFeatures: rb(known(chart1).length) },
        { ...none, reccobeatsTracks: rb(200), reccobeatsAudioFeatures: rb(known(fresh).length) },
      ]);
      expect(idsAskedOf(m.urls[1]!, m.t.pipeline.sandbox!, '/reccobeats/v1/track').flat().sort()).toEqual(
        sorted(chart2),
      );
    });

    it('takes metadata and popularity from ReccoBeats, and names the tracks it does not know', () => {
      for (const [i, date] of days.entries()) {
        const chart = i === 0 ? chart1 : chart2;
        const got = chart.map((id) => {
          const r = m.rows[i]!.get(id)!;
          return {
            id,
            status: r.enrichment_status,
            metadata: [r.metadata_source, r.track_name, r.duration_ms, r.isrc, r.album_id],
            popularity: [r.popularity, r.popularity_source],
            features: r.features_source,
            missing: r.missing_reason,
          };
        });
        expect(got).toEqual(
          chart.map((id) => {
            const track = catalog.track(id)!;
            if (!reccobeatsKnowsTrack(catalog, id)) {
              return {
                id,
                status: 'not_found',
                metadata: [null, null, null, null, null],
                popularity: [null, null],
                features: null,
                missing:
                  'not_found: no source knows this track; not_found: no popularity: reccobeats does not know this track',
              };
            }
            return {
              id,
              status: 'ok',
              // ReccoBeats has no album.
              metadata: ['reccobeats', track.name, String(track.durationMs), track.isrc, null],
              popularity: [String(catalog.popularity(id, date)), 'reccobeats'],
              features: hasFeatures(id) ? 'reccobeats' : null,
              missing: hasFeatures(id)
                ? null
                : 'not_found: no audio features: reccobeats has none for this track',
            };
          }),
        );
      }
    });

    it("keeps the file's positions and streams in marts.fct_chart_entries", async () => {
      for (const date of days) {
        const entries = await entriesOf(m.t, 'global-daily', date);
        expect(entries.map((e) => [Number(e.position), e.track_id, Number(e.streams)])).toEqual(
          files[date]!.map((row, i) => [i + 1, row.trackId, row.streams]),
        );
      }
    });
  });

  describe('the three kinds of user, side by side', () => {
    const chartIdOf = { extended: 'global', development: 'global', none: 'global-daily' } as const;

    it('chart the same tracks at the same positions on both days', async () => {
      for (const date of days) {
        const expected = catalog.chartFor('global', date).map((id, i) => [i + 1, id]);
        for (const mode of ['extended', 'development', 'none'] as const) {
          const entries = await entriesOf(modes[mode]!.t, chartIdOf[mode], date);
          expect(
            entries.map((e) => [Number(e.position), e.track_id]),
            `${mode} ${date}`,
          ).toEqual(expected);
        }
      }
    });

    it('agree on popularity wherever a source gave it', async () => {
      for (const date of days) {
        const [ext, dev, none] = await Promise.all(
          (['extended', 'development', 'none'] as const).map((mode) =>
            entriesOf(modes[mode]!.t, chartIdOf[mode], date),
          ),
        );
        const popularity = (rows: typeof ext) =>
          rows!.map((r) => (r.popularity === null ? null : Number(r.popularity)));
        expect(popularity(ext)).toEqual(chartOf(date).map((id) => catalog.popularity(id, date)));
        const fromReccoBeats = chartOf(date).map((id) =>
          reccobeatsKnowsTrack(catalog, id) ? catalog.popularity(id, date) : null,
        );
        expect(popularity(dev)).toEqual(fromReccoBeats);
        expect(popularity(none)).toEqual(fromReccoBeats);
      }
    });

    it('agree on every track name, and on the metadata and audio features each one has', async () => {
      const [ext, dev, none] = await Promise.all(
        (['extended', 'development', 'none'] as const).map((mode) => tracksOf(modes[mode]!.t)),
      );
      const ids = sorted(new Set([...chart1, ...chart2]));
      for (const tracks of [ext, dev, none]) expect(sorted(tracks!.keys())).toEqual(ids);
      const names = ids.map((id) => catalog.track(id)!.name);
      for (const tracks of [ext, dev, none])
        expect(ids.map((id) => tracks!.get(id)!.track_name)).toEqual(names);

      const metadata = (r: TrackRow) => [r.duration_ms, r.isrc];
      expect(ids.map((id) => metadata(dev!.get(id)!))).toEqual(ids.map((id) => metadata(ext!.get(id)!)));
      expect(ids.map((id) => metadata(none!.get(id)!))).toEqual(
        ids.map((id) => (reccobeatsKnowsTrack(catalog, id) ? metadata(ext!.get(id)!) : [null, null])),
      );

      const features = (r: TrackRow) =>
        r.features_source === null ? null : [r.danceability, r.energy, r.tempo, r.musical_key];
      const viaReccoBeats = ids.map((id) =>
        reccobeatsKnowsTrack(catalog, id) ? features(ext!.get(id)!) : null,
      );
      expect(ids.map((id) => features(dev!.get(id)!))).toEqual(viaReccoBeats);
      expect(ids.map((id) => features(none!.get(id)!))).toEqual(viaReccoBeats);
      expect(ids.filter((id) => ext!.get(id)!.features_source === 'spotify')).toEqual(
        ids.filter(hasFeatures),
      );
    });
  });
});
