import { featuresRecheckDays } from '../../../../services/track-attributes/enrichment/lookup-session.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { reccobeatsKnowsTrack, startSandbox, type Sandbox } from '../../../../infra/sandbox/index.js';
import { ProviderError } from '../../../../shared/errors.js';
import type { RetryPolicy } from '../../../../shared/http/json-client.js';
import { RequestCounter } from '../../../../shared/http/request-counter.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { ReccoBeatsClient } from '../../../../shared/reccobeats/reccobeats-client.js';
import type { TrackLookup } from '../../../../services/track-attributes/enrichment/attribute-provider.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../../shared/http/local-http-server.js';
import { enricherWith, freshLake } from './enricher-fixtures.js';
import { recordRequests } from '../../../support/provenance.js';

const day = '2026-03-02';
const nextDay = '2026-03-03';

/** Well-formed base62 ids that no catalog holds. */
const unknownId = 'Zz00000000000000000000';

const fastRetry: RetryPolicy = { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 1_000 };

const reccobeatsClientFor = (apiUrl: string, retry: RetryPolicy = fastRetry) =>
  new ReccoBeatsClient({ apiUrl, counter: new RequestCounter(), clock: systemClock, retry, sendAsOf: true });

const okLookup = (lookup: TrackLookup | undefined) => {
  if (lookup?.status !== 'ok') throw new Error(`expected an ok lookup, got ${JSON.stringify(lookup)}`);
  return lookup;
};

