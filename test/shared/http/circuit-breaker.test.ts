import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  CircuitOpenError,
  InvalidRecordError,
  ProviderError,
  RateLimitedError,
} from '../../../shared/errors.js';
import { CircuitBreakers, type BreakerSettings } from '../../../shared/http/circuit-breaker.js';
import { JsonClient, type RetryPolicy } from '../../../shared/http/json-client.js';
import { RateLimiter } from '../../../shared/http/rate-limiter.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import { startLocalHttpServer, type LocalAnswer, type LocalHttpServer } from './local-http-server.js';
import { eventually, manualClock } from './manual-clock.js';

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
    const { client, breakers, opened } = setup({ failures: 3, budgetMs: 300, slowAnswerMs: 50 }, systemClock);

    // Six slow answers at once cost about 120 ms of the endpoint's time, not 720.
    const answered = await Promise.all(Array.from({ length: 6 }, () => get(client, '/slow')));

    expect(answered).toHaveLength(6);
    expect(breakers.opened()).toEqual([]);
    // Not even for a moment.
    expect(opened).toEqual([]);
  });

  it('counts 429 waits against the budget, but never a 429 as a failure', async () => {
    answers['/limited'] = () => ({ status: 429, headers: { 'retry-after': '1' }, body: {} });
    const clock = manualClock();
    const { client, breakers } = setup({ failures: 2, budgetMs: 2_000 }, clock, {
      ...policy,
      maxInlineWaitMs: 1_500,
    });

    // One wait of a second each, then handed back: many 429s in a row, no opening; two waits
    // spend the 2 s exactly, not more.
    for (let i = 0; i < 2; i++)
      await expect(get(client, '/limited')).rejects.toBeInstanceOf(RateLimitedError);
    expect(breakers.opened()).toEqual([]);
    // The third wait passes 2 s: the endpoint has held the run long enough.
    await expect(get(client, '/limited')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breakers.opened()).toMatchObject([
      { endpoint: 'local GET /limited', reason: 'spent its 2 s', lastError: 'rate limited for 1 s' },
    ]);
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
    const { client, breakers, opened } = setup({ failures: 2, coolDownMs: 60_000 }, clock, {
      ...policy,
      retries: 0,
    });

    for (let i = 0; i < 2; i++) await get(client, '/outage').catch(() => undefined);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/outage')).toBe(2);

    // After the cool-down a probe goes; it fails, so the endpoint stays open for another one.
    clock.advance(60_000);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(requestsTo('/outage')).toBe(3);
    // It stayed open: it did not open again.
    expect(opened).toEqual(['local GET /outage: open after 2 failures']);

    down = false;
    clock.advance(60_000);
    expect(await get(client, '/outage')).toEqual({ ok: true });
    expect(breakers.opened()).toEqual([]);
    expect(await get(client, '/outage')).toEqual({ ok: true });
  });
  it('lets one request probe after the cool-down while the others still fail at once', async () => {
    let down = true;
    answers['/outage'] = () => (down ? { status: 502, body: 'x' } : healthy);
    const clock = manualClock();
    const { client, breakers } = setup({ failures: 1, coolDownMs: 60_000 }, clock, { ...policy, retries: 0 });
    await expect(get(client, '/outage')).rejects.toBeInstanceOf(CircuitOpenError);

    down = false;
    clock.advance(60_000);
    const outcomes = await Promise.all([0, 1, 2].map(() => get(client, '/outage').catch((e: unknown) => e)));

    expect(outcomes.filter((o) => o instanceof CircuitOpenError)).toHaveLength(2);
    expect(outcomes.filter((o) => !(o instanceof CircuitOpenError))).toEqual([{ ok: true }]);
    expect(requestsTo('/outage')).toBe(2);
    expect(breakers.opened()).toEqual([]);
  });

  it('does not send a request that waited for the rate limiter while its endpoint opened', async () => {
    answers['/broken'] = () => ({ status: 500, body: 'x' });
    const clock = manualClock();
    const breakers = new CircuitBreakers(clock, { failures: 1 });
    // One request per 300 ms: the second waits while the first fails and opens the endpoint.
    const limiter = new RateLimiter({ requests: 1, windowMs: 300 });
    const client = new JsonClient(
      'local',
      new RequestCounter(),
      clock,
      { ...policy, retries: 0 },
      limiter,
      breakers,
    );

    const outcomes = await Promise.all(
      [get(client, '/broken'), get(client, '/broken')].map((p) => p.catch((e: unknown) => e)),
    );

    expect(outcomes.map((o) => o instanceof CircuitOpenError)).toEqual([true, true]);
    expect(requestsTo('/broken')).toBe(1);
  });

  it('starts the budget again when a probe answers', async () => {
    const clock = manualClock();
    // Every answer takes 600 ms of the clock: slow, and two of them spend the 1 s budget.
    answers['/slow'] = () => {
      clock.advance(600);
      return healthy;
    };
    const { client, breakers } = setup({ budgetMs: 1_000, slowAnswerMs: 100, coolDownMs: 60_000 }, clock);

    expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(breakers.opened()).toMatchObject([
      { reason: 'spent its 1 s', lastError: 'an answer took 600 ms' },
    ]);
    await expect(get(client, '/slow')).rejects.toBeInstanceOf(CircuitOpenError);

    clock.advance(60_000);
    // The probe answers (slowly): closed, and nothing of the budget spent yet.
    expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(breakers.opened()).toEqual([]);
    expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(breakers.opened()).toEqual([]);
    expect(requestsTo('/slow')).toBe(4);
  });

  it('counts an answer slower than slowAnswerMs against the budget, and one that takes exactly that not', async () => {
    const clock = manualClock();
    let takesMs = 1_000;
    answers['/slow'] = () => {
      clock.advance(takesMs);
      return healthy;
    };
    const { client, breakers } = setup({ budgetMs: 500, slowAnswerMs: 1_000 }, clock);

    for (let i = 0; i < 3; i++) expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(breakers.opened()).toEqual([]);

    takesMs = 1_001;
    expect(await get(client, '/slow')).toEqual({ ok: true });
    expect(breakers.opened()).toMatchObject([
      { reason: 'spent its 0.5 s', lastError: 'an answer took 1001 ms' },
    ]);
  });

  it('blames failures on an id afresh after an answer: an earlier failure does not make them look unrelated', async () => {
    let n = 0;
    // A failure, an answer, then three failures that all hold the id b.
    answers['/tracks'] = () =>
      ++n === 2 ? { status: 404, body: 'no such thing' } : { status: 500, body: 'x' };
    const { client, breakers } = setup({ failures: 3 }, manualClock(), { ...policy, retries: 0 });

    for (const ids of [['a'], ['c'], ['b'], ['b', 'd'], ['b']])
      await get(client, '/tracks', ids).catch(() => undefined);

    expect(breakers.opened()).toEqual([]);
    expect(requestsTo('/tracks')).toBe(5);
  });

  it('counts an answer of the wrong shape as a failure', async () => {
    answers['/shape'] = () => ({ body: { ok: 'yes' } });
    const { client, breakers } = setup({ failures: 2 });
    const request = () =>
      client.request({
        url: `${server.url}/shape?ids=`,
        schema: z.object({ ok: z.boolean() }),
        what: 'GET /shape',
      });

    await expect(request()).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(request()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breakers.opened()).toMatchObject([
      { reason: 'open after 2 failures', lastError: expect.stringMatching(/^unexpected answer: /) },
    ]);
    // Not retried: two requests, one per call.
    expect(requestsTo('/shape')).toBe(2);
  });

  it('does not ask an open endpoint again in place, even when its cool-down is over at once', async () => {
    answers['/broken'] = () => ({ status: 500, body: 'x' });
    const { client } = setup({ failures: 1, coolDownMs: 0 });

    await expect(get(client, '/broken')).rejects.toBeInstanceOf(CircuitOpenError);
    // The policy's four retries were not spent probing it.
    expect(requestsTo('/broken')).toBe(1);
  });

  it('does not blame the endpoint for a failure before its request left (the token could not be had)', async () => {
    const { client, breakers } = setup({ failures: 2 }, manualClock(), { ...policy, retries: 0 });
    const request = () =>
      client.request({
        url: `${server.url}/tracks?ids=`,
        schema: anything,
        what: 'GET /tracks',
        authorize: () => Promise.reject(new ProviderError('local', 'local POST /api/token: HTTP 503', 503)),
      });

    for (let i = 0; i < 3; i++) {
      const error = await request().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).not.toBeInstanceOf(CircuitOpenError);
    }
    expect(breakers.opened()).toEqual([]);
    expect(requestsTo('/tracks')).toBe(0);
  });

  it('counts the backoff between retries against the budget', async () => {
    answers['/broken'] = () => ({ status: 500, body: 'x' });
    // Backoffs of 100 ms or more: by the third the 250 ms are spent, though the failures never reach 10.
    const { client, breakers } = setup({ failures: 10, budgetMs: 250 }, systemClock, {
      ...policy,
      minTimeoutMs: 100,
      maxTimeoutMs: 100,
    });

    await expect(get(client, '/broken')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(breakers.opened()).toMatchObject([{ reason: 'spent its 0.25 s', lastError: 'HTTP 500' }]);
    expect(requestsTo('/broken')).toBeLessThanOrEqual(4);
  });
  it('does not open an open endpoint again for what a request already in flight then waits', async () => {
    let n = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first request to arrive fails and opens the endpoint; the other is answered 429 after that.
    answers['/busy'] = async () => {
      if (++n === 1) return { status: 500, body: 'x' };
      await gate;
      return { status: 429, headers: { 'retry-after': '2' }, body: {} };
    };
    const { client, opened } = setup({ failures: 1, budgetMs: 1_000 }, manualClock(), {
      ...policy,
      retries: 0,
    });

    const outcomes = [get(client, '/busy'), get(client, '/busy')].map((p) => p.catch((e: unknown) => e));
    await eventually(() => opened.length === 1);
    release();

    expect((await Promise.all(outcomes)).every((o) => o instanceof CircuitOpenError)).toBe(true);
    expect(opened).toEqual(['local GET /busy: open after 1 failures']);
    expect(requestsTo('/busy')).toBe(2);
  });
  it('does not blame the endpoint for a fault of our own in reading its answer', async () => {
    const { client, breakers } = setup({ failures: 1 });
    const bug = new TypeError('a bug of ours');
    const request = () =>
      client.request({
        url: `${server.url}/fine?ids=`,
        schema: z.unknown().transform(() => {
          throw bug;
        }),
        what: 'GET /fine',
      });

    await expect(request()).rejects.toBe(bug);
    await expect(request()).rejects.toBe(bug);
    expect(breakers.opened()).toEqual([]);
  });
});

