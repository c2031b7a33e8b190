import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  sandboxPlaylistId,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../../../infra/sandbox/index.js';
import { EnvSecrets } from '../../../infra/adapters/embedded/env-secrets.js';
import {
  CircuitOpenError,
  ConfigError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
} from '../../../shared/errors.js';
import { CircuitBreakers } from '../../../shared/http/circuit-breaker.js';
import { UnauthorizedError } from '../../../shared/http/json-client.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { SecretName } from '../../../shared/ports/secrets.js';
import { startLocalHttpServer } from '../http/local-http-server.js';
import { eventually, manualClock } from '../http/manual-clock.js';
import { fastRetry, spotifyClientFor } from './sandbox-spotify-client.js';

const day = '2026-03-02';
const otherDay = '2025-09-15';
const seconds = (s: number) => s * 1_000;

describe('Class: SpotifyClient', () => {
  const opened: Sandbox[] = [];
  const sandboxWith = async (options: SandboxOptions = {}): Promise<Sandbox> => {
    const sandbox = await startSandbox({ today: () => day, ...options });
    opened.push(sandbox);
    return sandbox;
  };
  let chart: readonly string[];

  beforeAll(async () => {
    // Builds (and caches) the seed's catalog once, so each test's own sandbox starts at once.
    const sandbox = await sandboxWith();
    chart = sandbox.catalog.chartFor('global', day);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  const idAt = (index: number): string => chart[index] as string;

  describe('client-credentials token', () => {
    it('asks for one token however many calls start together', async () => {
      const sandbox = await sandboxWith();
      const { client, counter } = spotifyClientFor(sandbox);

      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.tracks([idAt(i)], { asOf: day })),
      );

      expect(answers.map((a) => (a[0] as { id: string }).id)).toEqual(chart.slice(0, 20));
      expect(sandbox.stats.requests.token).toBe(1);
      expect(sandbox.stats.requests.tracks).toBe(20);
      expect(counter.snapshot()).toEqual({ spotify: 21 });
    });

    it('renews the token 60 s before it expires, once, so a run across the expiry never meets a 401', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 120, clock });
      const { client } = spotifyClientFor(sandbox, { clock });
      let elapsed = 0;
      const callAt = async (second: number) => {
        clock.advance(seconds(second) - elapsed);
        elapsed = seconds(second);
        return client.tracks([idAt(second)], { asOf: day });
      };

      for (const second of [0, 20, 40, 59]) await callAt(second);
      expect(sandbox.stats.requests.token).toBe(1);

      // From 61 s the first token is within its last minute; at 120 s the server would refuse it.
      for (const second of [61, 80, 100, 120]) await callAt(second);

      expect(sandbox.stats.requests.token).toBe(2);
      expect(sandbox.stats.requests.tracks).toBe(8);
      expect(sandbox.stats.unauthorized).toBe(0);
    });

    it('never sends an expired token when tokens live less than the renewal margin (1 s)', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 1, clock });
      const { client } = spotifyClientFor(sandbox, { clock });

      for (const step of [0, 500, 1_000, 1_500, 3_000]) {
        clock.advance(step);
        await client.tracks([idAt(step / 500)], { asOf: day });
      }

      expect(sandbox.stats.unauthorized).toBe(0);
      expect(sandbox.stats.requests.tracks).toBe(5);
    });

    it('renews once on a 401 when the server dropped a token the client still trusts, and the call succeeds', async () => {
      const serverClock = manualClock();
      const clientClock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 3_600, clock: serverClock });
      const { client } = spotifyClientFor(sandbox, { clock: clientClock });
      await client.tracks([idAt(0)], { asOf: day });

      // Only the server's clock moves: to the client the token has most of an hour left.
      serverClock.advance(seconds(3_601));
      const [track] = await client.tracks([idAt(1)], { asOf: day });

      expect(track).toMatchObject({ id: idAt(1) });
      expect(sandbox.stats.requests.token).toBe(2);
      expect(sandbox.stats.unauthorized).toBe(1);
      expect(sandbox.stats.requests.tracks).toBe(3);
    });

    it('renews once on a 401 after the sandbox restarted with an empty token store', async () => {
      const first = await sandboxWith();
      const { client } = spotifyClientFor(first);
      await client.tracks([idAt(0)], { asOf: day });
      await first.close();
      opened.splice(opened.indexOf(first), 1);

      // Same seed, so the same credentials; same port, so the client's URLs still hold.
      const second = await sandboxWith({ port: first.port });
      const [track] = await client.tracks([idAt(1)], { asOf: day });

      expect(track).toMatchObject({ id: idAt(1) });
      expect(second.stats.unauthorized).toBe(1);
      expect(second.stats.requests.token).toBe(1);
      expect(second.stats.requests.tracks).toBe(2);
    });

    it('throws the second 401 after exactly one renewal: it is real', async () => {
      // Every reading of the server's clock is an hour later, so every token is expired when used.
      let serverNow = Date.parse(`${day}T10:00:00Z`);
      const sandbox = await sandboxWith({
        tokenTtlSeconds: 60,
        clock: { now: () => new Date((serverNow += seconds(3_600))) },
      });
      const { client } = spotifyClientFor(sandbox, { clock: manualClock() });

      const error = await client.tracks([idAt(0)], { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(UnauthorizedError);
      expect(error).toMatchObject({ status: 401, retryable: false });
      expect(sandbox.stats.requests.token).toBe(2);
      expect(sandbox.stats.requests.tracks).toBe(2);
    });

    it('does not renew again when a stale 401 arrives after another call already renewed', async () => {
      const serverClock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 3_600, clock: serverClock });
      // B's answer is held on its way back, so that it reaches the client after A's renewal.
      let releaseB!: () => void;
      const bHeld = new Promise<void>((resolve) => (releaseB = resolve));
      const proxy = await startLocalHttpServer(async (request) => {
        const response = await fetch(`${sandbox.url}${request.url}`, {
          headers: { authorization: request.headers.authorization ?? '' },
        });
        const text = await response.text();
        if (request.url.includes(idAt(1))) await bHeld;
        return { status: response.status, body: text ? (JSON.parse(text) as object) : null };
      });
      try {
        const { client } = spotifyClientFor(
          { ...sandbox, apiUrl: `${proxy.url}/v1` },
          { clock: manualClock() },
        );
        await client.tracks([idAt(0)], { asOf: day });

        // The server drops the first token; B is refused with it, but its 401 is held back.
        serverClock.advance(seconds(3_601));
        const b = client.tracks([idAt(1)], { asOf: day });
        await eventually(() => sandbox.stats.unauthorized === 1);
        // A meets its own 401 and renews.
        await client.tracks([idAt(2)], { asOf: day });
        expect(sandbox.stats.requests.token).toBe(2);
        // B's stale 401 arrives: it retries with the token A got, and asks for none.
        releaseB();

        expect(await b).toEqual([expect.objectContaining({ id: idAt(1) })]);
        expect(sandbox.stats.requests.token).toBe(2);
        expect(sandbox.stats.unauthorized).toBe(2);
      } finally {
        releaseB();
        await proxy.close();
      }
    });

    it('renews once when calls in flight together all meet a 401, while the new token is on its way', async () => {
      const serverClock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 3_600, clock: serverClock });
      const { client } = spotifyClientFor(sandbox, { clock: manualClock() });
      await client.tracks([idAt(0)], { asOf: day });

      serverClock.advance(seconds(3_601));
      // The new token takes a while: the other calls' 401s arrive while none is held.
      sandbox.faults.slow({ provider: 'spotify', endpoint: 'token', delayMs: 200, count: 1 });
      const answers = await Promise.all([1, 2, 3].map((i) => client.tracks([idAt(i)], { asOf: day })));

      expect(answers.map((a) => (a[0] as { id: string }).id)).toEqual([idAt(1), idAt(2), idAt(3)]);
      expect(sandbox.stats.unauthorized).toBe(3);
      expect(sandbox.stats.requests.token).toBe(2);
    });

    it('tells the circuit breaker which ids the call after a 401 asked about, so one bad id does not switch the endpoint off', async () => {
      const serverClock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 3_600, clock: serverClock });
      const breakers = new CircuitBreakers(systemClock, { failures: 2 });
      const { client } = spotifyClientFor(sandbox, {
        clock: manualClock(),
        breakers,
        retry: { ...fastRetry, retries: 3 },
      });
      await client.tracks([idAt(0)], { asOf: day });
      sandbox.faults.failTrackLookups([idAt(1)]);

      serverClock.advance(seconds(3_601));
      const error = await client.tracks([idAt(1)], { asOf: day }).catch((e: unknown) => e);

      // Four failed attempts, after the 401's renewal, all blamed on the one id.
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).not.toBeInstanceOf(CircuitOpenError);
      expect(error).toMatchObject({ status: 500 });
      expect(sandbox.stats.requests.token).toBe(2);
      expect(breakers.opened()).toEqual([]);
      expect(await client.tracks([idAt(2)], { asOf: day })).toEqual([
        expect.objectContaining({ id: idAt(2) }),
      ]);
    });

    it('renews a short-lived token halfway through its life, not earlier', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 4, clock });
      const { client } = spotifyClientFor(sandbox, { clock });
      let elapsed = 0;
      const tokensAfterCallAt = async (ms: number) => {
        clock.advance(ms - elapsed);
        elapsed = ms;
        await client.tracks([idAt(ms / 1_000)], { asOf: day });
        return sandbox.stats.requests.token;
      };

      // A 4 s token is renewed 2 s before it expires: from 2 s on, and not before.
      expect(await tokensAfterCallAt(0)).toBe(1);
      expect(await tokensAfterCallAt(1_999)).toBe(1);
      expect(await tokensAfterCallAt(2_000)).toBe(2);
      expect(await tokensAfterCallAt(3_999)).toBe(2);
      expect(sandbox.stats.unauthorized).toBe(0);
    });

    it('renews a long-lived token 60 s before it expires, from that very moment', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ tokenTtlSeconds: 3_600, clock });
      const { client } = spotifyClientFor(sandbox, { clock });

      await client.tracks([idAt(0)], { asOf: day });
      clock.advance(seconds(3_540) - 1);
      await client.tracks([idAt(1)], { asOf: day });
      expect(sandbox.stats.requests.token).toBe(1);
      clock.advance(1);
      await client.tracks([idAt(2)], { asOf: day });

      expect(sandbox.stats.requests.token).toBe(2);
    });

    it('reports bad credentials clearly, without the secret, and does not retry them', async () => {
      const sandbox = await sandboxWith();
      const wrongSecret = 'wrong-secret-Zq9Xv7';
      const cases = [
        { clientId: sandbox.credentials.clientId, clientSecret: wrongSecret },
        { clientId: 'not-the-client-id', clientSecret: sandbox.credentials.clientSecret },
      ];
      for (const credentials of cases) {
        sandbox.stats.reset();
        const secrets = new EnvSecrets({ [SecretName.spotify]: JSON.stringify(credentials) });
        const { client } = spotifyClientFor(sandbox, { secrets });

        const error = await client.tracks([idAt(0)], { asOf: day }).catch((e: unknown) => e);

        expect(error).toBeInstanceOf(ProviderRejectedError);
        const rejected = error as ProviderRejectedError;
        expect(rejected).toMatchObject({ status: 400, provider: 'spotify', retryable: false });
        expect(rejected.message).toMatch(/POST \/api\/token: HTTP 400 .*invalid_client/);
        const basic = Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64');
        const everything = [
          rejected.message,
          rejected.stack,
          JSON.stringify(rejected),
          String(rejected.cause),
        ];
        for (const text of everything) {
          expect(text).not.toContain(credentials.clientSecret);
          expect(text).not.toContain(basic);
        }
        expect(sandbox.stats.requests.token).toBe(1);
        expect(sandbox.stats.requests.tracks).toBe(0);
      }
    });

    it('throws a ConfigError naming the secret when the secret store has no "spotify", before any request', async () => {
      const sandbox = await sandboxWith();
      const { client, counter } = spotifyClientFor(sandbox, { secrets: new EnvSecrets({}) });

      const error = await client.tracks([idAt(0)], { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        'The Spotify credentials are missing from the secret store (secret "spotify").',
      );
      expect(sandbox.stats.total).toBe(0);
      expect(counter.snapshot()).toEqual({});
    });

    it.each([
      ['not JSON', 'clientId=hunter2-id;clientSecret=hunter2-secret', /"spotify" is not JSON/],
      [
        'an empty secret',
        '{"clientId":"hunter2-id","clientSecret":""}',
        /"spotify" is malformed: ✖ Too small: .* → at clientSecret$/,
      ],
      [
        'the wrong field names',
        '{"client_id":"hunter2-id","client_secret":"hunter2-secret"}',
        /"spotify" is malformed: ✖ .* → at clientId; ✖ .* → at clientSecret$/,
      ],
      [
        'a number for the id',
        '{"clientId":4242,"clientSecret":"hunter2-secret"}',
        /malformed: ✖ Invalid input: expected string, received number → at clientId$/,
      ],
      [
        'not an object',
        '["hunter2-id","hunter2-secret"]',
        /malformed: ✖ Invalid input: expected object, received array$/,
      ],
    ])('throws a ConfigError naming the secret, not its value, when it is %s', async (_, value, message) => {
      const sandbox = await sandboxWith();
      const secrets = new EnvSecrets({ [SecretName.spotify]: value });
      const { client } = spotifyClientFor(sandbox, { secrets });

      const error = await client.tracks([idAt(0)], { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConfigError);
      const config = error as ConfigError;
      expect(config.message).toMatch(message);
      for (const text of [config.message, config.stack, JSON.stringify(config), String(config.cause)]) {
        expect(text).not.toContain('hunter2');
        expect(text).not.toContain('4242');
      }
      expect(sandbox.stats.total).toBe(0);
    });
  });

  describe('playlistItems', () => {
    it('walks every page of the 200-entry global chart, 50 at a time, following next', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      const pages = await client.playlistItems(sandboxPlaylistId('global'), { asOf: day });

      expect(pages.map((p) => [p.offset, p.limit, p.items.length, p.total])).toEqual([
        [0, 50, 50, 200],
        [50, 50, 50, 200],
        [100, 50, 50, 200],
        [150, 50, 50, 200],
      ]);
      expect(pages.map((p) => p.next === null)).toEqual([false, false, false, true]);
      const ids = pages.flatMap((p) => p.items.map((i) => (i.item as { id: string }).id));
      expect(ids).toEqual(chart);
      expect(sandbox.stats.requests.playlistItems).toBe(4);
    });

    it('asks for the fields it is given on every page, and gets only those', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      const pages = await client.playlistItems(sandboxPlaylistId('global'), {
        asOf: day,
        fields: 'items(item(id)),next,offset,limit,total',
      });

      expect(pages).toHaveLength(4);
      for (const page of pages) {
        expect(Object.keys(page).sort()).toEqual(['items', 'limit', 'next', 'offset', 'total']);
        for (const entry of page.items) expect(entry).toEqual({ item: { id: expect.any(String) } });
      }
      expect(pages.flatMap((p) => p.items.map((i) => (i.item as { id: string }).id))).toEqual(chart);
    });

    it('sends the as-of day, which decides the chart, on every page', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);
      const idsOn = async (date: string) =>
        (await client.playlistItems(sandboxPlaylistId('global'), { asOf: date })).flatMap((p) =>
          p.items.map((i) => (i.item as { id: string }).id),
        );

      const [onDay, onOtherDay] = [await idsOn(day), await idsOn(otherDay)];

      expect(onDay).toEqual(sandbox.catalog.chartFor('global', day));
      expect(onOtherDay).toEqual(sandbox.catalog.chartFor('global', otherDay));
      expect(onOtherDay).not.toEqual(onDay);
    });

    it('does not send the as-of day unless sendAsOf is set: the sandbox answers as of its today', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox, { sendAsOf: false });

      const pages = await client.playlistItems(sandboxPlaylistId('global'), { asOf: otherDay });

      const ids = pages.flatMap((p) => p.items.map((i) => (i.item as { id: string }).id));
      expect(ids).toEqual(sandbox.catalog.chartFor('global', day));
    });

    it('passes a playlist the app may not read on as a ProviderRejectedError, without retrying', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      const error = await client.playlistItems('37i9dQZEVXbMDoHDwVN2tF').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ status: 404 });
      expect(sandbox.stats.requests.playlistItems).toBe(1);
    });
  });

  describe('tracks and audioFeatures', () => {
    it('takes 1 to 50 track ids and 1 to 100 audio-features ids a call, refusing others before any request', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      await expect(client.tracks([])).rejects.toThrow(
        new RangeError('Spotify tracks take 1 to 50 ids a call, not 0'),
      );
      await expect(client.tracks(chart.slice(0, 51))).rejects.toThrow(
        new RangeError('Spotify tracks take 1 to 50 ids a call, not 51'),
      );
      await expect(client.audioFeatures([])).rejects.toThrow(
        new RangeError('Spotify audio features take 1 to 100 ids a call, not 0'),
      );
      await expect(client.audioFeatures(chart.slice(0, 101))).rejects.toThrow(
        new RangeError('Spotify audio features take 1 to 100 ids a call, not 101'),
      );
      expect(sandbox.stats.total).toBe(0);

      expect(await client.tracks(chart.slice(0, 50), { asOf: day })).toHaveLength(50);
      expect(await client.audioFeatures(chart.slice(0, 100), { asOf: day })).toHaveLength(100);
      expect(sandbox.stats.requests).toMatchObject({ tracks: 1, audioFeatures: 1 });
    });

    it('answers null where the sandbox knows no such track', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      const answer = await client.tracks([idAt(0), '0000000000000000000000'], { asOf: day });

      expect(answer).toEqual([expect.objectContaining({ id: idAt(0) }), null]);
    });
  });

  describe('track', () => {
    it('looks up one track by id, and passes an unknown id on as a 404 without retrying', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);

      expect(await client.track(idAt(3), { asOf: day })).toMatchObject({ id: idAt(3) });
      const error = await client.track('0000000000000000000000', { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ provider: 'spotify', status: 404 });
      expect(sandbox.stats.requests.track).toBe(2);
    });

    it('names the endpoint, never the id, in the error of a failing lookup', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox);
      sandbox.faults.failTrackLookups([idAt(0)]);

      const error = await client.track(idAt(0), { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderError);
      expect((error as Error).message).toBe('spotify GET /v1/tracks/{id}: HTTP 500');
    });
  });

  describe('errors', () => {
    it('names the endpoint of a failing call, never an id', async () => {
      const sandbox = await sandboxWith();
      const { client } = spotifyClientFor(sandbox, { retry: { ...fastRetry, retries: 0 } });
      const messageOf = async (call: Promise<unknown>) =>
        ((await call.catch((e: unknown) => e)) as Error).message;

      sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'playlistItems' });
      expect(await messageOf(client.playlistItems(sandboxPlaylistId('global'), { asOf: day }))).toBe(
        'spotify GET /v1/playlists/{id}/items: HTTP 500',
      );
      sandbox.faults.serverErrors({ provider: 'spotify', endpoint: 'audioFeatures' });
      expect(await messageOf(client.audioFeatures([idAt(0)], { asOf: day }))).toBe(
        'spotify GET /v1/audio-features: HTTP 500',
      );
    });
  });

  describe('base URLs', () => {
    it('takes the API and accounts bases with or without trailing slashes', async () => {
      const sandbox = await sandboxWith();
      for (const slashes of ['/', '//']) {
        const { client } = spotifyClientFor({
          ...sandbox,
          apiUrl: `${sandbox.apiUrl}${slashes}`,
          accountsUrl: `${sandbox.accountsUrl}${slashes}`,
          credentials: sandbox.credentials,
        });

        expect(await client.tracks([idAt(0)], { asOf: day })).toEqual([
          expect.objectContaining({ id: idAt(0) }),
        ]);
        expect(await client.track(idAt(1), { asOf: day })).toMatchObject({ id: idAt(1) });
        expect(await client.audioFeatures([idAt(2)], { asOf: day })).toEqual([
          expect.objectContaining({ id: idAt(2) }),
        ]);
        const pages = await client.playlistItems(sandboxPlaylistId('global'), { asOf: day });
        expect(pages.flatMap((p) => p.items.map((i) => (i.item as { id: string }).id))).toEqual(chart);
      }
      expect(sandbox.stats.unauthorized).toBe(0);
    });
  });

  describe('rate limit', () => {
    it('sleeps out short Retry-After answers, so a burst of calls all succeed', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ clock, rateLimit: { requests: 3, windowMs: 2_000 } });
      const { client } = spotifyClientFor(sandbox, { clock });

      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => client.tracks([idAt(i)], { asOf: day })),
      );

      expect(answers.map((a) => (a[0] as { id: string }).id)).toEqual(chart.slice(0, 12));
      const { rateLimited, requests } = sandbox.stats.snapshot();
      expect(rateLimited).toBeGreaterThan(0);
      expect(clock.sleeps).toHaveLength(rateLimited);
      for (const ms of clock.sleeps) expect([1_000, 2_000]).toContain(ms);
      expect(requests.tracks).toBe(12 + rateLimited);
      expect(requests.token).toBe(1);
    });

    it('hands a Retry-After longer than maxInlineWaitMs back as RateLimitedError, without sleeping', async () => {
      const clock = manualClock();
      const sandbox = await sandboxWith({ clock, rateLimit: { requests: 1, windowMs: 60_000 } });
      const { client } = spotifyClientFor(sandbox, {
        clock,
        retry: { ...fastRetry, maxInlineWaitMs: 10_000 },
      });
      await client.tracks([idAt(0)], { asOf: day });

      const error = await client.tracks([idAt(1)], { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ provider: 'spotify', retryAfterMs: 60_000, retryable: true });
      expect(clock.sleeps).toEqual([]);
      expect(sandbox.stats.requests.tracks).toBe(2);
    });
  });

  describe('server errors', () => {
    it('retries a 500 `retries` times, then throws a retryable ProviderError', async () => {
      const sandbox = await sandboxWith();
      const retries = 3;
      const { client, counter } = spotifyClientFor(sandbox, { retry: { ...fastRetry, retries } });
      sandbox.faults.failTrackLookups([idAt(1)]);

      const error = await client.tracks([idAt(0), idAt(1)], { asOf: day }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'spotify', status: 500, retryable: true });
      expect((error as Error).message).toBe('spotify GET /v1/tracks: HTTP 500');
      expect(sandbox.stats.requests.tracks).toBe(retries + 1);
      expect(counter.snapshot()).toEqual({ spotify: 1 + retries + 1 });

      sandbox.faults.clear();
      expect(await client.tracks([idAt(0), idAt(1)], { asOf: day })).toHaveLength(2);
    });
  });
});
