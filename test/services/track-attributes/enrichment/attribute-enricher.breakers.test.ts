import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../../infra/sandbox/index.js';
import { CircuitBreakers } from '../../../../shared/http/circuit-breaker.js';
import type { RetryPolicy } from '../../../../shared/http/json-client.js';
import { RequestCounter } from '../../../../shared/http/request-counter.js';
import { systemClock } from '../../../../shared/ports/clock.js';
import { ReccoBeatsClient } from '../../../../shared/reccobeats/reccobeats-client.js';
import { enricherWith } from './enricher-fixtures.js';

const day = '2026-03-02';
// The default number of retries, with short backoffs: each attempt counts against the breaker.
const retry: RetryPolicy = { retries: 4, minTimeoutMs: 1, maxTimeoutMs: 2, maxInlineWaitMs: 1_000 };

describe('Class: AttributeEnricher, when ReccoBeats (the only source) keeps failing', () => {
  let sandbox: Sandbox;
  let chart: readonly string[];

  beforeAll(async () => {
    sandbox = await startSandbox({ today: () => day });
    chart = sandbox.catalog.chartFor('global', day);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('switches /v1/track off after a few failed calls, and says why on every track, at once', async () => {
    sandbox.faults.serverErrors({ provider: 'reccobeats' });
    const breakers = new CircuitBreakers(systemClock);
    const reccobeats = new ReccoBeatsClient({
      apiUrl: sandbox.reccobeatsUrl,
      counter: new RequestCounter(),
      clock: systemClock,
      retry,
      breakers,
      sendAsOf: true,
    });
    const before = sandbox.stats.snapshot().requests.reccobeatsTracks;

    const { results } = await enricherWith({ reccobeats }).lookup(chart, day);

    // Bisecting one batch of 40 down to two single ids, five attempts each, then nothing more:
    // without the breaker, five batches bisected to every id, each call tried five times.
    const asked = sandbox.stats.snapshot().requests.reccobeatsTracks - before;
    expect(asked).toBeLessThanOrEqual(40);
    expect(breakers.opened()).toMatchObject([
      {
        endpoint: 'reccobeats GET /v1/track',
        reason: expect.stringMatching(/^open after \d+ failures$/),
        lastError: 'HTTP 500',
      },
    ]);
    expect(results.size).toBe(chart.length);
    const lookups = [...results.values()];
    expect(lookups.every((l) => l.status === 'missing')).toBe(true);
    const reasons = lookups.map((l) => (l.status === 'missing' ? l.reason : ''));
    // The tracks of the batches never asked fail with the breaker's reason.
    expect(
      reasons.filter((r) => r.startsWith('provider_error: ') && r.includes('is switched off for this run'))
        .length,
    ).toBeGreaterThan(150);
  });
});
