import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import { JsonClient } from '../../../shared/http/json-client.js';
import { emitRequests, RequestCounter, tallyRequests } from '../../../shared/http/request-counter.js';
import { startLocalHttpServer, type LocalAnswer, type LocalHttpServer } from './local-http-server.js';
import { manualClock } from './manual-clock.js';

describe('The 429s of a piece of work, counted where the client sees them', () => {
  let server: LocalHttpServer;
  let script: LocalAnswer[] = [];

  beforeAll(async () => {
    server = await startLocalHttpServer(() => script.shift() ?? { body: { ok: true } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('tallies the requests a provider answered 429 beside the requests, and emits both per provider', async () => {
    const counter = new RequestCounter();
    const client = new JsonClient('spotify', counter, manualClock());
    const other = new JsonClient('reccobeats', counter, manualClock());
    script = [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': '2' } },
      { body: { ok: true } },
      { body: { ok: true } },
    ];
    const tally = await tallyRequests(async () => {
      await client.request({ url: `${server.url}/a`, schema: z.unknown(), what: 'GET /a' });
      await other.request({ url: `${server.url}/b`, schema: z.unknown(), what: 'GET /b' });
    });
    expect(server.received).toHaveLength(4);
    expect(tally.requests).toEqual({ reccobeats: 1, spotify: 3 });
    expect(tally.throttled).toEqual({ spotify: 2 });

    const metrics = new RecordingMetrics();
    emitRequests(metrics, tally);
    expect(metrics.figures).toEqual([
      { name: 'ProviderRequests', value: 1, dimensions: { provider: 'reccobeats' } },
      { name: 'ProviderThrottled', value: 0, dimensions: { provider: 'reccobeats' } },
      { name: 'ProviderRequests', value: 3, dimensions: { provider: 'spotify' } },
      { name: 'ProviderThrottled', value: 2, dimensions: { provider: 'spotify' } },
    ]);
  });
});
