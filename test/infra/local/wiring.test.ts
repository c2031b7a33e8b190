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
    wiring.objectCreated(created('raw/chart_songs/a.csv'));
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
      { functionName: 'chart-fetch', attempts: 3, error: 'Spotify 503', event: { chartId: 'global' } },
    ]);
  });

  it('refuses to connect without a function some trigger names', () => {
    const wiring = wire();
    const { functions } = recorder();
    const { stageCleanup: _missing, ...rest } = functions;
    expect(() => wiring.connect(rest)).toThrow(/no local function for stageCleanup/);
  });
});
