import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { objectCreatedEvent } from '../../../infra/adapters/embedded/s3-events.js';
import { localStackReferences, asLocalTaskEvent } from '../../../infra/local/functions.js';
import { localTimeScale } from '../../../infra/local/time-scale.js';
import { LocalWiring, localQueueSettings, type LocalFunctions } from '../../../infra/local/wiring.js';
import { topology, type FunctionName } from '../../../infra/topology.js';
import { toEnvelope } from '../../../shared/events/bus-event.js';
import { decodeS3Key } from '../../../shared/events/s3-keys.js';
import { ecsTaskStateChange } from '../../../shared/events/ecs-task-event.js';
import { PermanentError, RetryableError } from '../../../shared/errors.js';
import { asyncFailureRecordSchema } from '../../../shared/events/async-failure.js';
import { systemClock } from '../../../shared/ports/clock.js';
import {
  eventSource,
  stageLoadedDetailType,
  transformRequestedDetailType,
} from '../../../shared/records/messages.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Functions that note what they receive; `behave` says what one does with an event. */
const recorder = (behave: Partial<Record<FunctionName, (event: unknown) => Promise<unknown>>> = {}) => {
  const calls: { fn: FunctionName; event: unknown }[] = [];
  const functions = Object.fromEntries(
    (['chartFetch', 'trackAttributes', 'stageLoader', 'transform', 'stageCleanup', 'replay'] as const).map(
      (fn) => [
        fn,
        async (event: unknown) => {
          calls.push({ fn, event });
          return behave[fn]?.(event);
        },
      ],
    ),
  ) as LocalFunctions;
  return { calls, functions, of: (fn: FunctionName) => calls.filter((c) => c.fn === fn).map((c) => c.event) };
};

const created = (key: string) =>
  objectCreatedEvent({
    bucket: 'lake',
    region: 'local',
    key,
    size: 1,
    etag: 'x',
    eventName: 'ObjectCreated:Put',
  });

