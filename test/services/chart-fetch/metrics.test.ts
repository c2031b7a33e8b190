import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { MemoryQueue } from '../../../infra/adapters/embedded/memory-queue.js';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/chart-fetch/handler.js';
import type { ChartSource } from '../../../services/chart-fetch/sources/chart-source.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import type { Clock } from '../../../shared/ports/clock.js';

const clock: Clock = { now: () => new Date('2024-05-02T06:00:00.000Z'), sleep: async () => undefined };

describe('chart-fetch: metrics', () => {
  let home: string;
  let store: FsObjectStore;
  let queue: MemoryQueue;
  let metrics: RecordingMetrics;
  const counter = new RequestCounter();

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-fetch-metrics-'));
    store = new FsObjectStore({ root: home });
    queue = new MemoryQueue({ name: 'tracks' });
    metrics = new RecordingMetrics();
  });
  afterEach(async () => {
    queue.stop();
    await rm(home, { recursive: true, force: true });
  });

  /** A source whose read makes requests as the Spotify client records them: four, two answered 429. */
  const source: ChartSource = {
    fetch: async () => {
      for (let i = 0; i < 4; i += 1) counter.record('spotify');
      counter.recordThrottled('spotify');
      counter.recordThrottled('spotify');
      return {
        source: 'spotify-playlist:abc',
        entries: [
          { position: 1, trackId: '4uLU6hMCjMI75M1A2tKUQC', trackName: 'P', artistNames: 'Q', streams: null },
        ],
        skipped: [],
        raw: [{ items: ['as received'] }],
      };
    },
  };

  it('emits the requests and 429s reading each chart took, per provider', async () => {
    const handler = makeHandler({ store, queue, source, clock, metrics, charts: ['global', 'us'] });
    await handler({ chartDate: '2024-05-01' }, localContext('chart-fetch'));
    expect(metrics.figures).toEqual(
      ['global', 'us'].flatMap(() => [
        { name: 'ProviderRequests', value: 4, dimensions: { provider: 'spotify' } },
        { name: 'ProviderThrottled', value: 2, dimensions: { provider: 'spotify' } },
      ]),
    );
  });
});
