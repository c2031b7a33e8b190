import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../../infra/sandbox/index.js';
import type { TrackLookup } from '../../../../services/track-attributes/enrichment/attribute-provider.js';
import { CircuitBreakers } from '../../../../shared/http/circuit-breaker.js';
import { RequestCounter } from '../../../../shared/http/request-counter.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { SpotifyAccess } from '../../../../shared/spotify/access.js';
import { SpotifyClient } from '../../../../shared/spotify/spotify-client.js';
import {
  fastRetry,
  sandboxSecrets,
  spotifyClientFor,
} from '../../../shared/spotify/sandbox-spotify-client.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../../shared/http/local-http-server.js';
import {
  audioFeaturesFactory,
  idsOf,
  pathOf,
  spotifyTrackFactory,
  tokenAnswer,
  trackId,
} from '../../../shared/spotify/spotify-answers.js';
import { LookupSession } from '../../../../services/track-attributes/enrichment/lookup-session.js';
import {
  closeFeaturesWithMultiTracks,
  singleLookupsAtOnce,
  spotifyAudioFeatures,
  spotifySingleTracks,
  spotifyTracks,
} from '../../../../services/track-attributes/enrichment/spotify-passes.js';
import { enricherWith, freshLake } from './enricher-fixtures.js';

const day = '2026-03-02';
/** A well-formed base62 id no catalog holds. */
const unknownId = 'Zz00000000000000000000';

const okRow = (lookup: TrackLookup | undefined) => {
  if (lookup?.status !== 'ok') throw new Error(`expected an ok lookup, got ${JSON.stringify(lookup)}`);
  return lookup;
};

/** A chart day before the sandbox's today, and a catalog track released between the two. */
const releasedSince = (sandbox: Sandbox) => {
  const chartDay = '2025-12-01';
  const track = sandbox.catalog.catalogTracks().find((t) => t.releasedOn > chartDay && t.releasedOn <= day);
  if (!track) throw new Error('no catalog track released between the days');
  return { chartDay, id: track.id };
};

