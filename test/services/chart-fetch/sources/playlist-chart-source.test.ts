import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  sandboxPlaylistId,
  sandboxPlaylistIds,
  startSandbox,
  trickyTracks,
  type Sandbox,
} from '../../../../infra/sandbox/index.js';
import { ConfigError } from '../../../../shared/errors.js';
import { PlaylistChartSource } from '../../../../services/chart-fetch/sources/playlist-chart-source.js';
import { startLocalHttpServer, type LocalHttpServer } from '../../../shared/http/local-http-server.js';
import {
  pageFactory,
  pathOf,
  playlistEntryFactory,
  spotifyTrackFactory,
  tokenAnswer,
  trackId,
} from '../../../shared/spotify/spotify-answers.js';
import { spotifyClientFor } from '../../../shared/spotify/sandbox-spotify-client.js';

const day = '2026-03-02';
const otherDay = '2025-09-15';

describe('Class: PlaylistChartSource', () => {
  describe('against the sandbox', () => {
    let sandbox: Sandbox;
    let source: PlaylistChartSource;

    beforeAll(async () => {
      sandbox = await startSandbox({ today: () => day });
      const { client } = spotifyClientFor(sandbox);
      source = new PlaylistChartSource({
        client,
        playlists: sandboxPlaylistIds,
        sourceName: 'sandbox-playlist',
      });
    });

    afterAll(async () => {
      await sandbox?.close();
    });

    it('returns the 200 global entries at positions 1..200, in the sandbox order, with the catalog names', async () => {
      sandbox.stats.reset();
      const snapshot = await source.fetch('global', day);

      expect(snapshot.source).toBe(`sandbox-playlist:${sandboxPlaylistId('global')}`);
      expect(snapshot.skipped).toEqual([]);
      expect(snapshot.entries.map((e) => e.position)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(snapshot.entries.map((e) => e.trackId)).toEqual(sandbox.catalog.chartFor('global', day));
      for (const entry of snapshot.entries) {
        const track = sandbox.catalog.track(entry.trackId);
        expect(entry.trackName).toBe(track?.name);
        expect(entry.artistNames).toBe(
          track?.artistIds.map((a) => sandbox.catalog.artistName(a, day)).join(', '),
        );
        expect(entry.streams).toBeNull();
      }
      expect(sandbox.stats.requests.playlistItems).toBe(4);
      // Only what the chart reads crossed the wire: no markets, images or links.
      const raw = JSON.stringify(snapshot.raw);
      for (const left of ['available_markets', 'images', 'external_urls', 'href"'])
        expect(raw).not.toContain(left);
      expect(raw).toContain('"popularity"');
      expect(snapshot.raw).toHaveLength(4);
    });

    it('keeps the tricky names byte for byte: commas, quotes, newlines, emoji, right-to-left marks, spaces', async () => {
      const snapshot = await source.fetch('global', day);
      const names = new Set(snapshot.entries.map((e) => e.trackName));

      for (const tricky of trickyTracks) expect(names).toContain(tricky.name);
      const collaboration = snapshot.entries.find((e) => e.trackName === trickyTracks[1].name);
      expect(collaboration?.artistNames).toBe(
        [trickyTracks[1].artist, trickyTracks[0].artist, trickyTracks[6].artist].join(', '),
      );
    });

    it('reads the chart of the day it is asked for', async () => {
      const [onDay, onOtherDay] = [await source.fetch('global', day), await source.fetch('global', otherDay)];

      expect(onDay.entries.map((e) => e.trackId)).toEqual(sandbox.catalog.chartFor('global', day));
      expect(onOtherDay.entries.map((e) => e.trackId)).toEqual(sandbox.catalog.chartFor('global', otherDay));
      expect(onOtherDay.entries.map((e) => e.trackId)).not.toEqual(onDay.entries.map((e) => e.trackId));
    });

    it('refuses a chart with no playlist configured with a ConfigError naming it and those there are', async () => {
      const partial = new PlaylistChartSource({
        client: spotifyClientFor(sandbox).client,
        playlists: { global: sandboxPlaylistId('global') },
        sourceName: 'sandbox-playlist',
      });

      const error = await partial.fetch('us', day).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe('No playlist is configured for chart "us" (configured: global).');
    });
  });

  describe('against a playlist with entries that are not usable tracks', () => {
    const playlistId = '37i9dQZF1DXcBWIGoYBM5M';
    let server: LocalHttpServer;

    const a = spotifyTrackFactory('a');
    const b = spotifyTrackFactory('b', {
      artists: [
        { id: trackId('x'), name: 'X, "the" One' },
        { id: trackId('y'), name: 'Y' },
      ],
    });
    const c = spotifyTrackFactory('c');
    const firstPage = [
      playlistEntryFactory(a),
      playlistEntryFactory(null),
      playlistEntryFactory({ ...spotifyTrackFactory('local'), id: null, is_local: true }, { is_local: true }),
      playlistEntryFactory({ id: trackId('episode'), name: 'A Podcast', type: 'episode' }),
      playlistEntryFactory(spotifyTrackFactory('broken', { duration_ms: 'long' })),
    ];
    const secondPage = [
      playlistEntryFactory(a),
      // Older answers carry the content under `track` only.
      { added_at: '2026-03-02T00:00:00Z', is_local: false, track: b },
      playlistEntryFactory(c),
    ];

    beforeAll(async () => {
      server = await startLocalHttpServer((request) => {
        if (pathOf(request) === '/api/token') return tokenAnswer;
        const offset = new URL(request.url, server.url).searchParams.get('offset');
        const next = `${server.url}/v1/playlists/${playlistId}/items?offset=5&limit=50`;
        return {
          body:
            offset === '5'
              ? pageFactory(secondPage, { offset: 5, total: 8, next: null })
              : pageFactory(firstPage, { offset: 0, total: 8, next }),
        };
      });
    });

    afterAll(async () => {
      await server?.close();
    });

    afterEach(() => {
      server.received.length = 0;
    });

    it('skips removed tracks, local files, episodes, invalid tracks and duplicates with reasons; positions stay dense', async () => {
      const { client } = spotifyClientFor({
        apiUrl: `${server.url}/v1`,
        accountsUrl: server.url,
        credentials: { clientId: 'id', clientSecret: 'secret' },
      });
      const source = new PlaylistChartSource({
        client,
        playlists: { global: playlistId },
        sourceName: 'spotify-playlist',
      });

      const snapshot = await source.fetch('global', day);

      expect(snapshot.source).toBe(`spotify-playlist:${playlistId}`);
      expect(snapshot.entries).toEqual([
        { position: 1, trackId: trackId('a'), trackName: 'Song a', artistNames: 'Artist a', streams: null },
        {
          position: 2,
          trackId: trackId('b'),
          trackName: 'Song b',
          artistNames: 'X, "the" One, Y',
          streams: null,
        },
        { position: 3, trackId: trackId('c'), trackName: 'Song c', artistNames: 'Artist c', streams: null },
      ]);
      expect(snapshot.skipped.map(({ position, reason }) => [position, reason])).toEqual([
        [2, 'removed track (no item)'],
        [3, 'local file'],
        [4, 'not a track (episode)'],
        [5, expect.stringMatching(/^invalid track: duration_ms: /)],
        [6, `duplicate of ${trackId('a')}: its first position is kept`],
      ]);
      expect(snapshot.skipped[0]?.raw).toEqual(firstPage[1]);
      expect(server.received.filter((r) => pathOf(r).endsWith('/items'))).toHaveLength(2);
    });
  });
  describe('against a playlist with odd entries and configurations', () => {
    const playlistId = '37i9dQZF1DXcBWIGoYBM5M';
    let server: LocalHttpServer;
    const { type: _type, ...untyped } = spotifyTrackFactory('untyped');
    const items = [
      // Neither `item` nor `track`: as removed as a null one.
      { added_at: '2026-03-02T00:00:00Z', is_local: false },
      playlistEntryFactory(`spotify:track:${trackId('text')}`),
      // No `type` at all: the field filter may leave it out; the entry is a track all the same.
      playlistEntryFactory(untyped),
    ];

    beforeAll(async () => {
      server = await startLocalHttpServer((request) =>
        pathOf(request) === '/api/token'
          ? tokenAnswer
          : { body: pageFactory(items, { offset: 0, total: items.length, next: null }) },
      );
    });
    afterAll(async () => {
      await server?.close();
    });

    const sourceWith = (playlists: Record<string, string>) =>
      new PlaylistChartSource({
        client: spotifyClientFor({
          apiUrl: `${server.url}/v1`,
          accountsUrl: server.url,
          credentials: { clientId: 'id', clientSecret: 'secret' },
        }).client,
        playlists,
        sourceName: 'spotify-playlist',
      });

    it('skips an entry without content as removed and one that is not an object as invalid; keeps a track without type', async () => {
      const snapshot = await sourceWith({ global: playlistId }).fetch('global', day);

      expect(snapshot.skipped.map(({ position, reason }) => [position, reason])).toEqual([
        [1, 'removed track (no item)'],
        [2, expect.stringMatching(/^invalid track: /)],
      ]);
      expect(snapshot.entries).toEqual([
        {
          position: 1,
          trackId: trackId('untyped'),
          trackName: 'Song untyped',
          artistNames: 'Artist untyped',
          streams: null,
        },
      ]);
    });

    it('names every chart configured, or none, when refusing one without a playlist', async () => {
      await expect(sourceWith({ global: playlistId, br: playlistId }).fetch('us', day)).rejects.toThrow(
        'No playlist is configured for chart "us" (configured: global, br).',
      );
      await expect(sourceWith({}).fetch('us', day)).rejects.toThrow(
        'No playlist is configured for chart "us" (configured: none).',
      );
    });
  });
});
