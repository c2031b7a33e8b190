import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, trickyTracks, type Sandbox } from '../../../../infra/sandbox/index.js';
import type { TrackLookup } from '../../../../services/track-attributes/enrichment/attribute-provider.js';
import { spotifyOnlyEnricher } from './enricher-fixtures.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../../shared/http/local-http-server.js';
import { manualClock } from '../../../shared/http/manual-clock.js';
import {
  audioFeaturesFactory,
  idsOf,
  pathOf,
  spotifyTrackFactory,
  tokenAnswer,
  trackId,
} from '../../../shared/spotify/spotify-answers.js';
import { spotifyClientFor } from '../../../shared/spotify/sandbox-spotify-client.js';

const day = '2026-03-02';

/** Well-formed base62 ids that no catalog holds. */
const unknownIds = (count: number) =>
  Array.from({ length: count }, (_, i) => `Zz${String(i).padStart(20, '0')}`);

const okAttributes = (lookup: TrackLookup | undefined) => {
  if (lookup?.status !== 'ok') throw new Error(`expected an ok lookup, got ${JSON.stringify(lookup)}`);
  return lookup;
};

describe('Class: AttributeEnricher, with Spotify alone', () => {
  describe('against the sandbox', () => {
    let sandbox: Sandbox;
    let chart: readonly string[];

    beforeAll(async () => {
      sandbox = await startSandbox({ today: () => day });
      chart = sandbox.catalog.chartFor('global', day);
      for (const id of unknownIds(40)) expect(sandbox.catalog.track(id)).toBeUndefined();
    });

    afterAll(async () => {
      await sandbox?.close();
    });

    afterEach(() => {
      sandbox.faults.clear();
      sandbox.stats.reset();
    });

    const provider = () => {
      const spotify = spotifyClientFor(sandbox);
      return { ...spotify, provider: spotifyOnlyEnricher(spotify.client) };
    };

    /** What the catalog says a track's row holds on a day. */
    const expectedRow = (id: string) => {
      const track = sandbox.catalog.track(id);
      const album = track && sandbox.catalog.album(track.albumId);
      if (!track || !album) throw new Error(`no catalog track ${id}`);
      return {
        artists: track.artistIds.map((artistId) => ({
          artistId,
          artistName: sandbox.catalog.artistName(artistId, day),
        })),
        attributes: {
          track_name: track.name,
          album_id: album.id,
          album_name: album.name,
          album_type: album.albumType,
          release_date: album.releaseDate,
          release_date_precision: album.releaseDatePrecision,
          duration_ms: track.durationMs,
          is_explicit: track.explicit,
          popularity: sandbox.catalog.popularity(id, day),
          isrc: track.isrc,
          metadata_source: 'spotify',
          popularity_source: 'spotify',
        },
        features: track.audioFeatures,
      };
    };

    it('maps answers back by id: the unknown id is not_found, the others carry the catalog’s values', async () => {
      const collaboration = sandbox.catalog.catalogTracks().find((t) => t.name === trickyTracks[1].name);
      const known = [chart[0], chart[1], collaboration?.id, chart[150]] as string[];
      const [unknown] = unknownIds(1) as [string];
      const ids = [known[0], known[1], unknown, known[2], known[3]] as string[];

      const { results, raw } = await provider().provider.lookup(ids, day);

      expect([...results.keys()].sort()).toEqual([...ids].sort());
      expect(results.get(unknown)).toEqual({
        status: 'not_found',
        reason: 'not_found: spotify does not know this track id',
      });
      for (const id of known) {
        const row = okAttributes(results.get(id));
        const expected = expectedRow(id);
        expect(row.attributes).toMatchObject(expected.attributes);
        expect(row.artists).toEqual(expected.artists);
        if (expected.features) {
          expect(row.attributes).toMatchObject({
            danceability: expected.features.danceability,
            energy: expected.features.energy,
            loudness: expected.features.loudness,
            tempo: expected.features.tempo,
            musical_key: expected.features.key,
            mode: expected.features.mode,
            time_signature: expected.features.time_signature,
            features_source: 'spotify',
            missing_reason: null,
          });
        }
      }
      expect(okAttributes(results.get(collaboration?.id as string)).artists).toHaveLength(3);
      expect(raw).toMatchObject({
        spotify_tracks: expect.any(Array),
        spotify_audio_features: expect.any(Array),
      });
    });

    it('answers not_found for a track released after the chart day: Spotify did not know it yet', async () => {
      const later = sandbox.catalog
        .catalogTracks()
        .find((t) => t.releasedOn > day && t.releasedOn < '2027-01-01');
      expect(later).toBeDefined();

      const { results } = await provider().provider.lookup([chart[0] as string, later?.id as string], day);

      expect(results.get(later?.id as string)).toMatchObject({ status: 'not_found' });
      expect(results.get(chart[0] as string)).toMatchObject({ status: 'ok' });
    });

    it('keeps a track Spotify has no audio features for: ok, features_source null, with the reason', async () => {
      const withoutFeatures = chart.find((id) => sandbox.catalog.track(id)?.audioFeatures === null) as string;
      const withFeatures = chart.find((id) => sandbox.catalog.track(id)?.audioFeatures !== null) as string;
      expect(withoutFeatures).toBeDefined();

      const { results } = await provider().provider.lookup([withoutFeatures, withFeatures], day);

      const row = okAttributes(results.get(withoutFeatures));
      expect(row.attributes).toMatchObject({
        ...expectedRow(withoutFeatures).attributes,
        features_source: null,
        missing_reason:
          'not_found: no audio features: spotify has no audio features for this track, then ReccoBeats is off',
      });
      expect(row.attributes.danceability ?? null).toBeNull();
      expect(okAttributes(results.get(withFeatures)).attributes).toMatchObject({
        features_source: 'spotify',
        missing_reason: null,
      });
    });

    it('isolates a poison id among 50: it alone is missing, the 49 others are ok', async () => {
      const ids = chart.slice(0, 50);
      const poison = ids[17] as string;
      sandbox.faults.failTrackLookups([poison]);

      const { results, raw } = await provider().provider.lookup(ids, day);

      expect(results.get(poison)).toEqual({
        status: 'missing',
        reason:
          'provider_error: spotify tracks: spotify GET /v1/tracks: HTTP 500; not_found: no popularity: Spotify gave none and ReccoBeats is off',
      });
      const others = ids.filter((id) => id !== poison);
      expect(others.map((id) => results.get(id)?.status)).toEqual(others.map(() => 'ok'));
      expect((raw as { spotify_tracks: unknown[] }).spotify_tracks).toHaveLength(49);
      // The features of the 49 are asked in one call: the poison never reaches that endpoint.
      expect(sandbox.stats.requests.audioFeatures).toBe(1);
    });

    it('asks 120 ids in ceil(120/50) track calls and ceil(120/100) audio-features calls', async () => {
      const { provider: lookup, counter } = provider();

      const { results } = await lookup.lookup(chart.slice(0, 120), day);

      expect([...results.values()].every((r) => r.status === 'ok')).toBe(true);
      expect(sandbox.stats.requests).toMatchObject({ token: 1, tracks: 3, audioFeatures: 2 });
      expect(counter.snapshot()).toEqual({ spotify: 6 });
    });

    it('asks audio features only for the ids that resolved', async () => {
      const ids = [...chart.slice(0, 90), ...unknownIds(30)];

      const { results } = await provider().provider.lookup(ids, day);

      expect([...results.values()].filter((r) => r.status === 'not_found')).toHaveLength(30);
      expect(sandbox.stats.requests).toMatchObject({ tracks: 3, audioFeatures: 1 });
    });

    it('asks each id once, however often it is given', async () => {
      const ids = [chart[0], chart[1], chart[0], chart[1], chart[0]] as string[];

      const { results } = await provider().provider.lookup(ids, day);

      expect(results.size).toBe(2);
      expect(sandbox.stats.requests).toMatchObject({ tracks: 1, audioFeatures: 1 });
    });
  });

  it('records a wait too long to sleep as a quota: what was answered is kept, the rest is missing', async () => {
    const clock = manualClock();
    const sandbox = await startSandbox({
      today: () => day,
      clock,
      rateLimit: { requests: 1, windowMs: 60_000 },
    });
    try {
      const { client } = spotifyClientFor(sandbox, { clock });
      const ids = sandbox.catalog.chartFor('global', day).slice(0, 60);

      const { results, gaps } = await spotifyOnlyEnricher(client).lookup(ids, day);

      // The first call of 50 went through; the second was refused for a minute, and not waited for.
      expect(sandbox.stats.requests.tracks).toBe(2);
      expect(clock.sleeps).toEqual([]);
      expect(ids.slice(0, 50).map((id) => results.get(id)?.status)).toEqual(ids.slice(0, 50).map(() => 'ok'));
      for (const id of ids.slice(50)) {
        expect(results.get(id)).toEqual({
          status: 'missing',
          reason: expect.stringMatching(/^quota: spotify tracks: spotify GET \/v1\/tracks: rate limited/),
        });
        expect(gaps?.get(id)).toEqual([
          expect.objectContaining({ group: 'metadata', kind: 'quota', retryAfterMs: 60_000 }),
        ]);
      }
      // The 50 found tracks' features were refused too: a quota, not a known absence.
      expect(okAttributes(results.get(ids[0]!)).attributes.missing_reason).toMatch(
        /^quota: no audio features: spotify audio features failed: .*rate limited/,
      );
    } finally {
      await sandbox.close();
    }
  });

  describe('against answers out of order, with broken objects', () => {
    let server: LocalHttpServer;
    const [good, noPopularity, broken, noFeatures, badFeatures, unknown] = [
      'good',
      'nopop',
      'broken',
      'nofeat',
      'badfeat',
      'unknown',
    ].map(trackId) as [string, string, string, string, string, string];
    const trackAnswers: Record<string, unknown> = {
      [good]: spotifyTrackFactory('good', {
        artists: [
          { id: trackId('b1'), name: 'B' },
          { id: trackId('a1'), name: 'A' },
        ],
      }),
      [noPopularity]: spotifyTrackFactory('nopop', { popularity: undefined }),
      [broken]: spotifyTrackFactory('broken', { duration_ms: -1 }),
      [noFeatures]: spotifyTrackFactory('nofeat'),
      [badFeatures]: spotifyTrackFactory('badfeat'),
    };
    const featureAnswers: Record<string, unknown> = {
      [good]: audioFeaturesFactory(good, { danceability: 0.11 }),
      [noPopularity]: audioFeaturesFactory(noPopularity, { danceability: 0.22 }),
      [badFeatures]: audioFeaturesFactory(badFeatures, { danceability: 2 }),
    };

    beforeAll(async () => {
      // Answers in reverse order: only a client that maps by id gets them right.
      server = await startLocalHttpServer((request) => {
        const path = pathOf(request);
        if (path === '/api/token') return tokenAnswer;
        const asked = idsOf(request).reverse();
        if (path === '/v1/tracks') return { body: { tracks: asked.map((id) => trackAnswers[id] ?? null) } };
        if (path === '/v1/audio-features')
          return { body: { audio_features: asked.map((id) => featureAnswers[id] ?? null) } };
        return { status: 404, body: { error: { status: 404, message: 'Service not found' } } };
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    it('maps every answer to its id, quarantines the broken track, and says what is missing and why', async () => {
      const { client } = spotifyClientFor({
        apiUrl: `${server.url}/v1`,
        accountsUrl: server.url,
        credentials: { clientId: 'id', clientSecret: 'secret' },
      });

      const { results, quarantine } = await spotifyOnlyEnricher(client).lookup(
        [good, noPopularity, broken, noFeatures, badFeatures, unknown],
        day,
      );

      const row = okAttributes(results.get(good));
      expect(row.attributes).toMatchObject({
        track_name: 'Song good',
        album_name: 'Album good',
        popularity: 71,
        danceability: 0.11,
        features_source: 'spotify',
        missing_reason: null,
      });
      expect(row.artists).toEqual([
        { artistId: trackId('b1'), artistName: 'B' },
        { artistId: trackId('a1'), artistName: 'A' },
      ]);
      expect(okAttributes(results.get(noPopularity)).attributes).toMatchObject({
        track_name: 'Song nopop',
        popularity: null,
        popularity_source: null,
        danceability: 0.22,
        missing_reason: 'not_found: no popularity: Spotify gave none and ReccoBeats is off',
      });
      expect(results.get(broken)).toEqual({
        status: 'quarantined',
        reason: expect.stringMatching(/^provider_error: invalid track: duration_ms: /),
        raw: trackAnswers[broken],
      });
      expect(okAttributes(results.get(noFeatures)).attributes).toMatchObject({
        track_name: 'Song nofeat',
        features_source: null,
        missing_reason:
          'not_found: no audio features: spotify has no audio features for this track, then ReccoBeats is off',
      });
      expect(okAttributes(results.get(badFeatures)).attributes).toMatchObject({
        track_name: 'Song badfeat',
        features_source: null,
        missing_reason: expect.stringMatching(
          /^provider_error: no audio features: invalid spotify audio features: danceability: /,
        ),
      });
      // Both invalid answers are kept for quarantine, with their provider and reason.
      expect(quarantine.map((q) => [q.trackId, q.provider])).toEqual([
        [broken, 'spotify'],
        [badFeatures, 'spotify'],
      ]);
      expect(results.get(unknown)).toMatchObject({ status: 'not_found' });
      // Features are asked for the four tracks that resolved, not the broken or the unknown one.
      const featureRequest = server.received.find((r) => pathOf(r) === '/v1/audio-features');
      expect(featureRequest && idsOf(featureRequest).sort()).toEqual(
        [good, noPopularity, noFeatures, badFeatures].sort(),
      );
    });
  });
});
