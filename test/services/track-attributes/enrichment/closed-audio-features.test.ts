import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvSecrets } from '../../../../infra/adapters/embedded/env-secrets.js';
import { RequestCounter } from '../../../../shared/http/request-counter.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { SpotifyClient } from '../../../../shared/spotify/spotify-client.js';
import { spotifyOnlyEnricher } from './enricher-fixtures.js';

const track = (id: string) => ({
  id,
  name: `Track ${id}`,
  type: 'track',
  duration_ms: 180_000,
  explicit: false,
  popularity: 50,
  external_ids: { isrc: 'USAAA0000001' },
  artists: [{ id: 'artist1', name: 'Artist' }],
  album: {
    id: 'album1',
    name: 'Album',
    album_type: 'single',
    release_date: '2026-01-01',
    release_date_precision: 'day',
  },
});

describe('Class: AttributeEnricher, with Spotify alone, for an app whose audio-features endpoint is closed', () => {
  let server: Server;
  let apiUrl: string;
  const hits: string[] = [];

  beforeAll(async () => {
    // A real HTTP peer answering as Spotify does for apps without extended access since Nov 2024.
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      hits.push(url.pathname);
      response.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/token') {
        response.end(JSON.stringify({ access_token: 'token', token_type: 'Bearer', expires_in: 3600 }));
      } else if (url.pathname === '/v1/tracks') {
        response.end(JSON.stringify({ tracks: (url.searchParams.get('ids') ?? '').split(',').map(track) }));
      } else {
        response.statusCode = 403;
        response.end(JSON.stringify({ error: { status: 403, message: 'Forbidden' } }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('keeps the tracks, says why their features are missing, and asks the closed endpoint once', async () => {
    const client = new SpotifyClient({
      apiUrl: `${apiUrl}/v1`,
      accountsUrl: apiUrl,
      secrets: new EnvSecrets({ spotify: JSON.stringify({ clientId: 'id', clientSecret: 'secret' }) }),
      counter: new RequestCounter(),
      clock: systemClock,
    });
    const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const { results } = await spotifyOnlyEnricher(client).lookup(ids, '2026-11-20');

    expect([...results.values()].every((r) => r.status === 'ok')).toBe(true);
    const first = results.get('t0');
    expect(first?.status === 'ok' && first.attributes).toMatchObject({
      album_id: 'album1',
      features_source: null,
      missing_reason:
        'not_found: no audio features: spotify audio features closed to this app (HTTP 403 on GET /v1/audio-features), then ReccoBeats is off',
    });
    expect(hits.filter((p) => p === '/v1/audio-features')).toHaveLength(1);
  });
});
