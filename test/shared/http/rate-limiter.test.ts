import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { JsonClient } from '../../../shared/http/json-client.js';
import { RateLimiter, rateLimitSetting } from '../../../shared/http/rate-limiter.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { systemClock } from '../../../shared/ports/clock.js';

describe('Class: RateLimiter, under concurrency over real HTTP', () => {
  let server: Server;
  let url: string;
  const arrivals: number[] = [];

  beforeAll(async () => {
    server = createServer((_request, response) => {
      arrivals.push(performance.now());
      response.setHeader('content-type', 'application/json');
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('never lets more than the limit reach the server in any rolling window, whatever the concurrency', async () => {
    const limit = { requests: 5, windowMs: 400 };
    // Each call is timed as the limiter lets it through, the moment the rate is about: a time taken
    // later (as the client sends, or as the server receives) also carries the event loop's and the
    // network's delays, which bunch calls together on a busy machine whatever the limiter does.
    const sent: number[] = [];
    const limiter = new (class extends RateLimiter {
      override schedule<T>(work: () => Promise<T>): Promise<T> {
        return super.schedule(() => {
          sent.push(performance.now());
          return work();
        });
      }
    })(limit);
    // Two clients of one provider share the limiter, as the lookups of one process do.
    const clients = [0, 1].map(
      () => new JsonClient('local', new RequestCounter(), systemClock, undefined, limiter),
    );
    // A timer fires late by as much as the event loop is held up (on a loaded machine, tens of
    // milliseconds): a call let through on time can then be timed after the next window's first.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const started = performance.now();

    await Promise.all(
      Array.from({ length: 23 }, (_, i) =>
        clients[i % 2]!.request({ url, what: 'GET /', schema: z.object({ ok: z.boolean() }) }),
      ),
    );

    expect(arrivals).toHaveLength(23);
    expect(sent).toHaveLength(23);
    loopDelay.disable();
    // Every window of 400 ms, starting at any admission, holds at most 5, with the slack of timer
    // drift (5 ms) and of the longest the event loop was held up meanwhile. A limiter that lets a
    // burst through (none, or fixed buckets whose edges a burst straddles) puts 6 or more within a
    // few milliseconds, and still fails.
    const slack = 5 + loopDelay.max / 1e6;
    for (const t of sent) {
      expect(sent.filter((u) => u >= t && u < t + limit.windowMs - slack).length).toBeLessThanOrEqual(
        limit.requests,
      );
    }
    // 23 requests at 5 per 400 ms need at least four more windows after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * limit.windowMs - 20);
  });

  it('reads a setting as requests per seconds, and refuses nonsense', () => {
    expect(rateLimitSetting.parse('60/30')).toEqual({ requests: 60, windowMs: 30_000 });
    expect(rateLimitSetting.parse('10/0.5')).toEqual({ requests: 10, windowMs: 500 });
    expect(rateLimitSetting.safeParse('fast').success).toBe(false);
    expect(rateLimitSetting.safeParse('0/30').success).toBe(false);
    expect(rateLimitSetting.safeParse('5/0').success).toBe(false);
    // Less than half a millisecond is no window.
    expect(rateLimitSetting.safeParse('5/0.0004').success).toBe(false);
  });
  it('says how many calls wait for room', async () => {
    const limiter = new RateLimiter({ requests: 1, windowMs: 200 });
    expect(limiter.waiting).toBe(0);

    const calls = [1, 2, 3].map((n) => limiter.schedule(async () => n));
    expect(await calls[0]).toBe(1);
    // The first went through; the other two wait for the next windows.
    expect(limiter.waiting).toBe(2);

    expect(await Promise.all(calls)).toEqual([1, 2, 3]);
    expect(limiter.waiting).toBe(0);
  });
  it('counts a rolling window, not fixed buckets: calls at the end of one bucket and the start of the next stay within the limit', async () => {
    const limit = { requests: 5, windowMs: 600 };
    const limiter = new RateLimiter(limit);
    const started: number[] = [];
    const call = () =>
      limiter.schedule(async () => {
        started.push(performance.now());
      });
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();

    // One call opens a window; near its end, nine more come at once. Fixed buckets would let four
    // through now and five more as the next bucket starts, nine within a few milliseconds.
    await call();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(Array.from({ length: 9 }, call));
    loopDelay.disable();

    expect(started).toHaveLength(10);
    const slack = 5 + loopDelay.max / 1e6;
    for (const t of started) {
      expect(started.filter((u) => u >= t && u < t + limit.windowMs - slack).length).toBeLessThanOrEqual(
        limit.requests,
      );
    }
  });
});