describe('LocalWiring: the topology on one machine', () => {
  const wirings: LocalWiring[] = [];
  const wire = (options: { timeScale?: number } = {}) => {
    const wiring = new LocalWiring({ clock: systemClock, references: localStackReferences, ...options });
    wirings.push(wiring);
    return wiring;
  };
  afterEach(() => {
    for (const w of wirings.splice(0)) w.stop();
  });

  it('builds each queue from its declaration, on the local time scale, with its dead-letter queue', () => {
    const wiring = wire();
    expect(wiring.queueSettings.trackQueue).toEqual({
      batchSize: 200,
      batchingWindowMs: 5_000 * localTimeScale,
      visibilityTimeoutMs: 1_800_000 * localTimeScale,
      maxReceiveCount: 3,
      maxConcurrency: 2,
    });
    expect(wiring.queueSettings.transformQueue).toEqual(localQueueSettings(topology, 'transformQueue'));
    expect(wiring.queueSettings.transformQueue).toMatchObject({ batchSize: 1, maxReceiveCount: 200 });
    expect(wiring.queues.trackQueue.name).toBe('chartflow-tracks');
    expect(wiring.deadLetters.transformQueue.name).toBe('chartflow-transform-dlq');
  });

  it('sends ObjectCreated to the function whose prefix and suffix match the key, and nowhere else', async () => {
    const wiring = wire();
    const { functions, of } = recorder();
    wiring.connect(functions);
    for (const key of [
      'raw/chart_songs/date=2026-01-01/a.csv',
      'inbox/charts/regional-global-daily-2026-01-01.csv',
      'inbox/charts/notes.txt',
      'manifests/x.json',
    ]) {
      wiring.objectCreated(created(key));
    }
    await wiring.invoker.idle();
    const keysOf = (events: unknown[]) =>
      (events as ReturnType<typeof created>[]).flatMap((e) =>
        e.Records.map((r) => decodeS3Key(r.s3.object.key)),
      );
    expect(keysOf(of('stageLoader'))).toEqual(['raw/chart_songs/date=2026-01-01/a.csv']);
    expect(keysOf(of('chartFetch'))).toEqual(['inbox/charts/regional-global-daily-2026-01-01.csv']);
  });

  it('routes completion events through the transform queue to transform, one record each, as SQS delivers them', async () => {
    const wiring = wire();
    const { functions, of } = recorder();
    wiring.connect(functions);
    await wiring.bus.publish({ source: eventSource, detailType: stageLoadedDetailType, detail: { a: 1 } });
    await wiring.bus.publish({
      source: eventSource,
      detailType: transformRequestedDetailType,
      detail: { b: 2 },
    });
    await wiring.bus.publish({ source: eventSource, detailType: 'Something Else', detail: {} });
    await wiring.queues.transformQueue.idle();
    const events = of('transform') as SQSEvent[];
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event.Records).toHaveLength(1);
      expect(event.Records[0]!.eventSourceARN).toBe(wiring.queues.transformQueue.arn);
    }
    const bodies = events.map(
      (e) => JSON.parse(e.Records[0]!.body) as { 'detail-type': string; detail: unknown },
    );
    expect(bodies.map((b) => b['detail-type']).sort()).toEqual([
      stageLoadedDetailType,
      transformRequestedDetailType,
    ]);
    expect(wiring.invoker.pending).toBe(0);
  });

  it("hands the stop of this stack's dbt task to stage-cleanup, and no other task's", async () => {
    const wiring = wire();
    const { functions, of } = recorder();
    wiring.connect(functions);
    const stop = (lastStatus: string) =>
      toEnvelope(
        {
          source: 'aws.ecs',
          detailType: ecsTaskStateChange,
          detail: { taskArn: 't', lastStatus, containers: [] },
        },
        { id: 'e', time: new Date(), region: 'local', account: '000000000000' },
      );
    wiring.serviceEvent(asLocalTaskEvent(stop('STOPPED')));
    wiring.serviceEvent(asLocalTaskEvent(stop('RUNNING')));
    // Another cluster's task: the event as the local runner sends it, without this stack's ARNs.
    wiring.serviceEvent(stop('STOPPED'));
    await wiring.invoker.idle();
    expect(of('stageCleanup')).toHaveLength(1);
    expect(of('stageCleanup')[0]).toMatchObject({
      detail: { lastStatus: 'STOPPED', clusterArn: localStackReferences.dbtClusterArn },
    });
  });

  it('retries a failed asynchronous invocation twice, then keeps it in the on-failure destination; a permanent error, never', async () => {
    const wiring = wire({ timeScale: 0.0001 });
    const { functions, of } = recorder({
      stageLoader: async () => {
        throw new RetryableError('warehouse unreachable');
      },
      chartFetch: async () => {
        throw new PermanentError('not a chart file');
      },
    });
    wiring.connect(functions);
    const lost = created('raw/chart_songs/a.csv');
    wiring.objectCreated(lost);
    wiring.objectCreated(created('inbox/charts/a.csv'));
    await wiring.invoker.idle();
    expect(of('stageLoader')).toHaveLength(3);
    expect(of('chartFetch')).toHaveLength(1);
    expect(
      wiring.invoker.failures
        .map(({ functionName, attempts, error }) => ({ functionName, attempts, error }))
        .sort((a, b) => a.functionName.localeCompare(b.functionName)),
    ).toEqual([
      { functionName: 'chart-fetch', attempts: 1, error: 'not a chart file' },
      { functionName: 'stage-loader', attempts: 3, error: 'warehouse unreachable' },
    ]);
    // The destination is a queue named as the stack's, holding Lambda's own destination record.
    expect(wiring.asyncFailures.name).toBe(`chartflow-${topology.asyncInvoke.onFailure.nameSuffix}`);
    const records = wiring.asyncFailures
      .peek()
      .map((m) => asyncFailureRecordSchema.parse(JSON.parse(m.body)))
      .sort((a, b) => a.requestContext.functionArn.localeCompare(b.requestContext.functionArn));
    expect(records.map((r) => [r.requestContext, r.responsePayload])).toEqual([
      [
        expect.objectContaining({
          functionArn: 'arn:aws:lambda:local:000000000000:function:chart-fetch:$LATEST',
          condition: 'RetriesExhausted',
          approximateInvokeCount: 1,
        }),
        { errorType: 'PermanentError', errorMessage: 'not a chart file' },
      ],
      [
        expect.objectContaining({
          functionArn: 'arn:aws:lambda:local:000000000000:function:stage-loader:$LATEST',
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        }),
        { errorType: 'RetryableError', errorMessage: 'warehouse unreachable' },
      ],
    ]);
    // The event, as it was invoked with: what `reconcile` or a person can deliver again.
    expect(records[1]!.requestPayload).toEqual(lost);
  });

  it('stops retrying an event older than the maximum event age, and says so in its record', async () => {
    // On this scale the second retry (two minutes after the first failure, declared) would start
    // past the six hours' maximum age scaled down a hundred-fold further than the delays.
    const wiring = new LocalWiring({
      clock: systemClock,
      references: localStackReferences,
      timeScale: 0.0001,
      topology: { ...topology, asyncInvoke: { ...topology.asyncInvoke, maximumEventAgeSeconds: 100 } },
    });
    wirings.push(wiring);
    const { functions, of } = recorder({
      stageLoader: async () => {
        throw new RetryableError('warehouse unreachable');
      },
    });
    wiring.connect(functions);
    wiring.objectCreated(created('raw/chart_songs/a.csv'));
    await wiring.invoker.idle();
    // Attempt 1 fails; the retry after 60 s (6 ms here) is within 100 s (10 ms); the next, after
    // another 120 s, would start at 180 s: past the age, so not tried.
    expect(of('stageLoader')).toHaveLength(2);
    const [record] = wiring.asyncFailures
      .peek()
      .map((m) => asyncFailureRecordSchema.parse(JSON.parse(m.body)));
    expect(record!.requestContext).toMatchObject({
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 2,
    });
  });

  it("keeps an event its rule could not deliver in the rules' dead-letter queue", async () => {
    const wiring = wire();
    wiring.connect(recorder().functions);
    wiring.queues.transformQueue.send = async () => {
      throw new Error('the queue is gone');
    };
    await wiring.bus.publish({
      source: eventSource,
      detailType: stageLoadedDetailType,
      detail: { loadId: 'l1' },
    });
    await sleep(50);
    expect(wiring.eventDeadLetters.name).toBe(
      `chartflow-${topology.ruleDelivery.deadLetterQueue.nameSuffix}`,
    );
    expect(wiring.eventDeadLetters.peek().map((m) => JSON.parse(m.body) as unknown)).toEqual([
      expect.objectContaining({ 'detail-type': stageLoadedDetailType, detail: { loadId: 'l1' } }),
    ]);
  });

  it("compresses the transform queue's hand-back by the time scale, but never a provider's Retry-After", async () => {
    const wiring = wire({ timeScale: 0.001 });
    const { functions } = recorder();
    wiring.connect(functions);
    const received: { queue: string; handle: string }[] = [];
    for (const name of ['transformQueue', 'trackQueue'] as const) {
      const queue = wiring.queues[name];
      queue.stop();
      queue.subscribe(async (event) => {
        received.push({ queue: name, handle: event.Records[0]!.receiptHandle });
        await queue.changeVisibility(event.Records[0]!.receiptHandle, 60);
        return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] };
      });
      await queue.send([{ id: '1', body: '{}' }]);
    }
    await sleep(200);
    // 60 s on the pipeline's clock is 60 ms here: delivered again; the track queue's 60 s stays 60 s.
    expect(received.filter((r) => r.queue === 'transformQueue').length).toBeGreaterThanOrEqual(2);
    expect(received.filter((r) => r.queue === 'trackQueue')).toHaveLength(1);
    expect(wiring.queues.trackQueue.depth().nextVisibleInMs).toBeGreaterThan(59_000);
  });

  it('retries the scheduled function as the schedule would, then answers the CLI with its failure', async () => {
    const wiring = wire({ timeScale: 0.0001 });
    let calls = 0;
    const { functions } = recorder({
      chartFetch: async () => {
        calls += 1;
        if (calls < 3) throw new RetryableError('Spotify 503');
        return [{ runId: 'r1' }];
      },
    });
    wiring.connect(functions);
    await expect(wiring.schedule({ chartId: 'global' })).resolves.toEqual([{ runId: 'r1' }]);
    expect(wiring.invoker.failures).toEqual([]);
    calls = -10;
    await expect(wiring.schedule({ chartId: 'global' })).rejects.toThrow('Spotify 503');
    expect(wiring.invoker.failures).toEqual([
      {
        functionName: 'chart-fetch',
        attempts: 3,
        error: 'Spotify 503',
        event: { chartId: 'global' },
        condition: 'RetriesExhausted',
      },
    ]);
    expect(wiring.asyncFailures.peek()).toHaveLength(1);
  });

  it('refuses to connect without a function some trigger names', () => {
    const wiring = wire();
    const { functions } = recorder();
    const { stageCleanup: _missing, ...rest } = functions;
    expect(() => wiring.connect(rest)).toThrow(/no local function for stageCleanup/);
  });
});