describe('Spotify passes of the AttributeEnricher, for a Development Mode app (no multi-id lookups)', () => {
  let sandbox: Sandbox;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => day, accessMode: 'development' });
    chart = sandbox.catalog.chartFor('global', day);
    expect(sandbox.catalog.track(unknownId)).toBeUndefined();
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  afterEach(() => {
    sandbox.faults.clear();
    sandbox.stats.reset();
  });

  it('learns /tracks?ids= is closed from its 403, looks each track up alone, and never asks for audio features', async () => {
    const access = new SpotifyAccess();
    const { client } = spotifyClientFor(sandbox);
    const ids = [chart[0], chart[1], chart[2]] as string[];

    const { results } = await enricherWith({ spotify: client, access }).lookup(ids, day);

    expect(access.state('multiTracks')).toBe('closed');
    expect(access.reason('multiTracks')).toBe('HTTP 403 on GET /v1/tracks?ids=');
    expect(access.state('audioFeatures')).toBe('closed');
    expect(access.reason('audioFeatures')).toBe(
      'closed with multi-id lookups: Development Mode apps have no audio features',
    );
    expect(sandbox.stats.requests.tracks).toBe(1);
    expect(sandbox.stats.requests.track).toBe(3);
    expect(sandbox.stats.requests.audioFeatures).toBe(0);
    for (const id of ids) {
      const track = sandbox.catalog.track(id);
      const row = okRow(results.get(id));
      expect(row.attributes).toMatchObject({
        track_name: track?.name,
        album_id: track?.albumId,
        duration_ms: track?.durationMs,
        is_explicit: track?.explicit,
        isrc: track?.isrc,
        metadata_source: 'spotify',
        features_source: null,
      });
      expect(row.attributes.missing_reason).toContain(
        'spotify audio features closed to this app (closed with multi-id lookups: Development Mode apps have no audio features)',
      );
    }
  });

  it('asks a closed /tracks?ids= no more once it is known closed, and goes straight to /tracks/{id}', async () => {
    const access = new SpotifyAccess();
    const { client } = spotifyClientFor(sandbox);
    const enricher = enricherWith({ spotify: client, access });
    await enricher.lookup([chart[0] as string], day);
    sandbox.stats.reset();

    const { results } = await enricher.lookup([chart[3] as string], day);

    expect(sandbox.stats.requests.tracks).toBe(0);
    expect(sandbox.stats.requests.track).toBe(1);
    // Nor audio features, known closed too: the track still needs them, and goes without.
    expect(sandbox.stats.requests.audioFeatures).toBe(0);
    expect(results.get(chart[3] as string)?.status).toBe('ok');
  });

  it('answers not_found, with the status, for an id /tracks/{id} answers 404 or 400 for', async () => {
    const { client } = spotifyClientFor(sandbox);
    const malformed = 'not-a-base62-id!';

    const { results } = await enricherWith({ spotify: client }).lookup(
      [chart[0] as string, unknownId, malformed],
      day,
    );

    expect(results.get(unknownId)).toEqual({
      status: 'not_found',
      reason: expect.stringMatching(/^not_found: spotify does not know this track id \(HTTP 404\)/),
    });
    expect(results.get(malformed)).toEqual({
      status: 'not_found',
      reason: 'not_found: spotify does not know this track id (HTTP 400)',
    });
    expect(results.get(chart[0] as string)?.status).toBe('ok');
  });

  it('asks /tracks/{id} as of the chart day: a track released since was not known then', async () => {
    const { chartDay, id } = releasedSince(sandbox);
    const { client } = spotifyClientFor(sandbox);

    const { results } = await enricherWith({ spotify: client }).lookup([id], chartDay);

    expect(results.get(id)).toMatchObject({ status: 'not_found' });
  });

  it('after a quota 429 on /tracks/{id}, sends none of the lookups not yet in flight: they fail with its reason', async () => {
    const ids = chart.slice(10, 40);
    sandbox.faults.quotaExceeded({ provider: 'spotify', endpoint: 'track', retryAfterSeconds: 3600 });
    const access = new SpotifyAccess();
    access.close('multiTracks', 'HTTP 403 on GET /v1/tracks?ids=');
    const { client } = spotifyClientFor(sandbox);

    const { results } = await enricherWith({ spotify: client, access }).lookup(ids, day);

    // Only the first lookups, sent side by side before the first 429 came back, asked.
    expect(sandbox.stats.requests.track).toBeGreaterThanOrEqual(1);
    expect(sandbox.stats.requests.track).toBeLessThanOrEqual(singleLookupsAtOnce);
    const lookups = ids.map((id) => results.get(id));
    expect(lookups.every((r) => r?.status === 'missing')).toBe(true);
    const reasons = new Set(lookups.map((r) => (r?.status === 'missing' ? r.reason : undefined)));
    expect(reasons.size).toBe(1);
    expect([...reasons][0]).toMatch(/spotify track: .*(429|quota|rate)/i);
  });

  it('asks every other track after a lookup fails for one id alone (a 500 is the track’s, not the endpoint’s)', async () => {
    const [failing, ...others] = chart.slice(40, 60) as [string, ...string[]];
    sandbox.faults.failTrackLookups([failing]);
    const access = new SpotifyAccess();
    access.close('multiTracks', 'HTTP 403 on GET /v1/tracks?ids=');
    // Not asked again: its failure comes back while most lookups are still to be sent.
    const { client } = spotifyClientFor(sandbox, { retry: { ...fastRetry, retries: 0 } });

    const { results } = await enricherWith({ spotify: client, access }).lookup([failing, ...others], day);

    expect(results.get(failing)?.status).toBe('missing');
    expect(others.filter((id) => results.get(id)?.status !== 'ok')).toEqual([]);
  });

  it('says which single lookup failed and why, and keeps the tracks whose lookup answered', async () => {
    const [failing, fine] = [chart[4], chart[5]] as [string, string];
    sandbox.faults.failTrackLookups([failing]);
    const { client } = spotifyClientFor(sandbox);

    const { results, gaps } = await enricherWith({ spotify: client }).lookup([failing, fine], day);

    expect(results.get(failing)).toEqual({
      status: 'missing',
      reason: expect.stringMatching(/^provider_error: spotify track: .*500/),
    });
    expect(gaps?.get(failing)).toEqual([
      expect.objectContaining({ group: 'metadata', kind: 'provider_error' }),
    ]);
    expect(results.get(fine)?.status).toBe('ok');
  });
});

