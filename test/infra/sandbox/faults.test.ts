import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  reccobeatsKnowsTrack,
  sandboxPlaylistId,
  startSandbox,
  type Sandbox,
  type SandboxEndpoint,
  type SandboxProvider,
} from '../../../infra/sandbox/index.js';
import { apiGet, reccobeatsGet, requestToken, tokenFor, type HttpAnswer } from './sandbox-client.js';

const today = '2026-11-22';

describe('Sandbox: faults', () => {
  let sandbox: Sandbox;
  let token: string;
  /** Charting tracks both providers know, with audio features. */
  let ids: string[];
  let now = Date.parse(`${today}T12:00:00Z`);

  beforeAll(async () => {
    // A pinned clock, so that a quota's Retry-After can be checked to the second and moved past.
    sandbox = await startSandbox({
      today: () => today,
      clock: { now: () => new Date(now) },
      tokenTtlSeconds: 10 * 86_400,
    });
    token = await tokenFor(sandbox);
    ids = sandbox.catalog
      .chartFor('global', today)
      .filter(
        (id) =>
          reccobeatsKnowsTrack(sandbox.catalog, id) && sandbox.catalog.track(id)?.audioFeatures !== null,
      )
      .slice(0, 10);
  });

  afterEach(() => {
    sandbox.faults.clear();
    sandbox.stats.reset();
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  /** One request to an endpoint of either provider. */
  const call = (endpoint: SandboxEndpoint): Promise<HttpAnswer<Record<string, unknown>>> => {
    switch (endpoint) {
      case 'token':
        return requestToken(sandbox, sandbox.credentials.clientId, sandbox.credentials.clientSecret);
      case 'playlistItems':
        return apiGet(sandbox, token, `/playlists/${sandboxPlaylistId('br')}/items`);
      case 'tracks':
        return apiGet(sandbox, token, `/tracks?ids=${ids.join(',')}`);
      case 'track':
        return apiGet(sandbox, token, `/tracks/${ids[0]}`);
      case 'audioFeatures':
        return apiGet(sandbox, token, `/audio-features?ids=${ids.join(',')}`);
      case 'reccobeatsTracks':
        return reccobeatsGet(sandbox, `/track?ids=${ids.join(',')}`);
      case 'reccobeatsAudioFeatures':
        return reccobeatsGet(sandbox, `/audio-features?ids=${ids.join(',')}`);
    }
  };

  const statuses = async (endpoint: SandboxEndpoint, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push((await call(endpoint)).status);
    return out;
  };

  const cases: [SandboxProvider, SandboxEndpoint, SandboxEndpoint][] = [
    ['spotify', 'tracks', 'audioFeatures'],
    ['reccobeats', 'reccobeatsTracks', 'reccobeatsAudioFeatures'],
  ];

  describe.each(cases)('on %s', (provider, endpoint, otherEndpoint) => {
    it('answers 429 with a long Retry-After and QUOTA_EXCEEDED while the quota is spent, then recovers once cleared', async () => {
      const quota = sandbox.faults.quotaExceeded({ provider, retryAfterSeconds: 86_400 });
      for (const e of [endpoint, otherEndpoint]) {
        const refused = await call(e);
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBe('86400');
        expect(refused.text).toContain('"reason":"QUOTA_EXCEEDED"');
      }
      // Only this provider's quota is spent.
      const other = provider === 'spotify' ? 'reccobeatsTracks' : 'tracks';
      expect((await call(other)).status).toBe(200);
      expect(sandbox.stats.snapshot().byProvider[provider]).toMatchObject({
        quotaExceeded: 2,
        rateLimited: 0,
      });

      quota.clear();
      expect((await call(endpoint)).status).toBe(200);
    });

    it('counts the quota’s Retry-After down on the sandbox clock, and lifts it when the time has come', async () => {
      sandbox.faults.quotaExceeded({ provider, retryAfterSeconds: 3_600 });
      now += 600_500;
      expect((await call(endpoint)).headers.get('retry-after')).toBe('3000');
      now += 3_000_000;
      expect((await call(endpoint)).status).toBe(200);
    });

    it('answers 5xx to the next `count` requests, then heals', async () => {
      sandbox.faults.serverErrors({ provider, count: 2 });
      expect(await statuses(endpoint, 3)).toEqual([500, 500, 200]);
      expect(sandbox.stats.snapshot().byProvider[provider].serverErrors).toBe(2);
    });

    it('answers 5xx to every n-th request until cleared, with the status asked for', async () => {
      sandbox.faults.serverErrors({ provider, every: 3, status: 503 });
      expect(await statuses(endpoint, 7)).toEqual([200, 200, 503, 200, 200, 503, 200]);
      sandbox.faults.clear();
      expect(await statuses(endpoint, 3)).toEqual([200, 200, 200]);
    });

    it('answers 5xx on one endpoint only when it is named', async () => {
      sandbox.faults.serverErrors({ provider, endpoint: otherEndpoint });
      expect((await call(endpoint)).status).toBe(200);
      const failed = await call(otherEndpoint);
      expect(failed.status).toBe(500);
      expect(failed.body).toEqual(
        provider === 'spotify'
          ? { error: { status: 500, message: 'Server error' } }
          : expect.objectContaining({ status: 500, error: 'Internal Server Error' }),
      );
    });

    it('holds answers back by the delay asked for', async () => {
      sandbox.faults.slow({ provider, delayMs: 300, count: 1 });
      let started = performance.now();
      expect((await call(endpoint)).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      started = performance.now();
      await call(endpoint);
      expect(performance.now() - started).toBeLessThan(290);
      expect(sandbox.stats.snapshot().byProvider[provider].slowed).toBe(1);
    });

    it('cuts `count` answers short: a 200 that says JSON but does not parse', async () => {
      sandbox.faults.malformedJson({ provider, count: 1 });
      const response = await fetch(
        provider === 'spotify'
          ? `${sandbox.apiUrl}/tracks?ids=${ids.join(',')}`
          : `${sandbox.reccobeatsUrl}/track?ids=${ids.join(',')}`,
        { headers: provider === 'spotify' ? { authorization: `Bearer ${token}` } : {} },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const text = await response.text();
      expect(text.length).toBeGreaterThan(10);
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      expect((await call(endpoint)).status).toBe(200);
      expect(sandbox.stats.snapshot().byProvider[provider].malformedJson).toBe(1);
    });

    it('does not spend a malformed-JSON count on an answer that is not a 200', async () => {
      sandbox.faults.serverErrors({ provider, count: 1 });
      sandbox.faults.malformedJson({ provider, count: 1 });
      const failed = await call(endpoint);
      expect(failed.status).toBe(500);
      const cut = await fetch(
        provider === 'spotify'
          ? `${sandbox.apiUrl}/tracks/${ids[0]}`
          : `${sandbox.reccobeatsUrl}/track?ids=${ids[0]}`,
        { headers: provider === 'spotify' ? { authorization: `Bearer ${token}` } : {} },
      );
      const text = await cut.text();
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    });

    it('fails every lookup that includes a poisoned track, and only those', async () => {
      const [poison, healthy] = ids as [string, string];
      sandbox.faults.failTrackLookups([poison], { provider });
      const get = (path: string) =>
        provider === 'spotify' ? apiGet(sandbox, token, path) : reccobeatsGet(sandbox, path);
      if (provider === 'spotify') {
        expect((await get(`/tracks?ids=${healthy},${poison}`)).status).toBe(500);
        expect((await get(`/tracks/${poison}`)).status).toBe(500);
        expect((await get(`/tracks/${healthy}`)).status).toBe(200);
        // Spotify's audio features are not a track lookup: unaffected, as before.
        expect((await get(`/audio-features?ids=${poison}`)).status).toBe(200);
        // …and ReccoBeats does not choke on it.
        expect((await reccobeatsGet(sandbox, `/track?ids=${poison}`)).status).toBe(200);
      } else {
        expect((await get(`/track?ids=${healthy},${poison}`)).status).toBe(500);
        expect((await get(`/audio-features?ids=${poison}`)).status).toBe(500);
        expect((await get(`/track?ids=${healthy}`)).status).toBe(200);
        expect((await apiGet(sandbox, token, `/tracks/${poison}`)).status).toBe(200);
      }
      expect(sandbox.stats.snapshot().byProvider[provider].serverErrors).toBe(2);
    });
  });

  it('keeps failTrackLookups on Spotify by default, as it always was', async () => {
    sandbox.faults.failTrackLookups([ids[0] as string]);
    expect((await apiGet(sandbox, token, `/tracks/${ids[0]}`)).status).toBe(500);
    expect((await reccobeatsGet(sandbox, `/audio-features?ids=${ids[0]}`)).status).toBe(200);
  });

  it('leaves the token endpoint alone unless a fault names it', async () => {
    sandbox.faults.serverErrors({ provider: 'spotify' });
    sandbox.faults.quotaExceeded({ provider: 'spotify' });
    expect((await call('token')).status).toBe(200);
    sandbox.faults.clear();

    sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'token', count: 1, status: 502 });
    const failed = await call('token');
    expect(failed.status).toBe(502);
    expect(failed.body).toEqual({ error: 'server_error', error_description: 'Server error' });
    expect((await call('token')).status).toBe(200);
  });

  it('clears one fault with its handle, and every fault with clear()', async () => {
    const spotifyQuota = sandbox.faults.quotaExceeded({ provider: 'spotify' });
    sandbox.faults.quotaExceeded({ provider: 'reccobeats' });
    sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'playlistItems' });
    sandbox.faults.failTrackLookups(ids, { provider: 'reccobeats' });
    spotifyQuota.clear();
    expect((await call('track')).status).toBe(200);
    expect((await call('playlistItems')).status).toBe(500);
    expect((await call('reccobeatsTracks')).status).toBe(429);

    sandbox.faults.clear();
    for (const endpoint of ['playlistItems', 'track', 'reccobeatsTracks', 'reccobeatsAudioFeatures'] as const)
      expect((await call(endpoint)).status, endpoint).toBe(200);
  });

  it('refuses a fault whose endpoint belongs to another provider, or a malformed one', () => {
    expect(() => sandbox.faults.serverErrors({ provider: 'reccobeats', endpoint: 'tracks' })).toThrow();
    expect(() => sandbox.faults.slow({ provider: 'spotify', delayMs: -1 })).toThrow();
    expect(() => sandbox.faults.malformedJson({ provider: 'spotify', count: 0 })).toThrow();
    expect(() => sandbox.faults.quotaExceeded({ provider: 'deezer' as SandboxProvider })).toThrow();
  });

  it('counts requests and injected faults per provider; total is every request of both', async () => {
    sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'track', count: 1 });
    sandbox.faults.quotaExceeded({ provider: 'reccobeats', endpoint: 'reccobeatsAudioFeatures' });
    await call('token');
    await call('track');
    await call('track');
    await call('reccobeatsTracks');
    await call('reccobeatsAudioFeatures');

    const snapshot = sandbox.stats.snapshot();
    expect(snapshot.total).toBe(5);
    expect(snapshot.requests).toMatchObject({
      token: 1,
      track: 2,
      reccobeatsTracks: 1,
      reccobeatsAudioFeatures: 1,
    });
    expect(snapshot.byProvider.spotify).toEqual({
      requests: 3,
      rateLimited: 0,
      quotaExceeded: 0,
      serverErrors: 1,
      malformedJson: 0,
      slowed: 0,
      restricted: 0,
    });
    expect(snapshot.byProvider.reccobeats).toMatchObject({ requests: 2, quotaExceeded: 1, serverErrors: 0 });
    expect(sandbox.stats.provider('reccobeats')).toEqual(snapshot.byProvider.reccobeats);
  });
});

describe('Sandbox: a slow answer does not hold the sandbox open', () => {
  it('closes at once although an answer is being held back', async () => {
    const sandbox = await startSandbox();
    sandbox.faults.slow({ provider: 'reccobeats', delayMs: 60_000 });
    const id = sandbox.catalog.chartFor('global', '2026-01-15')[0] as string;
    const pending = reccobeatsGet(sandbox, `/track?ids=${id}`).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    await pending;
  });
});