describe('Class: EndpointBreaker, requests in flight across its opening', () => {
  const breakerWith = (settings: Partial<BreakerSettings>) => {
    const clock = manualClock();
    const openings: string[] = [];
    const breakers = new CircuitBreakers(clock, settings);
    breakers.onOpen((opened) => openings.push(`${opened.reason}; ${opened.lastError}`));
    return { clock, breakers, breaker: breakers.for('spotify', 'GET /v1/tracks'), openings };
  };

  it('stays open when a slow answer to a request sent before it opened comes in: only the probe closes it', () => {
    const { clock, breakers, breaker } = breakerWith({
      budgetMs: 1_000,
      slowAnswerMs: 100,
      coolDownMs: 60_000,
    });
    const start = clock.now().getTime();
    // Two slow requests side by side; the first one's answer spends the budget and opens the endpoint.
    clock.advance(1_500);
    expect(breaker.answered({ from: start, to: clock.now().getTime() })).toBeUndefined();
    expect(breakers.opened()).toHaveLength(1);
    clock.advance(10);
    breaker.answered({ from: start + 5, to: clock.now().getTime() });
    expect(breakers.opened()).toHaveLength(1);
    expect(() => breaker.admit()).toThrow(CircuitOpenError);

    // After the cool-down, the probe's answer closes it.
    clock.advance(60_000);
    expect(breaker.admit()).toBe('probe');
    const probeSent = clock.now().getTime();
    clock.advance(5);
    breaker.answered({ from: probeSent, to: clock.now().getTime() });
    expect(breakers.opened()).toEqual([]);
  });

  it('does not put off its probe when a request sent before it opened fails late', () => {
    const { clock, breaker } = breakerWith({ failures: 1, coolDownMs: 60_000 });
    const start = clock.now().getTime();
    clock.advance(10);
    expect(breaker.failed('HTTP 500', { from: start, to: clock.now().getTime() })).toBeInstanceOf(
      CircuitOpenError,
    );
    // Another request of before the opening fails 30 s later: the cool-down still counts from the opening.
    clock.advance(30_000);
    breaker.failed('HTTP 503', { from: start + 1, to: clock.now().getTime() });
    clock.advance(30_000);
    expect(breaker.admit()).toBe('probe');
  });

  it('counts the next cool-down from when its probe failed, not from when the probe left', () => {
    const { clock, breaker } = breakerWith({ failures: 1, coolDownMs: 60_000 });
    let from = clock.now().getTime();
    breaker.failed('HTTP 500', { from, to: from });
    clock.advance(60_000);
    expect(breaker.admit()).toBe('probe');
    // The probe leaves at once and fails 5 s later.
    from = clock.now().getTime();
    clock.advance(5_000);
    breaker.failed('HTTP 500 again', { from, to: clock.now().getTime() });
    clock.advance(59_999);
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    clock.advance(1);
    expect(breaker.admit()).toBe('probe');
  });

  it('names the failure that opened it, not one an answer came after', () => {
    const { clock, breaker, openings } = breakerWith({ budgetMs: 1_000, slowAnswerMs: 100, failures: 10 });
    const at = () => clock.now().getTime();
    let from = at();
    clock.advance(10);
    breaker.failed('HTTP 502 long ago', { from, to: at() });
    from = at();
    clock.advance(10);
    breaker.answered({ from, to: at() });
    // Later, slow answers spend the budget: they are why it opens.
    from = at();
    clock.advance(1_200);
    breaker.answered({ from, to: at() });
    expect(openings).toEqual(['spent its 1 s; an answer took 1200 ms']);
  });
});