describe('Spotify passes of the AttributeEnricher, when the breaker switches /tracks?ids= off', () => {
  let sandbox: Sandbox;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => day });
    chart = sandbox.catalog.chartFor('global', day);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('asks /tracks?ids= as of the chart day, and learns the endpoint is open', async () => {
    const { chartDay, id } = releasedSince(sandbox);
    const access = new SpotifyAccess();
    const { client } = spotifyClientFor(sandbox);

    const { results } = await enricherWith({ spotify: client, access }).lookup(
      [id, chart[0] as string],
      chartDay,
    );

    expect(results.get(id)).toMatchObject({ status: 'not_found' });
    expect(access.state('multiTracks')).toBe('open');
    expect(access.state('audioFeatures')).toBe('open');
  });

  it('hands the tracks over to /tracks/{id}, and fails only those no lookup answered, with the breaker’s reason', async () => {
    // A track seen before: its metadata is cached, and it needs no lookup but its popularity.
    const cached = chart[2] as string;
    const store = freshLake();
    await enricherWith({ spotify: spotifyClientFor(sandbox).client, store }).lookup([cached], day);
    sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'tracks' });
    const breakers = new CircuitBreakers(systemClock);
    const client = new SpotifyClient({
      apiUrl: sandbox.apiUrl,
      accountsUrl: sandbox.accountsUrl,
      secrets: sandboxSecrets(sandbox),
      counter: new RequestCounter(),
      clock: systemClock,
      retry: { ...fastRetry, retries: 5 },
      sendAsOf: true,
      breakers,
    });
    const access = new SpotifyAccess();
    const [fine, failing] = [chart[0], chart[1]] as [string, string];
    // The breaker's last attempts: the multi-id call fails, then the single lookup of `failing` too.
    sandbox.faults.failTrackLookups([failing]);

    const { results, gaps } = await enricherWith({ spotify: client, access, store }).lookup(
      [fine, failing, cached, unknownId],
      day,
    );

    expect(breakers.opened()).toMatchObject([{ endpoint: 'spotify GET /v1/tracks' }]);
    // Switched off by its breaker is not closed to the app: tomorrow's run asks it again.
    expect(access.state('multiTracks')).toBe('unknown');
    expect(results.get(fine)?.status).toBe('ok');
    // Its metadata came from /tracks/{id}; why the preferred call did not answer is on its row.
    expect(okRow(results.get(fine)).attributes).toMatchObject({
      metadata_source: 'spotify',
      missing_reason: expect.stringMatching(
        /^provider_error: metadata from spotify: spotify tracks: spotify GET \/v1\/tracks is switched off for this run/,
      ),
    });
    expect(results.get(failing)).toEqual({
      status: 'missing',
      reason: expect.stringMatching(/^provider_error: spotify track: /),
    });
    // /tracks/{id} answered 404: not found, whatever the breaker did to the multi-id call before.
    expect(results.get(unknownId)).toEqual({
      status: 'not_found',
      reason: expect.stringMatching(/^not_found: spotify does not know this track id \(HTTP 404\)/),
    });
    expect(gaps?.get(unknownId) ?? []).toEqual([]);
    // The cached track lacks only today's popularity: its metadata did not fail.
    expect(okRow(results.get(cached)).attributes.missing_reason).not.toMatch(/switched off/);
    expect(gaps?.get(cached)?.map((g) => g.group) ?? []).not.toContain('metadata');
  });
});

