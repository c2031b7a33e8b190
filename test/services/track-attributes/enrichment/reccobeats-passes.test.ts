import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../../infra/sandbox/index.js';
import { spotifyClientFor } from '../../../shared/spotify/sandbox-spotify-client.js';
import type { TrackLookup } from '../../../../services/track-attributes/enrichment/attribute-provider.js';
import type { RetryPolicy } from '../../../../shared/http/json-client.js';
import { RequestCounter } from '../../../../shared/http/request-counter.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { ReccoBeatsClient } from '../../../../shared/reccobeats/reccobeats-client.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../../shared/http/local-http-server.js';
import { enricherWith, freshLake } from './enricher-fixtures.js';

const day = '2026-03-02';
const retry: RetryPolicy = { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 1_000 };

const [plain, noPopularity, failing, badFeatures, featuresDown, broken, popularityLeftOut] = [
  'Aa000000000000000000b1',
  'Aa000000000000000000b2',
  'Aa000000000000000000b3',
  'Aa000000000000000000b4',
  'Aa000000000000000000b5',
  'Aa000000000000000000b6',
  'Aa000000000000000000b7',
] as const;

/** What ReccoBeats calls the lead artists today. */
let leadName = (n: number) => `Lead ${n}`;

/** ReccoBeats' track item for a Spotify id. */
const trackItem = (id: string, n: number, overrides: Record<string, unknown> = {}) => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  trackTitle: `Track ${n}`,
  artists: [
    {
      id: `10000000-0000-4000-8000-00000000000${n}`,
      name: leadName(n),
      href: `https://open.spotify.com/artist/Ld${n}`,
    },
    {
      id: `20000000-0000-4000-8000-00000000000${n}`,
      name: `Guest ${n}`,
      href: `https://open.spotify.com/artist/Gs${n}`,
    },
  ],
  durationMs: 200_000 + n,
  isrc: `QZBBB260000${n}`,
  ean: null,
  upc: null,
  href: `https://open.spotify.com/track/${id}`,
  availableCountries: 'US',
  popularity: 50 + n,
  ...overrides,
});

/** ReccoBeats' audio-features item for a Spotify id. */
const featuresItem = (id: string, overrides: Record<string, unknown> = {}) => ({
  id: `30000000-0000-4000-8000-000000000000`,
  href: `https://open.spotify.com/track/${id}`,
  acousticness: 0.1,
  danceability: 0.2,
  energy: 0.3,
  instrumentalness: 0.4,
  liveness: 0.5,
  speechiness: 0.6,
  valence: 0.7,
  loudness: -5,
  tempo: 120,
  key: 4,
  mode: 1,
  ...overrides,
});

const okRow = (lookup: TrackLookup | undefined) => {
  if (lookup?.status !== 'ok') throw new Error(`expected an ok lookup, got ${JSON.stringify(lookup)}`);
  return lookup;
};

