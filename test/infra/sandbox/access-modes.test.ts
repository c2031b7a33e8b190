import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chartSizes,
  sandboxEditorialPlaylistId,
  sandboxForeignPlaylistId,
  sandboxPlaylistId,
  startSandbox,
  type AccessMode,
  type Sandbox,
} from '../../../infra/sandbox/index.js';
import {
  apiGet,
  chartOverHttp,
  tokenFor,
  type Paging,
  type PlaylistItem,
  type SpotifyTrack,
} from './sandbox-client.js';

const today = '2026-11-22';

type TracksAnswer = { tracks: (SpotifyTrack | null)[] };

describe('Sandbox: development access mode', () => {
  let sandbox: Sandbox;
  let token: string;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ accessMode: 'development', today: () => today });
    token = await tokenFor(sandbox);
    chart = sandbox.catalog.chartFor('global', today);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('closes the multi-id track lookup with Spotify’s 403 Forbidden', async () => {
    sandbox.stats.reset();
    const answer = await apiGet(sandbox, token, `/tracks?ids=${chart.slice(0, 3).join(',')}`);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
    expect(sandbox.stats.snapshot().byProvider.spotify.restricted).toBe(1);
  });

  it('closes audio features with a 403 that carries no message, as Spotify’s does', async () => {
    const answer = await apiGet(sandbox, token, `/audio-features?ids=${chart[0]}`);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: { status: 403 } });
  });

  it('still answers a single track, without popularity nor available_markets', async () => {
    const answer = await apiGet<SpotifyTrack & Record<string, unknown>>(
      sandbox,
      token,
      `/tracks/${chart[0]}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(chart[0]);
    expect(answer.body).not.toHaveProperty('popularity');
    expect(answer.body).not.toHaveProperty('available_markets');
    expect(answer.body.album).not.toHaveProperty('available_markets');
    // What the 2026 changes kept: names, ISRC (restored in March 2026), album and release date.
    expect(answer.body.external_ids.isrc).toBe(sandbox.catalog.track(chart[0] as string)?.isrc);
    expect(answer.body.album.release_date).toMatch(/^\d{4}/);
  });

  it('reads the chart playlists, which the app’s own user owns, with track objects lacking popularity', async () => {
    const items = await chartOverHttp(sandbox, token, 'us', today);
    expect(items.map((i) => i.item.id)).toEqual(sandbox.catalog.chartFor('us', today));
    for (const { item } of items) expect(item).not.toHaveProperty('popularity');
  });

  it('answers 404 for the Spotify-owned editorial playlist', async () => {
    const answer = await apiGet(sandbox, token, `/playlists/${sandboxEditorialPlaylistId}/items`);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: { status: 404, message: 'Resource not found' } });
  });

  it('answers 403 for another user’s playlist, which the app neither owns nor collaborates on', async () => {
    const answer = await apiGet(sandbox, token, `/playlists/${sandboxForeignPlaylistId}/items`);
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: { status: 403, message: 'Forbidden' } });
  });
});

describe('Sandbox: extended access mode (the default)', () => {
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

  it('is extended unless told otherwise', () => {
    expect(sandbox.accessMode).toBe('extended');
  });

  it('answers multi-id lookups with popularity, and audio features', async () => {
    const tracks = await apiGet<TracksAnswer>(sandbox, token, `/tracks?ids=${chart.slice(0, 5).join(',')}`);
    expect(tracks.status).toBe(200);
    for (const track of tracks.body.tracks) expect(track?.popularity).toEqual(expect.any(Number));
    const features = await apiGet<{ audio_features: unknown[] }>(
      sandbox,
      token,
      `/audio-features?ids=${chart[0]}`,
    );
    expect(features.status).toBe(200);
    expect(features.body.audio_features).toHaveLength(1);
  });

  it.each([
    ['editorial', sandboxEditorialPlaylistId, 'spotify'],
    ['another user’s', sandboxForeignPlaylistId, 'chartflow-sandbox-someone-else'],
  ])('reads the %s playlist: the top 50 of the global chart', async (_, playlist, owner) => {
    const first = await apiGet<Paging<PlaylistItem & { added_by: { id: string } }>>(
      sandbox,
      token,
      `/playlists/${playlist}/items?limit=50`,
      today,
    );
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(50);
    expect(first.body.next).toBeNull();
    expect(first.body.items.map((i) => i.item.id)).toEqual(chart.slice(0, 50));
    expect(first.body.items[0]?.added_by.id).toBe(owner);
    expect(chartSizes.global).toBeGreaterThan(50);
  });

  it('keeps the editorial look-alike apart from the real “Top 50 - Global” id', () => {
    expect(sandboxEditorialPlaylistId).toMatch(/^37i9dQZEVXb[0-9A-Za-z]{11}$/);
    expect(sandboxEditorialPlaylistId).not.toBe('37i9dQZEVXbMDoHDwVN2tF');
  });
});

describe('Sandbox: switching access mode while running', () => {
  let sandbox: Sandbox;
  let token: string;
  let track: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => today });
    token = await tokenFor(sandbox);
    track = sandbox.catalog.chartFor('global', today)[0] as string;
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const statusesIn = async (mode: AccessMode) => {
    sandbox.setAccessMode(mode);
    return Promise.all(
      [
        `/tracks?ids=${track}`,
        `/audio-features?ids=${track}`,
        `/tracks/${track}`,
        `/playlists/${sandboxPlaylistId('gb')}/items`,
        `/playlists/${sandboxEditorialPlaylistId}/items`,
        `/playlists/${sandboxForeignPlaylistId}/items`,
      ].map(async (path) => (await apiGet(sandbox, token, path)).status),
    );
  };

  it('answers by the mode of the moment, from the next request, and keeps the same token', async () => {
    expect(await statusesIn('development')).toEqual([403, 403, 200, 200, 404, 403]);
    expect(sandbox.accessMode).toBe('development');
    expect(await statusesIn('extended')).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await statusesIn('development')).toEqual([403, 403, 200, 200, 404, 403]);
  });

  it('refuses an unknown mode', () => {
    expect(() => sandbox.setAccessMode('premium' as AccessMode)).toThrow();
    expect(sandbox.accessMode).toBe('development');
  });

  it('refuses an unknown mode as an option', async () => {
    await expect(startSandbox({ accessMode: 'premium' as AccessMode })).rejects.toThrow();
  });
});
