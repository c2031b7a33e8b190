import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { makeHandler } from '../../../services/track-attributes/handler.js';
import type { AttributeProvider } from '../../../services/track-attributes/enrichment/attribute-provider.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { sqsEventFactory } from '../../support/factories.js';

const clock: Clock = { now: () => new Date('2025-01-02T06:00:00.000Z'), sleep: async () => undefined };
const message = (trackId: string) =>
  JSON.stringify({ runId: 'run-000001', chartId: 'global', chartDate: '2025-01-01', trackId });

describe('Function: track-attributes handler', () => {
  let home: string;
  let store: FsObjectStore;
  let looked: string[][];

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-track-attributes-'));
    store = new FsObjectStore({ root: home });
    looked = [];
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** A provider that knows no track: every lookup is a permanent answer, so only malformed records fail. */
  const provider: AttributeProvider = {
    lookup: async (trackIds) => {
      looked.push([...trackIds]);
      return {
        results: new Map(trackIds.map((id) => [id, { status: 'not_found', reason: 'unknown id' } as const])),
        raw: { trackIds },
        quarantine: [],
      };
    },
  };
  const handler = () =>
    makeHandler({
      store,
      provider,
      clock,
    });

  it('looks up the track messages, and names as failed the records that are none', async () => {
    const event = sqsEventFactory(
      { body: message('track1'), messageId: 'ok' },
      { body: '{not json', messageId: 'not-json' },
      { body: JSON.stringify({ trackId: 'track2' }), messageId: 'not-a-track-message' },
      { body: message('track3'), messageId: 'bad-count', receiveCount: 0 },
    );

    const response = await handler()(event, localContext('track-attributes'));

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'bad-count',
      'not-a-track-message',
      'not-json',
    ]);
    expect(looked).toEqual([['track1']]);
    const parts = await store.list('raw/song_attributes/date=2025-01-01/chart=global/');
    expect(parts.length).toBeGreaterThan(0);
  });

  it('fails the invocation, naming the field, when the event is no SQS event', async () => {
    const event = sqsEventFactory(message('track1'));
    const { md5OfBody: _md5, ...withoutMd5 } = event.Records[0]!;

    const failure = handler()({ Records: [withoutMd5] }, localContext('track-attributes'));

    await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(failure).rejects.toThrow(/^SQS event: ✖ .* → at Records\[0\]\.md5OfBody$/);
    expect(looked).toEqual([]);
  });
});
