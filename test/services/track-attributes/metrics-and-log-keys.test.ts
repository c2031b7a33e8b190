import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import { localContext } from '../../../infra/local/handler-context.js';
import type { AttributeProvider } from '../../../services/track-attributes/enrichment/attribute-provider.js';
import { makeHandler } from '../../../services/track-attributes/handler.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { logger } from '../../../shared/logger.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { sqsEventFactory } from '../../support/factories.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

const clock: Clock = { now: () => new Date('2025-01-02T06:00:00.000Z'), sleep: async () => undefined };
const runId = '20250101T060000000Z-aaaa0001';
const message = (trackId: string) =>
  JSON.stringify({ runId, chartId: 'global', chartDate: '2025-01-01', trackId });

/** A store whose writes fail: what fails an invocation of ours (the lake), not a provider. */
class FailingStore extends FsObjectStore {
  override async createIfAbsent(): Promise<boolean> {
    throw new Error('the lake refuses writes');
  }
}

describe('track-attributes: metrics and log keys', () => {
  let home: string;
  let store: FsObjectStore;
  let metrics: RecordingMetrics;
  const counter = new RequestCounter();

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-attributes-metrics-'));
    store = new FsObjectStore({ root: home });
    metrics = new RecordingMetrics();
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /**
   * A provider whose lookup makes requests as the clients record them: three to Spotify (one
   * answered 429) and two to ReccoBeats; it knows no track.
   */
  const provider: AttributeProvider = {
    lookup: async (trackIds) => {
      logger.info('looking up');
      for (let i = 0; i < 3; i += 1) counter.record('spotify');
      counter.recordThrottled('spotify');
      for (let i = 0; i < 2; i += 1) counter.record('reccobeats');
      return {
        results: new Map(trackIds.map((id) => [id, { status: 'not_found', reason: 'unknown id' } as const])),
        raw: { trackIds },
        quarantine: [],
      };
    },
  };
  const handler = (over: { store?: FsObjectStore } = {}) =>
    makeHandler({ store: over.store ?? store, provider, clock, metrics, maxReceiveCount: 3 });

  it('emits the requests and 429s per provider of a lookup', async () => {
    await handler()(sqsEventFactory(message('track1'), message('track2')), localContext('track-attributes'));
    expect(metrics.figures).toEqual([
      { name: 'ProviderRequests', value: 2, dimensions: { provider: 'reccobeats' } },
      { name: 'ProviderThrottled', value: 0, dimensions: { provider: 'reccobeats' } },
      { name: 'ProviderRequests', value: 3, dimensions: { provider: 'spotify' } },
      { name: 'ProviderThrottled', value: 1, dimensions: { provider: 'spotify' } },
    ]);
  });

  it('counts as dead-lettered the records handed back on their last delivery, and only those', async () => {
    const event = sqsEventFactory(
      { body: message('track1'), receiveCount: 3 },
      { body: '{not json', messageId: 'malformed-last', receiveCount: 3 },
      { body: '{not json', messageId: 'malformed-first', receiveCount: 1 },
    );
    const response = await handler()(event, localContext('track-attributes'));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'malformed-first',
      'malformed-last',
    ]);
    expect(metrics.named('DeadLetteredItems')).toEqual([
      { name: 'DeadLetteredItems', value: 1, dimensions: {} },
    ]);
  });

  it('counts every record on its last delivery as dead-lettered when the invocation fails', async () => {
    const event = sqsEventFactory(
      { body: message('track1'), receiveCount: 3 },
      { body: message('track2'), receiveCount: 3 },
      { body: message('track3'), receiveCount: 2 },
    );
    const failing = new FailingStore({ root: home });
    await expect(handler({ store: failing })(event, localContext('track-attributes'))).rejects.toThrow(
      'the lake refuses writes',
    );
    expect(metrics.named('DeadLetteredItems')).toEqual([
      { name: 'DeadLetteredItems', value: 2, dimensions: {} },
    ]);
  });

  it('counts nothing as dead-lettered before the last delivery', async () => {
    const event = sqsEventFactory({ body: '{not json', receiveCount: 2 });
    await handler()(event, localContext('track-attributes'));
    expect(metrics.named('DeadLetteredItems')).toEqual([]);
  });

  it("puts the messages' run on the lines written while they are looked up, and takes it off after", async () => {
    const lines = await captureLogLines(async () => {
      await handler()(sqsEventFactory(message('track1')), localContext('track-attributes'));
      logger.info('after the invocation');
    });
    expect(linesOf(lines, 'looking up')).toEqual([
      expect.objectContaining({ runIds: [runId], runId, chartId: 'global', chartDate: '2025-01-01' }),
    ]);
    expect(linesOf(lines, 'attributes landed')).toEqual([expect.objectContaining({ runIds: [runId] })]);
    const [after] = linesOf(lines, 'after the invocation');
    expect(after).toBeDefined();
    for (const key of ['runIds', 'runId', 'chartId', 'chartDate']) expect(after).not.toHaveProperty(key);
  });

  it('says what landed: the records, the rows written, quarantined and backlogged', async () => {
    const lines = await captureLogLines(() =>
      handler()(sqsEventFactory(message('track1'), message('track2')), localContext('track-attributes')),
    );

    expect(linesOf(lines, 'attributes landed')).toEqual([
      expect.objectContaining({ records: 2, written: 2, quarantined: 0, backlogged: 0 }),
    ]);
  });

  it('names the runs of a batch in order, each once', async () => {
    const other = '20250101T050000000Z-aaaa0000';
    const lines = await captureLogLines(() =>
      handler()(
        sqsEventFactory(
          message('track1'),
          JSON.stringify({ runId: other, chartId: 'global', chartDate: '2025-01-01', trackId: 'track2' }),
          message('track3'),
        ),
        localContext('track-attributes'),
      ),
    );

    expect(linesOf(lines, 'attributes landed')).toEqual([
      expect.objectContaining({ runIds: [other, runId] }),
    ]);
  });

  it('starts each invocation without the keys an earlier one added to the log', async () => {
    const stray: AttributeProvider = {
      lookup: async (trackIds) => {
        logger.appendKeys({ stray: 'from an earlier invocation' });
        return provider.lookup(trackIds, '2025-01-01');
      },
    };
    const lines = await captureLogLines(async () => {
      await makeHandler({ store, provider: stray, clock })(
        sqsEventFactory(message('track1')),
        localContext('track-attributes'),
      );
      await handler()(sqsEventFactory(message('track2')), localContext('track-attributes'));
    });

    const landed = linesOf(lines, 'attributes landed');
    expect(landed).toHaveLength(2);
    expect(landed[1]).not.toHaveProperty('stray');
  });
});
