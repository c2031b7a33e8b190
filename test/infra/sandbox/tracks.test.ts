import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateOfDay, dayNumber, startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import { apiGet, chartOverHttp, tokenFor, type SpotifyTrack } from './sandbox-client.js';

const today = '2026-11-22';
// A well-formed id that no catalog holds.
const unknownId = '0000000000000000000000';

type TracksAnswer = { tracks: (SpotifyTrack | null)[] };
type FeaturesAnswer = { audio_features: (Record<string, number | string> | null)[] };

describe('Sandbox: tracks', () => {
  let sandbox: Sandbox;
  let token: string;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    token = await tokenFor(sandbox);
    chart = sandbox.catalog.chartFor('global', today);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('answers up to 50 tracks in the order asked, as Spotify’s full track objects', async () => {
    const ids = chart.slice(0, 50);
    const answer = await apiGet<TracksAnswer>(sandbox, token, `/tracks?ids=${ids.join(',')}`);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body.tracks.map((t) => t?.id)).toEqual(ids);
    for (const track of answer.body.tracks) {
      expect(track).toMatchObject({ type: 'track', uri: `spotify:track:${track?.id}`, is_local: false });
      const t = track as SpotifyTrack;
      expect(t.id).toMatch(/^[0-9A-Za-z]{22}$/);
      expect(t.external_ids.isrc).toMatch(/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/);
      expect(Number.isInteger(t.popularity) && t.popularity >= 0 && t.popularity <= 100).toBe(true);
      expect(t.duration_ms).toBeGreaterThan(60_000);
      expect(typeof t.explicit).toBe('boolean');
      expect(t.artists.length).toBeGreaterThanOrEqual(1);
      expect(t.artists.length).toBeLessThanOrEqual(3);
      for (const artist of [...t.artists, ...t.album.artists]) {
        expect(artist).toMatchObject({ type: 'artist', uri: `spotify:artist:${artist.id}` });
      }
      expect(['album', 'single', 'compilation']).toContain(t.album.album_type);
      const formats = { day: /^\d{4}-\d{2}-\d{2}$/, month: /^\d{4}-\d{2}$/, year: /^\d{4}$/ };
      expect(t.album.release_date).toMatch(formats[t.album.release_date_precision as keyof typeof formats]);
      expect(t.album.total_tracks).toBeGreaterThanOrEqual(1);
    }
  });

  it('refuses more than 50 ids', async () => {
    const ids = sandbox.catalog
      .catalogTracks()
      .slice(0, 51)
      .map((t) => t.id);
    const answer = await apiGet(sandbox, token, `/tracks?ids=${ids.join(',')}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { status: 400, message: 'Too many ids requested' } });
  });

  it('answers null, in place, for ids it does not know', async () => {
    const [first, second] = chart;
    const answer = await apiGet<TracksAnswer>(
      sandbox,
      token,
      `/tracks?ids=${first},${unknownId},garbage,${second}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.tracks.map((t) => t?.id ?? null)).toEqual([first, null, null, second]);
  });

  it('answers one track by id; 404 for an unknown id, 400 for a malformed one', async () => {
    const one = await apiGet<SpotifyTrack>(sandbox, token, `/tracks/${chart[0]}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(chart[0]);

    const unknown = await apiGet(sandbox, token, `/tracks/${unknownId}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: { status: 404, message: 'non existing id' } });

    const malformed = await apiGet(sandbox, token, '/tracks/abc');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: { status: 400, message: 'invalid id' } });
  });

  it('does not know a track before its release day', async () => {
    const track = sandbox.catalog
      .catalogTracks()
      .find((t) => t.releasedOn > '2025-06-01' && t.releasedOn < '2025-12-01');
    expect(track).toBeDefined();
    const id = track?.id as string;
    const dayBefore = dateOfDay(dayNumber(track?.releasedOn as string) - 1);

    const before = await apiGet<TracksAnswer>(sandbox, token, `/tracks?ids=${id}`, dayBefore);
    expect(before.body.tracks).toEqual([null]);
    expect((await apiGet(sandbox, token, `/tracks/${id}`, dayBefore)).status).toBe(404);

    const on = await apiGet<TracksAnswer>(sandbox, token, `/tracks?ids=${id}`, track?.releasedOn);
    expect(on.body.tracks[0]?.id).toBe(id);
  });

  it('shows an artist’s rename: the old name the day before, the new one from its day', async () => {
    const rename = sandbox.catalog.artistRenames().find((r) => r.on >= '2025-01-01');
    expect(rename).toBeDefined();
    const { artistId, on, before, after } = rename as NonNullable<typeof rename>;
    expect(after).not.toBe(before);
    const track = sandbox.catalog
      .catalogTracks()
      .find((t) => t.artistIds.includes(artistId) && t.releasedOn < dateOfDay(dayNumber(on) - 1));
    expect(track).toBeDefined();
    const dayBefore = dateOfDay(dayNumber(on) - 1);

    const nameOn = async (asOf: string) => {
      const answer = await apiGet<TracksAnswer>(sandbox, token, `/tracks?ids=${track?.id}`, asOf);
      return answer.body.tracks[0]?.artists.find((a) => a.id === artistId)?.name;
    };
    expect(await nameOn(dayBefore)).toBe(before);
    expect(await nameOn(on)).toBe(after);
    expect(await nameOn(today)).toBe(after);
  });

  it('moves popularity with the days: a hit is more popular soon after release than years later', async () => {
    const hit = sandbox.catalog.chartFor('global', '2024-03-01')[0] as string;
    const popularityOn = async (asOf: string) =>
      (await apiGet<SpotifyTrack>(sandbox, token, `/tracks/${hit}`, asOf)).body.popularity;
    const atPeak = await popularityOn('2024-03-01');
    expect(atPeak).toBeGreaterThan(70);
    expect(await popularityOn('2029-03-01')).toBeLessThan(atPeak);
  });
});

