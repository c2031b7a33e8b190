import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busyRetrySeconds, makeHandler, makeQueueHandler } from '../../../services/transform/handler.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { RetryableError } from '../../../shared/errors.js';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { eventSource, stageLoadedDetailType, type StageLoaded } from '../../../shared/records/messages.js';
import { logger } from '../../../shared/logger.js';
import { sqsEventFactory } from '../../support/factories.js';
import { allLogLines, captureLogLines, linesOf } from '../../support/log-lines.js';

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

  it('logs a busy warehouse as a wait (INFO, with its seconds), not as a failure', async () => {
    await new TransformLock(store, systemClock).acquire('load-000001');
    const lines = await allLogLines(() =>
      handler()(sqsEventFactory({ body: envelopeBody(loaded), messageId: 'm-5' }), context),
    );
    expect(linesOf(lines, 'warehouse busy: message handed back')).toEqual([
      expect.objectContaining({ level: 'INFO', seconds: busyRetrySeconds }),
    ]);
    expect(lines.filter((line) => line.level === 'WARN' || line.level === 'ERROR')).toEqual([]);
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

  it('logs a failure that passes as a WARN, with its seconds and the error, to be tried again', async () => {
    const throttled = makeQueueHandler({
      store,
      warehouse: new Proxy({} as Warehouse, {
        get: () => () => Promise.reject(new RetryableError('Redshift query failed: ThrottlingException')),
      }),
      runner,
      clock: systemClock,
      transformQueue: { changeVisibility: async () => undefined },
    });
    const lines = await allLogLines(() =>
      throttled(sqsEventFactory({ body: envelopeBody(loaded), messageId: 'm-6' }), context),
    );
    expect(linesOf(lines, 'transform failed, to be tried again')).toEqual([
      expect.objectContaining({
        level: 'WARN',
        seconds: busyRetrySeconds,
        error: expect.objectContaining({ message: 'Redshift query failed: ThrottlingException' }),
      }),
    ]);
  });

  it('reports a body that is not JSON as failed, without touching its visibility', async () => {
    const response = await handler()(sqsEventFactory({ body: '{not json', messageId: 'm-2' }), context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    expect(handedBack).toEqual([]);
  });

  it('logs a body that is not JSON as an ERROR naming the message, which returns to the queue', async () => {
    const lines = await allLogLines(() =>
      handler()(sqsEventFactory({ body: '{not json', messageId: 'm-7' }), context),
    );
    expect(linesOf(lines, 'transform failed: the message returns to the queue')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        error: expect.objectContaining({ message: 'transform queue message m-7 is not JSON' }),
      }),
    ]);
  });

  it("succeeds (no failed item) when the core defers a backfill's load to its batch", async () => {
    const response = await handler()(
      sqsEventFactory({ body: envelopeBody({ ...loaded, batchId: 'batch-000001' }), messageId: 'm-3' }),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handedBack).toEqual([]);
  });

  it('refuses an envelope that is not an object as an invalid EventBridge event', async () => {
    const transform = makeHandler({ store, warehouse, runner, clock: systemClock });
    for (const envelope of [null, 'Stage Loaded', 42]) {
      const failure = transform(envelope, context);
      await expect(failure).rejects.toBeInstanceOf(InvalidRecordError);
      await expect(failure).rejects.toThrow(/^EventBridge event: /);
    }
  });

  it('leaves no log key behind when the invocation ends, not even one put straight on the logger', async () => {
    // A dependency that puts a key on the logger outside any log-key scope, as a library may.
    class KeyingStore extends FsObjectStore {
      override async get(key: string) {
        logger.appendKeys({ lastRead: key });
        return super.get(key);
      }
    }
    const keying = new KeyingStore({ root: path.join(home, 'lake') });
    const transform = makeHandler({ store: keying, warehouse, runner, clock: systemClock });
    const lines = await captureLogLines(async () => {
      // A backfill's load, deferred to its batch: the handler reads the lake and returns.
      await transform(JSON.parse(envelopeBody({ ...loaded, batchId: 'batch-000001' })), context);
      logger.info('after the invocation');
    });
    expect(linesOf(lines, 'transform')).toEqual([expect.objectContaining({ lastRead: expect.any(String) })]);
    expect(linesOf(lines, 'after the invocation')).toEqual([
      expect.not.objectContaining({ lastRead: expect.anything() }),
    ]);
  });
});