describe('ReccoBeats passes of the AttributeEnricher, with ReccoBeats alone, against answers that lack or break things', () => {
  let server: LocalHttpServer;

  beforeAll(async () => {
    server = await startLocalHttpServer((request) => {
      const url = new URL(request.url, 'http://localhost');
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      // Any call that includes `failing` fails: bisecting isolates it.
      if (ids.includes(failing)) return { status: 500, body: { error: 'boom' } };
      // Any audio-features call that includes `featuresDown` fails.
      if (url.pathname === '/v1/audio-features' && ids.includes(featuresDown))
        return { status: 503, body: { error: 'down' } };
      if (url.pathname === '/v1/track') {
        return {
          body: {
            content: [
              trackItem(plain, 1),
              trackItem(noPopularity, 2, { popularity: null }),
              trackItem(badFeatures, 4),
              trackItem(featuresDown, 5),
              trackItem(broken, 6, { popularity: 150 }),
              // No `popularity` key at all.
              Object.fromEntries(
                Object.entries(trackItem(popularityLeftOut, 7)).filter(([key]) => key !== 'popularity'),
              ),
            ].filter((item) => ids.some((id) => String(item.href).endsWith(id))),
          },
        };
      }
      return {
        body: {
          content: [featuresItem(plain), featuresItem(badFeatures, { danceability: 2 })].filter((item) =>
            ids.some((id) => item.href.endsWith(id)),
          ),
        },
      };
    });
  });
  afterAll(() => server?.close());

  const ids = [plain, noPopularity, failing, badFeatures, featuresDown, broken, popularityLeftOut];
  const lookup = (store = freshLake(), on = day) =>
    enricherWith({
      store,
      reccobeats: new ReccoBeatsClient({
        apiUrl: `${server.url}/v1`,
        counter: new RequestCounter(),
        clock: systemClock,
        retry,
        sendAsOf: true,
      }),
    }).lookup(ids, on);

  it('takes a track’s metadata, its artists by their Spotify ids, and its audio features from ReccoBeats', async () => {
    const { results } = await lookup();

    const row = okRow(results.get(plain));
    expect(row.artists).toEqual([
      { artistId: 'Ld1', artistName: 'Lead 1' },
      { artistId: 'Gs1', artistName: 'Guest 1' },
    ]);
    expect(row.attributes).toMatchObject({
      track_name: 'Track 1',
      duration_ms: 200_001,
      isrc: 'QZBBB2600001',
      popularity: 51,
      danceability: 0.2,
      loudness: -5,
      tempo: 120,
      musical_key: 4,
      mode: 1,
      time_signature: null,
      metadata_source: 'reccobeats',
      popularity_source: 'reccobeats',
      features_source: 'reccobeats',
      missing_reason: null,
    });
  });

  it('says a track ReccoBeats gave no popularity for has none, from ReccoBeats', async () => {
    const { results } = await lookup();

    expect(okRow(results.get(noPopularity)).attributes).toMatchObject({
      popularity: null,
      popularity_source: null,
      metadata_source: 'reccobeats',
    });
    expect(okRow(results.get(noPopularity)).attributes.missing_reason).toContain(
      'not_found: no popularity: reccobeats gave none',
    );
  });

  it('says the same of a track whose answer has no popularity at all', async () => {
    const { results } = await lookup();

    expect(okRow(results.get(popularityLeftOut)).attributes).toMatchObject({
      popularity: null,
      popularity_source: null,
      missing_reason: expect.stringContaining('not_found: no popularity: reccobeats gave none'),
    });
  });

  it('names the artists as ReccoBeats does today, not as the cached metadata did', async () => {
    const store = freshLake();
    await lookup(store);
    leadName = (n) => `Lead ${n}, renamed`;
    try {
      const { results } = await lookup(store, '2026-03-03');

      expect(okRow(results.get(plain)).artists).toEqual([
        { artistId: 'Ld1', artistName: 'Lead 1, renamed' },
        { artistId: 'Gs1', artistName: 'Guest 1' },
      ]);
    } finally {
      leadName = (n) => `Lead ${n}`;
    }
  });

  it('quarantines an invalid track, and records its metadata and popularity as worth asking again', async () => {
    const { results, gaps, quarantine } = await lookup();
    const reason = 'invalid reccobeats track: popularity: Too big: expected number to be <=100';

    expect(results.get(broken)).toMatchObject({ status: 'quarantined', reason: `provider_error: ${reason}` });
    expect(quarantine).toContainEqual({
      trackId: broken,
      provider: 'reccobeats',
      reason,
      raw: trackItem(broken, 6, { popularity: 150 }),
    });
    expect(gaps?.get(broken)).toEqual([
      { group: 'metadata', kind: 'provider_error', reason: `provider_error: ${reason}` },
      { group: 'popularity', kind: 'provider_error', reason: `provider_error: no popularity: ${reason}` },
    ]);
  });

  it('says a track whose every lookup failed is missing, and why, naming ReccoBeats', async () => {
    const { results, gaps } = await lookup();

    expect(results.get(failing)).toEqual({
      status: 'missing',
      reason:
        'provider_error: reccobeats tracks: reccobeats GET /v1/track: HTTP 500; ' +
        'provider_error: no popularity: reccobeats failed: reccobeats GET /v1/track: HTTP 500',
    });
    // Both worth asking again: the backlog records each, with its kind.
    expect(gaps?.get(failing)).toEqual([
      {
        group: 'metadata',
        kind: 'provider_error',
        reason: 'provider_error: reccobeats tracks: reccobeats GET /v1/track: HTTP 500',
      },
      {
        group: 'popularity',
        kind: 'provider_error',
        reason: 'provider_error: no popularity: reccobeats failed: reccobeats GET /v1/track: HTTP 500',
      },
    ]);
  });

  it('quarantines invalid audio features and says why the track has none', async () => {
    const { results, quarantine } = await lookup();

    expect(quarantine.filter((q) => q.trackId === badFeatures)).toEqual([
      {
        trackId: badFeatures,
        provider: 'reccobeats',
        reason: 'invalid reccobeats audio features: danceability: Too big: expected number to be <=1',
        raw: featuresItem(badFeatures, { danceability: 2 }),
      },
    ]);
    expect(okRow(results.get(badFeatures)).attributes).toMatchObject({
      features_source: null,
      danceability: undefined,
      missing_reason:
        'provider_error: no audio features: invalid reccobeats audio features: danceability: Too big: expected number to be <=1',
    });
  });

  it('says a track whose audio-features call failed has none, because ReccoBeats failed', async () => {
    const { results, gaps } = await lookup();

    expect(okRow(results.get(featuresDown)).attributes).toMatchObject({
      popularity: 55,
      features_source: null,
      missing_reason:
        'provider_error: no audio features: reccobeats failed: reccobeats GET /v1/audio-features: HTTP 503',
    });
    expect(gaps?.get(featuresDown)).toEqual([
      expect.objectContaining({ group: 'features', kind: 'provider_error' }),
    ]);
  });
});

describe('ReccoBeats passes of the AttributeEnricher, after Spotify’s metadata (a Development Mode app)', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => day, accessMode: 'development' });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('says a failed popularity lookup fails the popularity only: the metadata Spotify gave stands', async () => {
    sandbox.faults.serverErrors({ provider: 'reccobeats' });
    const id = sandbox.catalog.chartFor('global', day)[0] as string;
    const reccobeats = new ReccoBeatsClient({
      apiUrl: sandbox.reccobeatsUrl,
      counter: new RequestCounter(),
      clock: systemClock,
      retry,
      sendAsOf: true,
    });

    const { results, gaps } = await enricherWith({
      spotify: spotifyClientFor(sandbox).client,
      reccobeats,
    }).lookup([id], day);

    const row = okRow(results.get(id));
    expect(row.attributes).toMatchObject({ metadata_source: 'spotify', popularity: null });
    expect(row.attributes.missing_reason).toMatch(/^provider_error: no popularity: reccobeats failed: /);
    expect(row.attributes.missing_reason).not.toMatch(/reccobeats tracks:/);
    expect(gaps?.get(id)?.map((g) => g.group)).not.toContain('metadata');
  });
});