describe('Class: AttributeEnricher, with ReccoBeats alone (no Spotify app)', () => {
  describe('against the sandbox', () => {
    let sandbox: Sandbox;
    let chart: readonly string[];
    /** Charting tracks ReccoBeats knows, with and without audio features. */
    let withFeatures: string[];
    let withoutFeatures: string[];
    /** A charting track ReccoBeats does not know: absent from its answers. */
    let unknownToReccoBeats: string;

    beforeAll(async () => {
      sandbox = await startSandbox({ today: () => day });
      chart = sandbox.catalog.chartFor('global', day);
      const known = chart.filter((id) => reccobeatsKnowsTrack(sandbox.catalog, id));
      withFeatures = known.filter((id) => sandbox.catalog.track(id)!.audioFeatures !== null);
      withoutFeatures = known.filter((id) => sandbox.catalog.track(id)!.audioFeatures === null);
      unknownToReccoBeats = chart.find((id) => !reccobeatsKnowsTrack(sandbox.catalog, id))!;
      expect([withFeatures.length >= 45, withoutFeatures.length > 0, unknownToReccoBeats]).toEqual([
        true,
        true,
        expect.any(String),
      ]);
      expect(sandbox.catalog.track(unknownId)).toBeUndefined();
    });

    afterAll(async () => {
      await sandbox?.close();
    });

    afterEach(() => {
      sandbox.faults.clear();
      sandbox.stats.reset();
      vi.restoreAllMocks();
    });

    const enricher = (store = freshLake()) =>
      enricherWith({ reccobeats: reccobeatsClientFor(sandbox.reccobeatsUrl), store });

    /** What the catalog says ReccoBeats gives for a track on a day. */
    const expectedRow = (id: string, date = day) => {
      const track = sandbox.catalog.track(id)!;
      return {
        track_name: track.name,
        duration_ms: track.durationMs,
        isrc: track.isrc,
        popularity: sandbox.catalog.popularity(id, date),
        metadata_source: 'reccobeats',
        popularity_source: 'reccobeats',
      };
    };

    it('maps the shuffled answer back by id: an id ReccoBeats drops is not_found, and no row is shifted', async () => {
      const ids = [
        withFeatures[0]!,
        withFeatures[1]!,
        unknownId,
        withFeatures[2]!,
        unknownToReccoBeats,
        withFeatures[3]!,
        withFeatures[4]!,
      ];
      // ReccoBeats answers in an order of its own, leaving out what it does not know.
      const answered = await reccobeatsClientFor(sandbox.reccobeatsUrl).tracks(ids, day);
      const order = answered.map((item) => /track\/(\w+)$/.exec((item as { href: string }).href)![1]!);
      expect(sorted(order)).toEqual(sorted(withFeatures.slice(0, 5)));
      expect(order).not.toEqual(withFeatures.slice(0, 5));

      const { results } = await enricher().lookup(ids, day);

      expect(sorted(results.keys())).toEqual(sorted(ids));
      for (const id of [unknownId, unknownToReccoBeats]) {
        expect(results.get(id), id).toEqual({
          status: 'not_found',
          reason:
            'not_found: no source knows this track; not_found: no popularity: reccobeats does not know this track',
        });
      }
      for (const id of withFeatures.slice(0, 5)) {
        const row = okLookup(results.get(id));
        expect(row.attributes, id).toMatchObject(expectedRow(id));
        const track = sandbox.catalog.track(id)!;
        expect(row.artists).toEqual(
          track.artistIds.map((artistId) => ({
            artistId,
            artistName: sandbox.catalog.artistName(artistId, day),
          })),
        );
        const features = track.audioFeatures!;
        expect(row.attributes).toMatchObject({
          danceability: features.danceability,
          energy: features.energy,
          loudness: features.loudness,
          tempo: features.tempo,
          musical_key: features.key,
          mode: features.mode,
          // ReccoBeats does not measure it.
          time_signature: null,
          features_source: 'reccobeats',
          missing_reason: null,
        });
      }
    });

    it('splits 45 ids into calls of 40 and 5, and loses none of them', async () => {
      const ids = withFeatures.slice(0, 45);
      const requests = recordRequests();

      const { results } = await enricher()
        .lookup(ids, day)
        .finally(() => requests.stop());

      const asked = (path: string) =>
        requests
          .urls()
          .filter((u) => new URL(u).pathname === `/reccobeats/v1${path}`)
          .map((u) => new URL(u).searchParams.get('ids')!.split(','));
      for (const path of ['/track', '/audio-features']) {
        expect(
          asked(path).map((call) => call.length),
          path,
        ).toEqual([40, 5]);
        expect(asked(path).flat(), path).toEqual(ids);
      }
      expect(ids.map((id) => [id, results.get(id)?.status])).toEqual(ids.map((id) => [id, 'ok']));
      expect(sandbox.stats.snapshot().requests).toMatchObject({
        reccobeatsTracks: 2,
        reccobeatsAudioFeatures: 2,
      });
    });

    it('keeps a track without audio features: ok, features_source null, with the reason', async () => {
      const [without] = withoutFeatures as [string];

      const { results } = await enricher().lookup([without, withFeatures[0]!], day);

      const row = okLookup(results.get(without));
      expect(row.attributes.danceability ?? null).toBeNull();
      expect(row.attributes).toMatchObject({
        ...expectedRow(without),
        features_source: null,
        missing_reason: 'not_found: no audio features: reccobeats has none for this track',
      });
      expect(okLookup(results.get(withFeatures[0]!)).attributes.features_source).toBe('reccobeats');
    });

    it('asks audio features once: a later lookup takes them from the cache, popularity afresh', async () => {
      const ids = withFeatures.slice(0, 10);
      const store = freshLake();
      await enricher(store).lookup(ids, day);
      sandbox.stats.reset();

      const { results } = await enricher(store).lookup(ids, nextDay);

      expect(sandbox.stats.snapshot().requests).toMatchObject({
        reccobeatsTracks: 1,
        reccobeatsAudioFeatures: 0,
      });
      for (const id of ids) {
        expect(okLookup(results.get(id)).attributes, id).toMatchObject({
          ...expectedRow(id, nextDay),
          danceability: sandbox.catalog.track(id)!.audioFeatures!.danceability,
          features_source: 'reccobeats',
          missing_reason: null,
        });
      }
    });

    it('asks once for the audio features of tracks new on two days looked up at once (a backfill), popularity per day', async () => {
      const ids = [...withFeatures.slice(0, 45), ...withoutFeatures.slice(0, 1)];
      const shared = enricher();
      sandbox.stats.reset();

      const [first, second] = await Promise.all([shared.lookup(ids, day), shared.lookup(ids, nextDay)]);

      // 46 ids: 2 calls of 40 at most per endpoint; popularity is as of each day, so asked for both.
      expect(sandbox.stats.snapshot().requests).toMatchObject({
        reccobeatsTracks: 4,
        reccobeatsAudioFeatures: 2,
      });
      for (const [batch, chartDate] of [
        [first, day],
        [second, nextDay],
      ] as const) {
        for (const id of withFeatures.slice(0, 45))
          expect(okLookup(batch.results.get(id)).attributes, id).toMatchObject({
            ...expectedRow(id, chartDate),
            danceability: sandbox.catalog.track(id)!.audioFeatures!.danceability,
            features_source: 'reccobeats',
            missing_reason: null,
          });
        expect(okLookup(batch.results.get(ids.at(-1)!)).attributes.missing_reason).toBe(
          'not_found: no audio features: reccobeats has none for this track',
        );
        // Each day keeps the answers its rows came from, the shared ones included.
        const raw = batch.raw as Record<string, unknown[]>;
        expect(raw.reccobeats_audio_features?.length, chartDate).toBe(45);
      }
    });

    // The cache says "looked up, none" (featuresMissing), so that such a track is not asked daily.
    it('does not ask again for the audio features of a track that had none', async () => {
      const ids = [...withoutFeatures.slice(0, 1), ...withFeatures.slice(0, 2)];
      const store = freshLake();
      await enricher(store).lookup(ids, day);
      sandbox.stats.reset();

      const { results } = await enricher(store).lookup(ids, nextDay);

      expect(okLookup(results.get(ids[0]!)).attributes.features_source).toBeNull();
      expect(sandbox.stats.snapshot().requests.reccobeatsAudioFeatures).toBe(0);
    });

    it('says on a later day why the track has no audio features, as the reason was recorded', async () => {
      const ids = [...withoutFeatures.slice(0, 1), ...withFeatures.slice(0, 1)];
      const store = freshLake();
      await enricher(store).lookup(ids, day);

      const { results } = await enricher(store).lookup(ids, nextDay);

      expect(okLookup(results.get(ids[0]!)).attributes).toMatchObject({
        features_source: null,
        missing_reason: 'not_found: no audio features: reccobeats has none for this track',
      });
      expect(okLookup(results.get(ids[1]!)).attributes.missing_reason).toBeNull();
    });

    it('asks again, once featuresRecheckDays have passed, for a track that had none', async () => {
      const ids = withoutFeatures.slice(0, 1);
      const store = freshLake();
      await enricher(store).lookup(ids, day);
      const later = new Date(Date.parse(`${day}T00:00:00Z`) + featuresRecheckDays * 86_400_000)
        .toISOString()
        .slice(0, 10);

      sandbox.stats.reset();
      await enricher(store).lookup(ids, later);

      expect(sandbox.stats.snapshot().requests.reccobeatsAudioFeatures).toBe(1);
    });

    it('retries an answer cut short (ProviderError), then succeeds', async () => {
      sandbox.faults.malformedJson({ provider: 'reccobeats', endpoint: 'reccobeatsTracks', count: 1 });
      const noRetry = reccobeatsClientFor(sandbox.reccobeatsUrl, { ...fastRetry, retries: 0 });
      const failure = await noRetry.tracks(withFeatures.slice(0, 3), day).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ProviderError);
      expect((failure as ProviderError).message).toBe('reccobeats GET /v1/track: the answer is not JSON');

      sandbox.faults.malformedJson({ provider: 'reccobeats', endpoint: 'reccobeatsTracks', count: 1 });
      sandbox.stats.reset();
      const ids = withFeatures.slice(0, 3);
      const { results } = await enricher().lookup(ids, day);

      const served = sandbox.stats.snapshot();
      expect(served.byProvider.reccobeats.malformedJson).toBe(1);
      expect(served.requests.reccobeatsTracks).toBe(2);
      for (const id of ids) expect(okLookup(results.get(id)).attributes, id).toMatchObject(expectedRow(id));
    });
  });

  describe('against an answer with an invalid item', () => {
    let server: LocalHttpServer;
    const ids = ['Aa000000000000000000a1', 'Aa000000000000000000a2', 'Aa000000000000000000a3'] as const;
    const item = (id: string, n: number, overrides: Record<string, unknown> = {}) => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      trackTitle: `Track ${n}, "quoted"`,
      artists: [
        {
          id: `10000000-0000-4000-8000-00000000000${n}`,
          name: `Artist ${n}`,
          href: `https://open.spotify.com/artist/Ar${n}`,
        },
      ],
      durationMs: 180_000 + n,
      isrc: `QZAAA260000${n}`,
      ean: null,
      upc: null,
      href: `https://open.spotify.com/track/${id}`,
      availableCountries: 'US',
      popularity: 40 + n,
      ...overrides,
    });
    const invalid = item(ids[1], 2, { popularity: 150 });

    beforeAll(async () => {
      server = await startLocalHttpServer((request) => {
        const url = new URL(request.url, 'http://localhost');
        if (url.pathname === '/v1/track') {
          // Out of order, the broken one in the middle.
          return { body: { content: [item(ids[2], 3), invalid, item(ids[0], 1)] } };
        }
        return { body: { content: [] } };
      });
    });
    afterAll(() => server?.close());

    const lookup = () =>
      enricherWith({ reccobeats: reccobeatsClientFor(`${server.url}/v1`) }).lookup([...ids], day);

    it('quarantines the invalid item with its reason and the answer, and maps the others by id', async () => {
      const { results, quarantine, raw } = await lookup();

      expect(quarantine).toEqual([
        {
          trackId: ids[1],
          provider: 'reccobeats',
          reason: 'invalid reccobeats track: popularity: Too big: expected number to be <=100',
          raw: invalid,
        },
      ]);
      expect(okLookup(results.get(ids[0])).attributes).toMatchObject({
        track_name: 'Track 1, "quoted"',
        duration_ms: 180_001,
        isrc: 'QZAAA2600001',
        popularity: 41,
        metadata_source: 'reccobeats',
        popularity_source: 'reccobeats',
        features_source: null,
        missing_reason: 'not_found: no audio features: reccobeats has none for this track',
      });
      expect(okLookup(results.get(ids[2])).attributes).toMatchObject({
        popularity: 43,
        isrc: 'QZAAA2600003',
      });
      expect(raw).toMatchObject({ reccobeats_tracks: [item(ids[2], 3), invalid, item(ids[0], 1)] });
    });

    // Without a Spotify app the invalid answer was the track's only one: the source knows the track,
    // and the TrackLookup contract says `quarantined`, not `not_found`.
    it('says the track whose answer was invalid is quarantined, not unknown', async () => {
      const { results } = await lookup();

      expect(results.get(ids[1])).toMatchObject({
        status: 'quarantined',
        reason: 'provider_error: invalid reccobeats track: popularity: Too big: expected number to be <=100',
      });
    });
  });
});

const sorted = (ids: Iterable<string>) => [...ids].sort();