describe('Spotify passes of the AttributeEnricher, against answers with gaps, a relinked track and a bad id', () => {
  let server: LocalHttpServer;
  /** Whether `/tracks?ids=` answers 403, as for a Development Mode app. */
  let multiClosed = false;
  /** Whether `/tracks?ids=` answers 401 even to a renewed token. */
  let unauthorized = false;
  /** What Spotify calls the artist of `renamed` today. */
  let artistName = 'Before';
  const [plain, relinked, noPopularity, noExternalIds, renamed, badId, forbidden] = [
    'plain',
    'relinked',
    'nopop',
    'noext',
    'renamed',
    'bad',
    'forbidden',
  ].map(trackId) as [string, string, string, string, string, string, string];
  const answers = (): Record<string, unknown> => ({
    [plain]: spotifyTrackFactory('plain'),
    // Spotify answers a relinked track under the id it plays instead.
    [relinked]: spotifyTrackFactory('other'),
    [noPopularity]: spotifyTrackFactory('nopop', { popularity: null }),
    [noExternalIds]: spotifyTrackFactory('noext', { external_ids: undefined }),
    [renamed]: spotifyTrackFactory('renamed', { artists: [{ id: trackId('artistR'), name: artistName }] }),
  });

  beforeAll(async () => {
    server = await startLocalHttpServer((request) => {
      const path = pathOf(request);
      if (path === '/api/token') return tokenAnswer;
      if (path === '/v1/tracks') {
        if (multiClosed) return { status: 403, body: { error: { status: 403, message: 'Forbidden' } } };
        if (unauthorized)
          return { status: 401, body: { error: { status: 401, message: 'Invalid access token' } } };
        const asked = idsOf(request);
        // An id Spotify refuses fails every batch it is part of, as an invalid id does.
        if (asked.includes(badId))
          return { status: 400, body: { error: { status: 400, message: 'invalid id' } } };
        return { body: { tracks: asked.map((id) => answers()[id] ?? null) } };
      }
      if (path === `/v1/tracks/${forbidden}`)
        return { status: 403, body: { error: { status: 403, message: 'Forbidden' } } };
      if (path.startsWith('/v1/tracks/')) {
        const answer = answers()[path.slice('/v1/tracks/'.length)];
        return answer ? { body: answer } : { status: 404, body: { error: { status: 404, message: 'no' } } };
      }
      if (path === '/v1/audio-features')
        return { body: { audio_features: idsOf(request).map((id) => audioFeaturesFactory(id)) } };
      return { status: 404, body: { error: { status: 404, message: 'Service not found' } } };
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const client = () =>
    spotifyClientFor({
      apiUrl: `${server.url}/v1`,
      accountsUrl: server.url,
      credentials: { clientId: 'id', clientSecret: 'secret' },
    }).client;

  it('takes a 401 that outlives a renewed token for a failure of the lookup, not an endpoint closed to the app', async () => {
    multiClosed = false;
    unauthorized = true;
    const access = new SpotifyAccess();
    try {
      const { results } = await enricherWith({ spotify: client(), access }).lookup([plain], day);

      expect(access.state('multiTracks')).toBe('unknown');
      expect(results.get(plain)).toEqual({
        status: 'missing',
        reason: expect.stringMatching(/^provider_error: spotify tracks: .*401/),
      });
    } finally {
      unauthorized = false;
    }
  });

  it('isolates an id /tracks?ids= refuses with a 400: a bad id, not a closed endpoint', async () => {
    multiClosed = false;
    const access = new SpotifyAccess();

    const { results } = await enricherWith({ spotify: client(), access }).lookup([plain, badId], day);

    expect(access.state('multiTracks')).toBe('open');
    expect(access.level).toBe('extended');
    expect(access.state('audioFeatures')).toBe('open');
    expect(results.get(plain)?.status).toBe('ok');
    expect(results.get(badId)).toEqual({
      status: 'missing',
      reason: expect.stringMatching(/^provider_error: spotify tracks: .*400/),
    });
  });

  for (const closed of [false, true]) {
    const pass = closed ? '/tracks/{id}' : '/tracks?ids=';

    it(`says a track ${pass} gave a null popularity and no external ids for has neither`, async () => {
      multiClosed = closed;

      const { results } = await enricherWith({ spotify: client() }).lookup(
        [noPopularity, noExternalIds],
        day,
      );

      expect(okRow(results.get(noPopularity)).attributes).toMatchObject({
        popularity: null,
        popularity_source: null,
        missing_reason: expect.stringContaining(
          'not_found: no popularity: Spotify gave none and ReccoBeats is off',
        ),
      });
      expect(okRow(results.get(noExternalIds)).attributes).toMatchObject({
        isrc: null,
        track_name: 'Song noext',
      });
    });
  }

  for (const closed of [false, true]) {
    it(`asks every endpoint as of the chart day (${closed ? 'Development Mode' : 'extended access'})`, async () => {
      multiClosed = closed;
      const from = server.received.length;

      await enricherWith({ spotify: client() }).lookup([plain], day);

      const calls = server.received.slice(from).filter((r) => r.url.startsWith('/v1/'));
      expect(calls.map((r) => r.url.split('?')[0])).toEqual(
        closed ? ['/v1/tracks', `/v1/tracks/${plain}`] : ['/v1/tracks', '/v1/audio-features'],
      );
      for (const call of calls) expect(call.headers['x-chartflow-as-of']).toBe(day);
    });
  }

  it('keeps the answers of /tracks/{id} as received, under spotify_track', async () => {
    multiClosed = true;

    const { raw } = await enricherWith({ spotify: client() }).lookup([plain, noPopularity], day);

    expect(raw).toMatchObject({
      spotify_track: expect.arrayContaining([
        spotifyTrackFactory('plain'),
        spotifyTrackFactory('nopop', { popularity: null }),
      ]),
    });
    expect((raw as { spotify_track: unknown[] }).spotify_track).toHaveLength(2);
  });

  it('says a track /tracks/{id} refuses with a 403 is missing, not unknown', async () => {
    multiClosed = true;

    const { results } = await enricherWith({ spotify: client() }).lookup([forbidden], day);

    expect(results.get(forbidden)).toEqual({
      status: 'missing',
      reason: expect.stringMatching(/^provider_error: spotify track: .*403/),
    });
  });

  it('quarantines what /tracks/{id} answered under another id, saying for which', async () => {
    multiClosed = true;

    const { results, quarantine } = await enricherWith({ spotify: client() }).lookup([relinked], day);

    expect(results.get(relinked)).toEqual({
      status: 'quarantined',
      reason: `provider_error: answered for ${trackId('other')}`,
      raw: spotifyTrackFactory('other'),
    });
    expect(quarantine).toEqual([
      {
        trackId: relinked,
        provider: 'spotify',
        reason: `answered for ${trackId('other')}`,
        raw: spotifyTrackFactory('other'),
      },
    ]);
  });

  it('names the artists as /tracks?ids= does today, not as the cached metadata did', async () => {
    multiClosed = false;
    const store = freshLake();
    artistName = 'Before';
    await enricherWith({ spotify: client(), store }).lookup([renamed], day);
    artistName = 'After';

    const { results } = await enricherWith({ spotify: client(), store }).lookup([renamed], '2026-03-03');

    expect(okRow(results.get(renamed)).artists).toEqual([
      { artistId: trackId('artistR'), artistName: 'After' },
    ]);
  });
});

describe('Spotify passes, when a call fails with an error of our own (a bug, not the provider)', () => {
  const bug = new TypeError('a bug in the client');
  /** A client whose every call fails with an error no provider sends. */
  const broken = {
    tracks: async () => Promise.reject(bug),
    track: async () => Promise.reject(bug),
    audioFeatures: async () => Promise.reject(bug),
  } as unknown as SpotifyClient;
  const session = () => new LookupSession([trackId('a')], day, new Map());

  it('lets it go up from /tracks/{id}: the invocation fails, and SQS delivers the batch again', async () => {
    await expect(spotifySingleTracks(session(), broken)).rejects.toBe(bug);
  });

  /** A client whose batch answers break our own code as it reads them (the item's id cannot be read). */
  const unreadable = {
    tracks: async () => [
      {
        get id(): string {
          throw bug;
        },
      },
    ],
    audioFeatures: async () => [
      {
        get id(): string {
          throw bug;
        },
      },
    ],
  } as unknown as SpotifyClient;

  it('lets it go up from /tracks?ids=, and does not take the endpoint for closed', async () => {
    const access = new SpotifyAccess();

    await expect(spotifyTracks(session(), unreadable, access)).rejects.toBe(bug);
    expect(access.state('multiTracks')).not.toBe('closed');
  });

  it('lets it go up from /audio-features, and does not take the endpoint for closed', async () => {
    const access = new SpotifyAccess();
    const known = session();
    known.of(trackId('a')).metadata = { columns: {}, source: 'spotify', artists: [], fetchedOn: day };

    await expect(spotifyAudioFeatures(known, unreadable, access)).rejects.toBe(bug);
    expect(access.state('audioFeatures')).not.toBe('closed');
  });
});

describe('Function: closeFeaturesWithMultiTracks', () => {
  it('closes audio features not asked yet once multi-id lookups are closed', () => {
    const access = new SpotifyAccess();
    access.close('multiTracks', 'HTTP 403');

    closeFeaturesWithMultiTracks(access);

    expect(access.state('audioFeatures')).toBe('closed');
  });

  it('leaves audio features that answered open: the app has them, whatever multi-id lookups do', () => {
    const access = new SpotifyAccess();
    access.open('audioFeatures');
    access.close('multiTracks', 'HTTP 403');

    closeFeaturesWithMultiTracks(access);

    expect(access.state('audioFeatures')).toBe('open');
  });

  it('leaves audio features unknown while multi-id lookups are not known closed', () => {
    const access = new SpotifyAccess();
    access.open('multiTracks');

    closeFeaturesWithMultiTracks(access);

    expect(access.state('audioFeatures')).toBe('unknown');
  });
});
