import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { CircuitOpenError, ProviderError, RateLimitedError } from '../../../shared/errors.js';
import { CircuitBreakers, type BreakerSettings } from '../../../shared/http/circuit-breaker.js';
import { JsonClient, type RetryPolicy } from '../../../shared/http/json-client.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import { startLocalHttpServer, type LocalAnswer, type LocalHttpServer } from './local-http-server.js';
import { manualClock } from './manual-clock.js';

const policy: RetryPolicy = { retries: 4, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 10_000 };
const anything = z.unknown();
const healthy: LocalAnswer = { body: { ok: true } };

describe('Class: CircuitBreakers, through JsonClient over real HTTP', () => {
  let server: LocalHttpServer;
  // What each path answers; a path not scripted answers 200.
  let answers: Record<string, (path: string) => LocalAnswer | Promise<LocalAnswer>> = {};

  beforeAll(async () => {
    server = await startLocalHttpServer((request) => {
      const path = request.url.split('?')[0]!;
      return (answers[path] ?? (() => healthy))(path);
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => {
    answers = {};
    server.received.length = 0;
  });

  const setup = (settings: Partial<BreakerSettings>, clock: Clock = manualClock(), retry = policy) => {
    const breakers = new CircuitBreakers(clock, settings);
    const opened: string[] = [];
    breakers.onOpen((b) => opened.push(`${b.endpoint}: ${b.reason}`));
    const client = new JsonClient('local', new RequestCounter(), clock, retry, undefined, breakers);
    return { breakers, client, opened };
  };
  const get = (client: JsonClient, path: string, ids?: string[]) =>
    client.request({
      url: `${server.url}${path}?ids=${(ids ?? []).join(',')}`,
      schema: anything,
      what: `GET ${path}`,
      ...(ids ? { ids } : {}),
    });
  const requestsTo = (path: string) => server.received.filter((r) => r.url.startsWith(`${path}?`)).length;

  it('opens an endpoint after N failed attempts at a persistent 5xx, retries included, and then fails at once without a request', async () => {
    answers['/broken'] = () => ({ status: 503, body: 'down' });
    const { client, breakers, opened } = setup({ failures: 3 });

    const first = await get(client, '/broken').catch((e: unknown) => e);

    // Three attempts, not the policy's five: p-retry stops once the endpoint is open.
    expect(requestsTo('/broken')).toBe(3);
    expect(first).toBeInstanceOf(CircuitOpenError);
    expect(first).toBeInstanceOf(ProviderError);
    expect(first).toMatchObject({
      provider: 'local',
      endpoint: 'GET /broken',
      lastError: 'open after 3 failures; HTTP 503',
    });
    expect(opened).toEqual(['local GET /broken: open after 3 failures']);

    const next = await get(client, '/broken').catch((e: unknown) => e);
    expect(next).toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/broken')).toBe(3);
    expect(breakers.opened()).toEqual([
      expect.objectContaining({
        endpoint: 'local GET /broken',
        reason: 'open after 3 failures',
        lastError: 'HTTP 503',
      }),
    ]);

    // Another endpoint of the same provider is not affected.
    expect(await get(client, '/fine')).toEqual({ ok: true });
    expect(requestsTo('/fine')).toBe(1);
  });

  it('opens an endpoint that keeps answering malformed JSON the same way', async () => {
    answers['/garbled'] = () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"ok": tr',
    });
    const { client, breakers } = setup({ failures: 4 });

    const first = await get(client, '/garbled').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/garbled')).toBe(4);

    await expect(get(client, '/garbled')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/garbled')).toBe(4);
    expect(breakers.opened()).toMatchObject([
      { endpoint: 'local GET /garbled', lastError: 'the answer is not JSON' },
    ]);
    expect(await get(client, '/fine')).toEqual({ ok: true });
  });

  it('opens a slow endpoint once the time it cost passes its budget, though it answers', async () => {
    answers['/slow'] = () => new Promise((resolve) => setTimeout(() => resolve(healthy), 200));
    const { client, breakers } = setup({ failures: 3, budgetMs: 500, slowAnswerMs: 50 }, systemClock);

    const outcomes: unknown[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await get(client, '/slow').catch((e: unknown) => e));

    // Each answer took 200 ms or more: by the third the 500 ms are spent, and the rest fail at once.
    const answered = outcomes.filter((o) => !(o instanceof CircuitOpenError)).length;
    expect(answered).toBeGreaterThanOrEqual(1);
    expect(answered).toBeLessThanOrEqual(3);
    expect(outcomes.slice(0, answered)).toEqual(Array.from({ length: answered }, () => ({ ok: true })));
    expect(outcomes.slice(answered).every((o) => o instanceof CircuitOpenError)).toBe(true);
    expect(requestsTo('/slow')).toBe(answered);
    expect(breakers.opened()).toMatchObject([{ endpoint: 'local GET /slow', reason: 'spent its 0.5 s' }]);
  });

  it('counts the wall time requests side by side cost once, not once per request', async () => {
    answers['/slow'] = () => new Promise((resolve) => setTimeout(() => resolve(healthy), 120));
    const { client, breakers } = setup({ failures: 3, budgetMs: 300, slowAnswerMs: 50 }, systemClock);

    // Six slow answers at once cost about 120 ms of the endpoint's time, not 720.
    const answered = await Promise.all(Array.from({ length: 6 }, () => get(client, '/slow')));

    expect(answered).toHaveLength(6);
    expect(breakers.opened()).toEqual([]);
  });

  it('counts 429 waits against the budget, but never a 429 as a failure', async () => {
    answers['/limited'] = () => ({ status: 429, headers: { 'retry-after': '1' }, body: {} });
    const clock = manualClock();
    const { client, breakers } = setup({ failures: 2, budgetMs: 2_500 }, clock, {
      ...policy,
      maxInlineWaitMs: 1_500,
    });

    // One wait of a second each, then handed back: many 429s in a row, no opening.
    for (let i = 0; i < 2; i++)
      await expect(get(client, '/limited')).rejects.toBeInstanceOf(RateLimitedError);
    expect(breakers.opened()).toEqual([]);
    // The third wait passes 2.5 s: the endpoint has held the run long enough.
    await expect(get(client, '/limited')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breakers.opened()).toMatchObject([{ endpoint: 'local GET /limited', reason: 'spent its 2.5 s' }]);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it('blames failures that one id explains on that id, not the endpoint, and opens when they share none', async () => {
    // The poison id breaks every call it is part of, as a bisection narrows it down.
    answers['/tracks'] = () => ({ status: 500, body: 'boom' });
    const { client, breakers } = setup({ failures: 3 }, manualClock(), { ...policy, retries: 0 });

    for (const ids of [['a', 'b', 'poison', 'c'], ['b', 'poison'], ['poison'], ['poison']])
      await expect(get(client, '/tracks', ids)).rejects.not.toBeInstanceOf(CircuitOpenError);
    expect(breakers.opened()).toEqual([]);

    // A failure that shares no id with the others: the endpoint is down, not an id.
    await expect(get(client, '/tracks', ['d'])).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/tracks')).toBe(5);
  });

  it('starts counting again after an answer, a 4xx included', async () => {
    let n = 0;
    answers['/flaky'] = () =>
      ++n % 3 === 0 ? { status: 404, body: 'no such thing' } : { status: 500, body: 'x' };
    const { client, breakers } = setup({ failures: 3 }, manualClock(), { ...policy, retries: 0 });

    for (let i = 0; i < 9; i++) await get(client, '/flaky').catch(() => undefined);

    // Never three failures in a row: two, then an answer.
    expect(breakers.opened()).toEqual([]);
    expect(requestsTo('/flaky')).toBe(9);
    // Three in a row do open it.
    answers['/flaky'] = () => ({ status: 500, body: 'x' });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await get(client, '/flaky').catch((e: unknown) => e));
    expect(outcomes.map((o) => o instanceof CircuitOpenError)).toEqual([false, false, true]);
  });

  it('with a cool-down (on Lambda), lets one request probe the endpoint again, and closes when it answers', async () => {
    let down = true;
    answers['/outage'] = () => (down ? { status: 502, body: 'x' } : healthy);
    const clock = manualClock();
    const { client, breakers } = setup({ failures: 2, coolDownMs: 60_000 }, clock, { ...policy, retries: 0 });

    for (let i = 0; i < 2; i++) await get(client, '/outage').catch(() => undefined);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/outage')).toBe(2);

    // After the cool-down a probe goes; it fails, so the endpoint stays open for another one.
    clock.advance(60_000);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/outage')).toBe(3);

    down = false;
    clock.advance(60_000);
    expect(await get(client, '/outage')).toEqual({ ok: true });
    expect(breakers.opened()).toEqual([]);
    expect(await get(client, '/outage')).toEqual({ ok: true });
  });
});
