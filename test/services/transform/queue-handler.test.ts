import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyRetrySeconds, makeQueueHandler } from '../../../services/transform/handler.js';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { RetryableError } from '../../../shared/errors.js';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { eventSource, stageLoadedDetailType, type StageLoaded } from '../../../shared/records/messages.js';
import { sqsEventFactory } from '../../support/factories.js';

const context = { functionName: 'transform', awsRequestId: 'test' } as unknown as Context;

const loaded: StageLoaded = {
  runId: 'run-000002',
  loadId: 'load-000002',
  chartId: 'global',
  chartDate: '2026-11-20',
  rows: {},
};
/** The body EventBridge puts in TransformQueue: the envelope of the event. */
const envelopeBody = (detail: StageLoaded) =>
  JSON.stringify(
    toEnvelope(
      { source: eventSource, detailType: stageLoadedDetailType, detail },
      { id: 'evt-1', time: new Date('2026-11-21T06:45:00Z'), region: 'eu-west-1', account: '123456789012' },
    ),
  );

describe('Function: transform (TransformQueue entry)', () => {
  let home: string;
  let store: FsObjectStore;
  let started: TransformRequest[];
  let handedBack: { receiptHandle: string; seconds: number }[];
  // A busy warehouse never reaches Redshift: any call would be a defect of the handler.
  const warehouse = new Proxy({} as Warehouse, {
    get: (_, name) => () => Promise.reject(new Error(`unexpected warehouse call: ${String(name)}`)),
  });
  const runner: TransformRunner = {
    start: async (request) => {
      started.push(request);
      return { taskId: `task-${started.length}` };
    },
  };
  const handler = () =>
    makeQueueHandler({
      store,
      warehouse,
      runner,
      clock: systemClock,
      transformQueue: {
        changeVisibility: async (receiptHandle, seconds) => {
          handedBack.push({ receiptHandle, seconds });
        },
      },
    });

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-transform-queue-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    started = [];
    handedBack = [];
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('hands the message back for a minute while another batch holds the warehouse', async () => {
    await new TransformLock(store, systemClock).acquire('load-000001');
    const event = sqsEventFactory({ body: envelopeBody(loaded), messageId: 'm-1' });
    const response = await handler()(event, context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(handedBack).toEqual([
      { receiptHandle: event.Records[0]!.receiptHandle, seconds: busyRetrySeconds },
    ]);
    expect(started).toEqual([]);
  });

  it('hands the message back for a minute when a try fails for a reason that passes', async () => {
    const throttled = makeQueueHandler({
      store,
      // The checks' first query meets a throttled Data API.
      warehouse: new Proxy({} as Warehouse, {
        get: () => () => Promise.reject(new RetryableError('Redshift query failed: ThrottlingException')),
      }),
      runner,
      clock: systemClock,
      transformQueue: {
        changeVisibility: async (receiptHandle, seconds) => {
          handedBack.push({ receiptHandle, seconds });
        },
      },
    });
    const event = sqsEventFactory({ body: envelopeBody(loaded), messageId: 'm-4' });
    const response = await throttled(event, context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-4' }] });
    expect(handedBack).toEqual([
      { receiptHandle: event.Records[0]!.receiptHandle, seconds: busyRetrySeconds },
    ]);
    expect(started).toEqual([]);
  });

  it('reports a body that is not JSON as failed, without touching its visibility', async () => {
    const response = await handler()(sqsEventFactory({ body: '{not json', messageId: 'm-2' }), context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    expect(handedBack).toEqual([]);
  });

  it("succeeds (no failed item) when the core defers a backfill's load to its batch", async () => {
    const response = await handler()(
      sqsEventFactory({ body: envelopeBody({ ...loaded, batchId: 'batch-000001' }), messageId: 'm-3' }),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handedBack).toEqual([]);
  });
});
