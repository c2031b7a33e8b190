import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  InvalidRecordError,
  ProviderError,
  ProviderRejectedError,
  RateLimitedError,
} from '../../../shared/errors.js';
import {
  JsonClient,
  parseRetryAfter,
  UnauthorizedError,
  type RetryPolicy,
} from '../../../shared/http/json-client.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { trackSchema } from '../../../shared/spotify/schemas.js';
import {
  closedPort,
  startLocalHttpServer,
  type LocalAnswer,
  type LocalHttpServer,
} from './local-http-server.js';
import { manualClock } from './manual-clock.js';

const policy: RetryPolicy = { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 10_000 };
const anything = z.unknown();
const okSchema = z.object({ ok: z.literal(true) });

describe('Class: JsonClient', () => {
  let server: LocalHttpServer;
  // Each test queues the answers the server gives, one per request; the last one repeats.
  let script: LocalAnswer[] = [];

  beforeAll(async () => {
    server = await startLocalHttpServer(
      () => (script.length > 1 ? script.shift() : script[0]) ?? { status: 500 },
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  afterEach(() => {
    script = [];
    server.received.length = 0;
  });

  const setup = (retry: RetryPolicy = policy) => {
    const counter = new RequestCounter();
    const clock = manualClock();
    return { counter, clock, client: new JsonClient('local', counter, clock, retry) };
  };
  const get = <T>(client: JsonClient, schema: z.ZodType<T> = anything as z.ZodType<T>) =>
    client.request({ url: `${server.url}/thing?x=1`, schema, what: 'GET /thing' });

  it('sends the method, headers and body, and returns the validated answer', async () => {
    script = [{ body: { ok: true, extra: 'kept out by the schema' } }];
    const { client, counter } = setup();

    const answer = await client.request({
      url: `${server.url}/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'yes' },
      body: 'grant_type=client_credentials',
      schema: okSchema,
      what: 'POST /token',
    });

    expect(answer).toEqual({ ok: true });
    expect(server.received).toMatchObject([
      {
        method: 'POST',
        url: '/token',
        body: 'grant_type=client_credentials',
        headers: { accept: 'application/json', 'x-custom': 'yes' },
      },
    ]);
    expect(counter.snapshot()).toEqual({ local: 1 });
  });

  it('retries a 200 whose body is not JSON, then throws a retryable ProviderError', async () => {
    script = [{ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok": tru' }];
    const { client, counter } = setup();

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      provider: 'local',
      status: 200,
      retryable: true,
      message: 'local GET /thing: the answer is not JSON',
    });
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    expect(server.received).toHaveLength(policy.retries + 1);
    expect(counter.snapshot()).toEqual({ local: policy.retries + 1 });
  });

  it('gets past a garbled body when the next attempt is whole', async () => {
    script = [{ body: '<html>502 Bad Gateway</html>' }, { body: { ok: true } }];
    const { client } = setup();

    expect(await get(client, okSchema)).toEqual({ ok: true });
    expect(server.received).toHaveLength(2);
  });

  it('throws an InvalidRecordError naming the field path when the answer does not match, without retrying', async () => {
    const track = { id: 'abc', name: 'x', duration_ms: 1, explicit: false, album: { id: 'al', name: 'A' } };
    script = [{ body: { tracks: [track, { ...track, artists: [{ id: 'not an id!', name: 'A' }] }] } }];
    const { client } = setup();

    const error = await get(client, z.object({ tracks: z.array(trackSchema) })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidRecordError);
    const message = (error as Error).message;
    expect(message).toMatch(/^local GET \/thing: unexpected answer: /);
    expect(message).toContain('→ at tracks[0].artists');
    expect(message).toContain('✖ not a Spotify id → at tracks[1].artists[0].id');
    expect(error).toMatchObject({ retryable: false });
    expect(server.received).toHaveLength(1);
  });

  it('retries a 503 and returns the answer that follows', async () => {
    script = [
      { status: 503, body: { error: 'busy' } },
      { status: 502, body: 'bad gateway' },
      { body: { ok: true } },
    ];
    const { client, counter } = setup();

    expect(await get(client, okSchema)).toEqual({ ok: true });
    expect(counter.snapshot()).toEqual({ local: 3 });
  });

  it('jitters the backoff, so that requests failing together do not all retry together', async () => {
    // Each request fails once, then is answered; the server notes how long each waited to retry.
    const firstAt = new Map<string, number>();
    const waits: number[] = [];
    const own = await startLocalHttpServer((request) => {
      const now = performance.now();
      const first = firstAt.get(request.url);
      if (first === undefined) {
        firstAt.set(request.url, now);
        return { status: 503, body: 'busy' };
      }
      waits.push(now - first);
      return { body: { ok: true } };
    });
    try {
      const client = new JsonClient('local', new RequestCounter(), manualClock(), {
        ...policy,
        minTimeoutMs: 100,
        maxTimeoutMs: 1_000,
      });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          client.request({ url: `${own.url}/thing?n=${i}`, schema: okSchema, what: 'GET /thing' }),
        ),
      );
    } finally {
      await own.close();
    }

    // Without jitter each waits the same 100 ms; with it, between 100 and 200 ms each.
    expect(waits).toHaveLength(20);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(95);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(30);
  });

  it('throws a ProviderError with the status after retries+1 attempts at a 5xx', async () => {
    script = [{ status: 500, body: { error: { status: 500, message: 'Server error' } } }];
    const { client } = setup({ ...policy, retries: 4 });

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 500, message: 'local GET /thing: HTTP 500' });
    expect(server.received).toHaveLength(5);
  });

  it('reads any 2xx as an answer, and a 3xx as a refusal', async () => {
    const { client } = setup();
    script = [{ status: 299, body: { ok: true } }];
    expect(await get(client, okSchema)).toEqual({ ok: true });

    script = [{ status: 300, body: { ok: true } }];
    await expect(get(client, okSchema)).rejects.toMatchObject({ name: 'ProviderRejectedError', status: 300 });
  });

  it('throws an UnauthorizedError on a 401, without retrying', async () => {
    script = [{ status: 401, body: { error: { status: 401, message: 'The access token expired' } } }];
    const { client } = setup();

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).toMatchObject({
      name: 'UnauthorizedError',
      status: 401,
      provider: 'local',
      retryable: false,
    });
    expect(server.received).toHaveLength(1);
  });

  it('throws a ProviderRejectedError for another 4xx, with the start of the body, without retrying', async () => {
    script = [{ status: 404, body: `{"error":{"status":404,"message":"${'x'.repeat(500)}"}}` }];
    const { client } = setup();

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderRejectedError);
    expect(error).not.toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ status: 404, retryable: false });
    const message = (error as Error).message;
    expect(message.startsWith('local GET /thing: HTTP 404 {"error":{"status":404')).toBe(true);
    expect(message.length).toBe('local GET /thing: HTTP 404 '.length + 200);
    expect(server.received).toHaveLength(1);
  });

  it('sleeps a short Retry-After on the clock and tries again, not counting it as a retry', async () => {
    const limited: LocalAnswer = { status: 429, headers: { 'retry-after': '2' }, body: { error: 'limited' } };
    script = [limited, limited, limited, { body: { ok: true } }];
    const { client, clock, counter } = setup({ ...policy, retries: 0 });

    expect(await get(client, okSchema)).toEqual({ ok: true });
    expect(clock.sleeps).toEqual([2_000, 2_000, 2_000]);
    expect(counter.snapshot()).toEqual({ local: 4 });
  });

  it('hands back a provider that keeps answering 429 once the waits add up past maxInlineWaitMs', async () => {
    script = [{ status: 429, headers: { 'retry-after': '1' }, body: {} }];
    const { client, clock } = setup({ ...policy, maxInlineWaitMs: 2_500 });

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
    expect(server.received).toHaveLength(3);
  });

  it('sleeps waits that add up to exactly maxInlineWaitMs, and hands back the one that would pass it', async () => {
    script = [{ status: 429, headers: { 'retry-after': '1' }, body: {} }];
    const { client, clock } = setup({ ...policy, maxInlineWaitMs: 2_000 });

    await expect(get(client)).rejects.toBeInstanceOf(RateLimitedError);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
    expect(server.received).toHaveLength(3);
  });

  it('reads Retry-After as an HTTP date against the clock, and sleeps a second when it is missing', async () => {
    const { client, clock } = setup();
    const inThreeSeconds = new Date(clock.now().getTime() + 3_000).toUTCString();
    script = [
      { status: 429, headers: { 'retry-after': inThreeSeconds }, body: {} },
      { status: 429, body: {} },
      { body: { ok: true } },
    ];

    await get(client, okSchema);

    expect(clock.sleeps).toEqual([3_000, 1_000]);
  });

  it('hands a Retry-After longer than maxInlineWaitMs back as RateLimitedError, at once', async () => {
    script = [{ status: 429, headers: { 'retry-after': '3600' }, body: { error: 'limited' } }];
    const { client, clock } = setup();

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ provider: 'local', retryAfterMs: 3_600_000, retryable: true });
    expect((error as Error).message).toBe('local GET /thing: rate limited for 1 h');
    expect(clock.sleeps).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it('hands a daily quota (QUOTA_EXCEEDED) back as RateLimitedError even when Retry-After is short', async () => {
    script = [
      {
        status: 429,
        headers: { 'retry-after': '1' },
        body: { error: { status: 429, message: 'Quota exceeded', reason: 'QUOTA_EXCEEDED' } },
      },
    ];
    const { client, clock } = setup();

    const error = await get(client).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 1_000 });
    expect(clock.sleeps).toEqual([]);
    expect(server.received).toHaveLength(1);
  });

  it('retries a network error, then throws a ProviderError with the cause', async () => {
    const { client, counter } = setup();
    const port = await closedPort();

    const error = await client
      .request({ url: `http://127.0.0.1:${port}/thing`, schema: anything, what: 'GET /thing' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'local', status: undefined, retryable: true });
    expect((error as Error).message).toMatch(/^local GET \/thing: /);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(counter.snapshot()).toEqual({ local: policy.retries + 1 });
  });
});

describe('Function: parseRetryAfter', () => {
  const now = new Date('2026-03-02T10:00:00Z');

  it.each([
    { value: '0', ms: 0 },
    { value: '1', ms: 1_000 },
    { value: '2.5', ms: 2_500 },
    { value: '86400', ms: 86_400_000 },
    { value: '-3', ms: 0 },
    { value: 'Mon, 02 Mar 2026 10:00:30 GMT', ms: 30_000 },
    { value: 'Mon, 02 Mar 2026 09:59:00 GMT', ms: 0 },
    { value: null, ms: 1_000 },
    { value: '', ms: 1_000 },
    { value: 'soon', ms: 1_000 },
  ])('reads $value as $ms ms', ({ value, ms }) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('Class: RequestCounter', () => {
  it('counts per provider, lists them by name, and starts again on reset', () => {
    const counter = new RequestCounter();
    for (const provider of ['spotify', 'reccobeats', 'spotify']) counter.record(provider);

    expect(Object.entries(counter.snapshot())).toEqual([
      ['reccobeats', 1],
      ['spotify', 2],
    ]);
    counter.reset();
    expect(counter.snapshot()).toEqual({});
  });
});
