import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dateOfDay,
  dayNumber,
  reccobeatsId,
  reccobeatsKnowsTrack,
  reccobeatsMaxIds,
  startSandbox,
  type AudioFeatures,
  type Sandbox,
} from '../../../infra/sandbox/index.js';
import {
  reccobeatsGet,
  spotifyIdOfHref,
  type ReccobeatsFeatures,
  type ReccobeatsTrack,
} from './sandbox-client.js';

const today = '2026-11-22';
const unknownId = '0000000000000000000000';
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Content<T> = { content: T[] };

describe('Sandbox: ReccoBeats', () => {
  let sandbox: Sandbox;
  let chart: readonly string[];
  /** Charting tracks ReccoBeats knows and has features for, in chart order. */
  let known: string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    chart = sandbox.catalog.chartFor('global', today);
    known = chart.filter(
      (id) => reccobeatsKnowsTrack(sandbox.catalog, id) && sandbox.catalog.track(id)?.audioFeatures !== null,
    );
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const tracksOf = async (ids: readonly string[], asOf?: string) =>
    reccobeatsGet<Content<ReccobeatsTrack>>(sandbox, `/track?ids=${ids.join(',')}`, asOf);
  const featuresOf = async (ids: readonly string[], asOf?: string) =>
    reccobeatsGet<Content<ReccobeatsFeatures>>(sandbox, `/audio-features?ids=${ids.join(',')}`, asOf);

  it('lives under the sandbox at /reccobeats/v1 and needs no token', async () => {
    expect(sandbox.reccobeatsUrl).toBe(`${sandbox.url}/reccobeats/v1`);
    const answer = await tracksOf(known.slice(0, 1));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers tracks in ReccoBeats’s shape, mapped back to the catalog by href', async () => {
    const ids = known.slice(0, 20);
    const answer = await tracksOf(ids);
    expect(answer.body.content).toHaveLength(20);
    for (const track of answer.body.content) {
      expect(Object.keys(track)).toEqual([
        'id',
        'trackTitle',
        'artists',
        'durationMs',
        'isrc',
        'ean',
        'upc',
        'href',
        'availableCountries',
        'popularity',
      ]);
      const spotifyId = spotifyIdOfHref(track.href);
      const expected = sandbox.catalog.track(spotifyId);
      expect(expected, track.href).toBeDefined();
      expect(track.href).toBe(`https://open.spotify.com/track/${spotifyId}`);
      expect(track.id).toMatch(uuidV4);
      expect(track.id).toBe(reccobeatsId('track', spotifyId));
      expect(track).toMatchObject({
        trackTitle: expected?.name,
        durationMs: expected?.durationMs,
        isrc: expected?.isrc,
        ean: null,
        upc: null,
        popularity: sandbox.catalog.popularity(spotifyId, today),
      });
      expect(track.availableCountries).toMatch(/^[A-Z]{2}(,[A-Z]{2})*$/);
      expect(track.artists.map((a) => spotifyIdOfHref(a.href))).toEqual(expected?.artistIds);
      for (const artist of track.artists) {
        expect(artist.id).toMatch(uuidV4);
        expect(artist.href).toMatch(/^https:\/\/open\.spotify\.com\/artist\/[0-9A-Za-z]{22}$/);
        expect(artist.name).toBe(sandbox.catalog.artistName(spotifyIdOfHref(artist.href), today));
      }
    }
    expect(new Set(answer.body.content.map((t) => spotifyIdOfHref(t.href)))).toEqual(new Set(ids));
  });

  it('answers audio features without time_signature, equal to the catalog’s', async () => {
    const ids = known.slice(0, 30);
    const answer = await featuresOf(ids);
    expect(answer.status).toBe(200);
    expect(answer.body.content).toHaveLength(30);
    for (const f of answer.body.content) {
      expect(Object.keys(f)).toEqual([
        'id',
        'href',
        'acousticness',
        'danceability',
        'energy',
        'instrumentalness',
        'key',
        'liveness',
        'loudness',
        'mode',
        'speechiness',
        'tempo',
        'valence',
      ]);
      const spotifyId = spotifyIdOfHref(f.href);
      expect(f.id).toBe(reccobeatsId('track', spotifyId));
      const catalogFeatures = sandbox.catalog.track(spotifyId)?.audioFeatures as AudioFeatures;
      const { time_signature: _timeSignature, duration_ms: _durationMs, ...expected } = catalogFeatures;
      const { id: _id, href: _href, ...features } = f;
      expect(features).toEqual(expected);
    }
  });

  it('does not follow the order asked: a client mapping by position would be wrong', async () => {
    const ids = known.slice(0, reccobeatsMaxIds);
    for (const answer of [await tracksOf(ids), await featuresOf(ids)]) {
      const answered = answer.body.content.map((e) => spotifyIdOfHref(e.href));
      expect(new Set(answered)).toEqual(new Set(ids));
      expect(answered).not.toEqual(ids);
      expect(answered).not.toEqual([...ids].reverse());
    }
    // Its own order, the same however the ids are asked: deterministic.
    const forward = await tracksOf(ids);
    const backward = await tracksOf([...ids].reverse());
    expect(backward.body.content.map((t) => t.href)).toEqual(forward.body.content.map((t) => t.href));
  });

  it('honours at most 40 ids and drops the rest without a word', async () => {
    const ids = known.slice(0, 45);
    expect(ids).toHaveLength(45);
    for (const answer of [await tracksOf(ids), await featuresOf(ids)]) {
      expect(answer.status).toBe(200);
      const answered = new Set(answer.body.content.map((e) => spotifyIdOfHref(e.href)));
      expect(answered).toEqual(new Set(ids.slice(0, 40)));
    }
  });

  it('leaves unknown ids out, with no placeholder', async () => {
    const unknownToReccobeats = chart.find((id) => !reccobeatsKnowsTrack(sandbox.catalog, id));
    expect(unknownToReccobeats, 'a charting track ReccoBeats does not know').toBeDefined();
    const ids = [known[0], unknownId, 'garbage', unknownToReccobeats, known[1]] as string[];
    for (const answer of [await tracksOf(ids), await featuresOf(ids)]) {
      expect(answer.status).toBe(200);
      expect(new Set(answer.body.content.map((e) => spotifyIdOfHref(e.href)))).toEqual(
        new Set([known[0], known[1]]),
      );
      expect(answer.body.content).not.toContain(null);
    }
  });

  it('does not know about 3% of the catalog, the same tracks every time', () => {
    const tracks = sandbox.catalog.catalogTracks();
    const unknown = tracks.filter((t) => !reccobeatsKnowsTrack(sandbox.catalog, t.id)).length;
    expect(unknown / tracks.length).toBeGreaterThan(0.015);
    expect(unknown / tracks.length).toBeLessThan(0.045);
  });

  it('has no audio features for a track the catalog has none for, yet knows the track', async () => {
    const featureless = chart.find(
      (id) => reccobeatsKnowsTrack(sandbox.catalog, id) && sandbox.catalog.track(id)?.audioFeatures === null,
    ) as string;
    expect(featureless).toBeDefined();
    expect(
      (await featuresOf([featureless, known[0] as string])).body.content.map((f) => spotifyIdOfHref(f.href)),
    ).toEqual([known[0]]);
    expect((await tracksOf([featureless])).body.content).toHaveLength(1);
  });

  it('takes repeated ids= parameters as well as a comma-separated list, and its own UUIDs', async () => {
    const [a, b, c] = known as [string, string, string];
    const repeated = await reccobeatsGet<Content<ReccobeatsTrack>>(sandbox, `/track?ids=${a}&ids=${b},${c}`);
    expect(new Set(repeated.body.content.map((t) => spotifyIdOfHref(t.href)))).toEqual(new Set([a, b, c]));

    const byUuid = await reccobeatsGet<Content<ReccobeatsTrack>>(
      sandbox,
      `/audio-features?ids=${reccobeatsId('track', a)}`,
    );
    expect(byUuid.body.content.map((f) => spotifyIdOfHref(f.href))).toEqual([a]);
  });

  it('answers each track once, however often it is asked', async () => {
    const [a] = known as [string];
    const answer = await tracksOf([a, a, a]);
    expect(answer.body.content).toHaveLength(1);
  });

  it('refuses a request without ids with a 400', async () => {
    for (const path of ['/track', '/track?ids=', '/audio-features?ids=,']) {
      const answer = await reccobeatsGet<Record<string, unknown>>(sandbox, path);
      expect(answer.status, path).toBe(400);
      expect(answer.body).toMatchObject({
        status: 400,
        error: 'Bad Request',
        path: `/v1${path.split('?')[0]}`,
      });
    }
  });

  it('answers as of the x-chartflow-as-of day: popularity moves, unreleased tracks are unknown', async () => {
    // A recent hit ReccoBeats knows: popular then, much less so years later.
    const hit = sandbox.catalog
      .chartFor('global', '2024-03-01')
      .find(
        (id) =>
          reccobeatsKnowsTrack(sandbox.catalog, id) &&
          (sandbox.catalog.track(id)?.releasedOn ?? '') > '2023-06-01',
      ) as string;
    expect(hit).toBeDefined();
    const popularityOn = async (asOf: string) => (await tracksOf([hit], asOf)).body.content[0]?.popularity;
    expect(await popularityOn('2024-03-01')).toBe(sandbox.catalog.popularity(hit, '2024-03-01'));
    expect(await popularityOn('2029-03-01')).toBe(sandbox.catalog.popularity(hit, '2029-03-01'));
    expect(await popularityOn('2029-03-01')).toBeLessThan((await popularityOn('2024-03-01')) as number);

    const released = sandbox.catalog.track(hit)?.releasedOn as string;
    expect((await tracksOf([hit], dateOfDay(dayNumber(released) - 1))).body.content).toEqual([]);

    const bad = await reccobeatsGet<Record<string, unknown>>(sandbox, `/track?ids=${hit}`, 'yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 400, message: expect.stringContaining('x-chartflow-as-of') });
  });

  it('answers unknown paths with a 404 in its own shape', async () => {
    const answer = await reccobeatsGet<Record<string, unknown>>(sandbox, '/artist?ids=x');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ status: 404, error: 'Not Found', path: '/v1/artist' });
  });

  it('counts its requests apart from Spotify’s', async () => {
    sandbox.stats.reset();
    await tracksOf(known.slice(0, 2));
    await featuresOf(known.slice(0, 2));
    await featuresOf(known.slice(0, 2));
    const snapshot = sandbox.stats.snapshot();
    expect(snapshot.requests).toMatchObject({ reccobeatsTracks: 1, reccobeatsAudioFeatures: 2, tracks: 0 });
    expect(snapshot.byProvider.reccobeats.requests).toBe(3);
    expect(snapshot.byProvider.spotify.requests).toBe(0);
    expect(snapshot.total).toBe(3);
  });
});

describe('Sandbox: ReccoBeats rate limit', () => {
  let sandbox: Sandbox;
  let ids: string[];
  const windowMs = 1_000;

  beforeAll(async () => {
    sandbox = await startSandbox({
      reccobeatsRateLimit: { requests: 3, windowMs },
      rateLimit: { requests: 100, windowMs },
    });
    ids = sandbox.catalog.chartFor('global', '2026-01-15').slice(0, 5);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('answers 429 with Retry-After once its own window is full, then recovers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push((await reccobeatsGet(sandbox, `/audio-features?ids=${ids.join(',')}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);

    const refused = await reccobeatsGet<Record<string, unknown>>(sandbox, `/track?ids=${ids[0]}`);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, error: 'Too Many Requests', path: '/v1/track' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(windowMs / 1000));

    const { byProvider, rateLimited } = sandbox.stats.snapshot();
    expect(byProvider.reccobeats.rateLimited).toBe(3);
    expect(byProvider.spotify.rateLimited).toBe(0);
    expect(rateLimited).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await reccobeatsGet(sandbox, `/track?ids=${ids[0]}`)).status).toBe(200);
  });
});