describe('Sandbox: audio features', () => {
  let sandbox: Sandbox;
  let token: string;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    token = await tokenFor(sandbox);
    chart = sandbox.catalog.chartFor('global', today);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const featuresOf = async (ids: readonly string[], asOf?: string) =>
    (await apiGet<FeaturesAnswer>(sandbox, token, `/audio-features?ids=${ids.join(',')}`, asOf)).body
      .audio_features;

  it('answers null for some charting tracks, and values in Spotify’s ranges for the rest', async () => {
    const features = [
      ...(await featuresOf(chart.slice(0, 100))),
      ...(await featuresOf(chart.slice(100, 200))),
    ];
    expect(features).toHaveLength(200);
    const missing = features.filter((f) => f === null).length;
    expect(missing).toBeGreaterThan(0);
    expect(missing).toBeLessThan(30);

    features.forEach((f, i) => {
      if (f === null) return;
      expect(f).toMatchObject({ id: chart[i], type: 'audio_features', uri: `spotify:track:${chart[i]}` });
      for (const name of [
        'danceability',
        'energy',
        'speechiness',
        'acousticness',
        'instrumentalness',
        'liveness',
        'valence',
      ]) {
        expect(f[name], name).toBeGreaterThanOrEqual(0);
        expect(f[name], name).toBeLessThanOrEqual(1);
      }
      expect(f.loudness).toBeGreaterThanOrEqual(-60);
      expect(f.loudness).toBeLessThanOrEqual(0);
      expect(f.tempo).toBeGreaterThan(0);
      expect(Number.isInteger(f.key) && (f.key as number) >= -1 && (f.key as number) <= 11).toBe(true);
      expect([0, 1]).toContain(f.mode);
      expect(
        Number.isInteger(f.time_signature) &&
          (f.time_signature as number) >= 3 &&
          (f.time_signature as number) <= 7,
      ).toBe(true);
      expect(f.duration_ms).toBeGreaterThan(0);
    });
  });

  it('keeps a track’s features the same whatever the day', async () => {
    const ids = chart.slice(0, 20);
    expect(await featuresOf(ids, '2029-06-30')).toEqual(await featuresOf(ids, today));
  });

  it('refuses more than 100 ids, and answers null for unknown ones', async () => {
    const ids = sandbox.catalog
      .catalogTracks()
      .slice(0, 101)
      .map((t) => t.id);
    const tooMany = await apiGet(sandbox, token, `/audio-features?ids=${ids.join(',')}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ error: { status: 400, message: 'Too many ids requested' } });

    expect(await featuresOf([unknownId, 'garbage'])).toEqual([null, null]);
  });
});

describe('Sandbox: names that break naive CSV', () => {
  let sandbox: Sandbox;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    token = await tokenFor(sandbox);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const hostile: Record<string, (name: string) => boolean> = {
    comma: (n) => n.includes(','),
    'double quote': (n) => n.includes('"'),
    'bare newline': (n) => /[^\r]\n/.test(n),
    CRLF: (n) => n.includes('\r\n'),
    'ZWJ emoji sequence': (n) => /\p{Extended_Pictographic}\u200D\p{Extended_Pictographic}/u.test(n),
    flag: (n) => /\p{Regional_Indicator}{2}/u.test(n),
    Arabic: (n) => /[\u0600-\u06FF]/.test(n),
    Hebrew: (n) => /[\u0590-\u05FF]/.test(n),
    'right-to-left mark': (n) => n.includes('\u200F'),
    'leading or trailing space': (n) => n !== n.trim(),
  };

  it.each(['2020-01-01', '2023-07-15', '2026-11-22', '2027-12-31'])(
    'puts every kind of hostile name on the global chart of %s, unchanged',
    async (day) => {
      const items = await chartOverHttp(sandbox, token, 'global', day);
      const trackNames = items.map((i) => i.item.name);
      const artistNames = items.flatMap((i) => i.item.artists.map((a) => a.name));
      const albumNames = items.map((i) => i.item.album.name);
      for (const [kind, test] of Object.entries(hostile)) {
        expect(trackNames.some(test), `a track name with a ${kind}`).toBe(true);
        expect([...artistNames, ...albumNames].some(test), `an artist or album name with a ${kind}`).toBe(
          true,
        );
      }
      // Byte for byte what the catalog holds: nothing trimmed or normalized on the way.
      for (const { item } of items) expect(item.name).toBe(sandbox.catalog.track(item.id)?.name);
    },
  );
});
