import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
import { EventBridgeEventBus } from '../../infra/adapters/aws/eventbridge-event-bus.js';
import { S3ObjectStore } from '../../infra/adapters/aws/s3-object-store.js';
import { SecretsManagerSecrets } from '../../infra/adapters/aws/secrets-manager-secrets.js';
import { SqsQueue } from '../../infra/adapters/aws/sqs-queue.js';
import { LocalDbtRunner } from '../../infra/adapters/embedded/local-dbt-runner.js';
import { DbtWorker, dbtWorkerPaths } from '../../infra/adapters/embedded/dbt-worker.js';
import { PostgresWarehouse } from '../../infra/adapters/postgres/postgres-warehouse.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { RequestCounter } from '../../shared/http/request-counter.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { systemClock } from '../../shared/ports/clock.js';
import { SecretName } from '../../shared/ports/secrets.js';
import {
  eventSource,
  stageLoadedDetailType,
  trackMessageSchema,
  transformRequestedDetailType,
  type ChartDay,
} from '../../shared/records/messages.js';
import { buildProviders } from '../../infra/providers/build-providers.js';
import { makeHandler as makeChartFetch } from '../../services/chart-fetch/handler.js';
import type { ChartFetchResult } from '../../services/chart-fetch/fetch-chart.js';
import { makeHandler as makeReplay } from '../../services/replay/handler.js';
import type { ReplayResult } from '../../services/replay/replay-day.js';
import { makeHandler as makeStageCleanup } from '../../services/stage-cleanup/handler.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { makeHandler as makeTrackAttributes } from '../../services/track-attributes/handler.js';
import { makeQueueHandler as makeTransformQueueHandler } from '../../services/transform/handler.js';
import { AsyncInvoker } from '../../infra/local/async-invoker.js';
import { localContext } from '../../infra/local/handler-context.js';
import { dbtProfileEnv } from '../../infra/local/dbt-profile-env.js';
import { sandboxPlaylistIds } from '../../infra/sandbox/catalog.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../infra/sandbox/server.js';
import type { Moto } from './moto.js';
import { RecordingObjectStore, type StoreAccess } from './recording-store.js';
import { asS3SendsIt, isS3Event } from './s3-notifications.js';
import { withEventBridgeBodies } from './eventbridge-deliveries.js';
import { createTestDatabase } from './services.js';
import { SqsEventSource } from './sqs-event-source.js';

/** The track queue and its event source mapping; serverless.yml's values but for the timings. */
export interface AwsTrackQueueSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  /** Whole seconds, as SQS counts them. */
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

/**
 * serverless.yml's track queue, but for its timings: a 1 s batching window instead of 5 s (the
 * sends of a day reach moto within it), and a visibility timeout of 60 s instead of 1800 s (a
 * sandbox batch takes seconds; a lost batch would then come back within a test's time).
 */
export const defaultAwsTrackQueue: AwsTrackQueueSettings = {
  batchSize: 200,
  batchingWindowMs: 1_000,
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 3,
  maxConcurrency: 2,
};

/** The names of what {@link AwsPipeline} created in moto, as the stack's outputs would name them. */
export interface AwsResources {
  readonly bucket: string;
  readonly trackQueueUrl: string;
  readonly trackDeadLetterQueueUrl: string;
  /** Where moto's bucket notifications for `raw/` arrive (S3 invokes stage-loader directly on AWS). */
  readonly lakeEventsQueueUrl: string;
  readonly lakeEventsDeadLetterQueueUrl: string;
  /** Where moto's bucket notifications for `inbox/charts/*.csv` arrive (chart-fetch's, on AWS). */
  readonly inboxEventsQueueUrl: string;
  readonly transformQueueUrl: string;
  readonly transformDeadLetterQueueUrl: string;
  /** The asynchronous invocations' on-failure destination (serverless.yml: AsyncFailureQueue). */
  readonly asyncFailureQueueUrl: string;
  readonly eventBusName: string;
  readonly spotifySecretId: string;
}

/** An invocation that threw, as the harness saw it (the queue then redelivers it, as on AWS). */
export interface HandlerFailure {
  readonly functionName: string;
  readonly error: string;
}

export interface AwsPipelineOptions {
  readonly moto: Moto;
  /** Names the PostgreSQL database, the home folder and the AWS resources. */
  readonly label: string;
  readonly sandbox?: SandboxOptions;
  readonly trackQueue?: Partial<AwsTrackQueueSettings>;
  /** How the provider clients retry 5xx and network errors. */
  readonly retry?: RetryPolicy;
  /** More of the environment the local configuration is parsed from (rate limits, sandbox access). */
  readonly env?: Readonly<Record<string, string>>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
// A load refused (its lake files not what their manifests say) ends `not_loaded`: nothing follows it.
const finalStatuses: readonly RunRecord['status'][] = [
  'succeeded',
  'checks_failed',
  'transform_failed',
  'not_loaded',
];
const isFinal = (record: RunRecord) => finalStatuses.includes(record.status);
const errorText = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * The pipeline wired as it is on AWS, with moto for S3, SQS, EventBridge and Secrets Manager,
 * PostgreSQL for Redshift and a local dbt process for the Fargate task. The services' own handlers
 * (`makeHandler`, and transform's TransformQueue entry `makeQueueHandler`) are given the AWS
 * adapters, and every event reaches them in the shape AWS gives it:
 *
 * - the schedule's direct invocation of chart-fetch (`{chartId, chartDate}`), as the CLI does;
 * - the track queue (a real SQS queue with its DLQ) through {@link SqsEventSource}, Lambda's event
 *   source mapping, → track-attributes;
 * - the bucket's ObjectCreated notifications for `raw/` → stage-loader. moto can only deliver them
 *   to a queue, so they travel through one (each SQS body one S3 event, fixed up where moto
 *   departs from S3 by {@link asS3SendsIt}), and stage-loader is called with the S3 event itself,
 *   as S3 invokes it on AWS. A failed invocation comes back after the queue's visibility timeout,
 *   three times at most, like Lambda's asynchronous retries (two);
 * - stage-loader's events on the EventBridge bus → a rule (source chartflow, Stage Loaded and
 *   Transform Requested) → TransformQueue → transform's queue entry, one record per invocation;
 * - dbt's ECS-shaped stop event → stage-cleanup, invoked asynchronously (EventBridge → Lambda).
 *
 * The Spotify client reads its credentials only from Secrets Manager.
 */
export class AwsPipeline {
  readonly failures: HandlerFailure[] = [];
  /** Every delivery of a track message to track-attributes: its track and ApproximateReceiveCount. */
  readonly trackDeliveries: { trackId: string; receiveCount: number }[] = [];
  /** The eventName of every S3 record stage-loader was given. */
  readonly s3EventNames: string[] = [];
  /** How many times Secrets Manager was asked for a secret's value. */
  secretReads = 0;
  /** Every S3 request the functions sent (command and key), whatever role made it: what was downloaded. */
  readonly s3Requests: { readonly command: string; readonly key: string }[] = [];
  /**
   * Every request of the lake, by the IAM role of the function that made it on AWS (infra/iam.yml);
   * the warehouse's own reads of the files are those of Redshift's COPY role.
   */
  readonly storeAccesses: StoreAccess[];

  readonly #sources: SqsEventSource[];
  readonly #chartFetch: ReturnType<typeof makeChartFetch>;
  readonly #replay: ReturnType<typeof makeReplay>;
  readonly #stageCleanup: ReturnType<typeof makeStageCleanup>;
  readonly #stop: () => Promise<void>;

  private constructor(
    readonly resources: AwsResources,
    readonly sandbox: Sandbox,
    readonly store: S3ObjectStore,
    readonly warehouse: PostgresWarehouse,
    readonly runner: LocalDbtRunner,
    readonly invoker: AsyncInvoker,
    readonly sqs: SQSClient,
    parts: {
      readonly chartFetch: ReturnType<typeof makeChartFetch>;
      readonly replay: ReturnType<typeof makeReplay>;
      readonly stageCleanup: ReturnType<typeof makeStageCleanup>;
      readonly sources: SqsEventSource[];
      readonly storeAccesses: StoreAccess[];
    },
    stop: () => Promise<void>,
  ) {
    this.storeAccesses = parts.storeAccesses;
    this.#stop = stop;
    this.#chartFetch = parts.chartFetch;
    this.#replay = parts.replay;
    this.#stageCleanup = parts.stageCleanup;
    this.#sources = parts.sources;
  }

  /**
   * Delivers an ECS Task State Change to stage-cleanup as the rule does: an asynchronous
   * invocation, retried, then sent to the on-failure destination in moto.
   */
  taskStateChanged(event: unknown): void {
    this.invoker.invoke(
      'stage-cleanup',
      (e: unknown) => this.#stageCleanup(e as never, localContext('stage-cleanup')),
      event,
    );
  }

  /** Creates the resources in moto, starts the sandbox and the event sources. */
  static async start(options: AwsPipelineOptions): Promise<AwsPipeline> {
    const { moto } = options;
    const trackQueue = { ...defaultAwsTrackQueue, ...options.trackQueue };
    const suffix = randomUUID().slice(0, 8);
    // Bucket names allow lower-case letters, digits and hyphens only.
    const label = options.label.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    const name = (what: string) => `chartflow-${label}-${what}-${suffix}`;
    const clock = systemClock;

    const s3 = new S3Client(moto.clientConfig);
    const sqs = new SQSClient(moto.clientConfig);
    const events = new EventBridgeClient(moto.clientConfig);
    const secretsClient = new SecretsManagerClient(moto.clientConfig);

    // Assigned once everything is built; the handlers and the middleware only run after that.
    let pipeline: AwsPipeline;
    const cleanups: (() => Promise<unknown>)[] = [];
    const stop = async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    };
    try {
      const home = await mkdtemp(path.join(tmpdir(), `chartflow-${options.label}-`));
      cleanups.push(() => rm(home, { recursive: true, force: true }));
      const database = await createTestDatabase(options.label);
      cleanups.push(() => database.drop());
      const config = parseLocalConfig({
        ...options.env,
        CHARTFLOW_HOME: home,
        CHARTFLOW_WAREHOUSE: 'postgres',
        CHARTFLOW_PG_URL: database.url,
      });
      const sandbox = await startSandbox({
        accessMode: config.sandboxAccess === 'development' ? 'development' : 'extended',
        ...options.sandbox,
      });
      cleanups.push(() => sandbox.close());

      const resources = await createResources({ s3, sqs, events, secretsClient, name, trackQueue, sandbox });
      secretsClient.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'GetSecretValueCommand') pipeline.secretReads += 1;
          return next(args);
        },
        { step: 'initialize', name: 'countSecretReads' },
      );
      s3.middlewareStack.add(
        (next, context) => (args) => {
          const { Key } = args.input as { Key?: string };
          pipeline.s3Requests.push({ command: context.commandName ?? '', key: Key ?? '' });
          return next(args);
        },
        { step: 'initialize', name: 'noteS3Requests' },
      );

      const store = new S3ObjectStore({ client: s3, bucket: resources.bucket });
      // Each function's requests of the lake, noted under the IAM role it has on AWS.
      const storeAccesses: StoreAccess[] = [];
      const storeAs = (role: string) => new RecordingObjectStore(store, role, storeAccesses);
      const queue = new SqsQueue({ client: sqs, queueUrl: resources.trackQueueUrl });
      const transformQueue = new SqsQueue({ client: sqs, queueUrl: resources.transformQueueUrl });
      const bus = new EventBridgeEventBus({ client: events, eventBusName: resources.eventBusName });
      const warehouse = new PostgresWarehouse(database.url, storeAs('RedshiftCopyRole'));
      cleanups.push(() => warehouse.close());
      // Lambda's asynchronous invocation, with its on-failure destination a queue in moto.
      const asyncFailures = new SqsQueue({ client: sqs, queueUrl: resources.asyncFailureQueueUrl });
      const invoker = new AsyncInvoker(clock, undefined, (record) =>
        asyncFailures.send([
          { id: record.requestContext.requestId.replace(/-/g, ''), body: JSON.stringify(record) },
        ]),
      );

      // The sandbox's playlists, read as one machine reads them (its `as of` header, its provenance),
      // but with the credentials from Secrets Manager only.
      const providersFor = (lake: RecordingObjectStore) =>
        buildProviders({
          spotify: {
            apiUrl: sandbox.apiUrl,
            accountsUrl: sandbox.accountsUrl,
            secrets: new SecretsManagerSecrets({
              client: secretsClient,
              secretIds: { [SecretName.spotify]: resources.spotifySecretId },
            }),
          },
          reccobeats: config.reccobeats ? { apiUrl: sandbox.reccobeatsUrl } : undefined,
          rateLimits: config.rateLimits,
          playlists: { ...sandboxPlaylistIds },
          sourceName: 'sandbox-playlist',
          sendAsOf: true,
          store: lake,
          counter: new RequestCounter(),
          clock,
          ...(options.retry ? { retry: options.retry } : {}),
        });

      // Each Lambda function builds its own providers (infra/aws/functions/providers.ts).
      const chartFetchStore = storeAs('ChartFetchRole');
      const trackAttributesStore = storeAs('TrackAttributesRole');
      const chartFetchProviders = providersFor(chartFetchStore);
      const trackAttributesProviders = providersFor(trackAttributesStore);

      const warehouseStore = storeAs('WarehouseRole');
      const stageCleanup = makeStageCleanup({ store: warehouseStore, warehouse, clock });
      const { python, workerScript } = dbtWorkerPaths(config.projectRoot);
      const runner = new LocalDbtRunner({
        projectDir: path.join(config.projectRoot, 'dbt'),
        worker: new DbtWorker({
          python,
          script: workerScript,
          env: { ...process.env, ...dbtProfileEnv(config) },
          workDir: path.join(home, 'dbt'),
        }),
        target: 'postgres',
        workDir: path.join(home, 'dbt'),
        clock,
        // The rule on ECS Task State Change (STOPPED) invokes stage-cleanup asynchronously.
        onStopped: (event) =>
          invoker.invoke(
            'stage-cleanup',
            (e: typeof event) => stageCleanup(e, localContext('stage-cleanup')),
            event,
          ),
      });
      cleanups.push(async () => {
        await runner.idle();
        await invoker.idle();
        await runner.close();
      });

      const stageLoader = makeStageLoader({ store: warehouseStore, warehouse, bus, clock });
      const trackAttributes = makeTrackAttributes({
        store: trackAttributesStore,
        provider: trackAttributesProviders.enricher,
        clock,
      });
      const transform = makeTransformQueueHandler({
        store: warehouseStore,
        warehouse,
        runner,
        clock,
        transformQueue,
      });

      const chartFetch = makeChartFetch({
        store: chartFetchStore,
        queue,
        source: chartFetchProviders.chartSource,
        clock,
        charts: ['global'],
      });
      const sources: SqsEventSource[] = [];
      const failed = (functionName: string, error: unknown) =>
        pipeline.failures.push({ functionName, error: errorText(error) });
      sources.push(
        new SqsEventSource({
          client: sqs,
          queueUrl: resources.trackQueueUrl,
          batchSize: trackQueue.batchSize,
          batchingWindowMs: trackQueue.batchingWindowMs,
          maxConcurrency: trackQueue.maxConcurrency,
          handler: async (event) => {
            for (const record of event.Records) {
              const message = trackMessageSchema.safeParse(JSON.parse(record.body));
              pipeline.trackDeliveries.push({
                trackId: message.data?.trackId ?? '(malformed)',
                receiveCount: Number(record.attributes.ApproximateReceiveCount),
              });
            }
            try {
              return await trackAttributes(event, localContext('track-attributes'));
            } catch (error) {
              failed('track-attributes', error);
              throw error;
            }
          },
        }),
        new SqsEventSource({
          client: sqs,
          queueUrl: resources.lakeEventsQueueUrl,
          batchSize: 10,
          maxConcurrency: 2,
          // Each message is one S3 event, and one invocation of stage-loader, as S3 makes it.
          handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
            const retried: string[] = [];
            await Promise.all(
              event.Records.map(async (record) => {
                const body: unknown = JSON.parse(record.body);
                if (!isS3Event(body)) return; // s3:TestEvent
                const created = { Records: body.Records.map(asS3SendsIt) };
                pipeline.s3EventNames.push(...created.Records.map((r) => r.eventName));
                try {
                  await stageLoader(created, localContext('stage-loader'));
                } catch (error) {
                  failed('stage-loader', error);
                  retried.push(record.messageId);
                }
              }),
            );
            return { batchItemFailures: retried.map((itemIdentifier) => ({ itemIdentifier })) };
          },
        }),
        new SqsEventSource({
          client: sqs,
          queueUrl: resources.inboxEventsQueueUrl,
          batchSize: 10,
          maxConcurrency: 2,
          // A chart file dropped into the inbox: one S3 event, one invocation of chart-fetch.
          handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
            const retried: string[] = [];
            await Promise.all(
              event.Records.map(async (record) => {
                const body: unknown = JSON.parse(record.body);
                if (!isS3Event(body)) return;
                try {
                  await chartFetch({ Records: body.Records.map(asS3SendsIt) }, localContext('chart-fetch'));
                } catch (error) {
                  failed('chart-fetch', error);
                  retried.push(record.messageId);
                }
              }),
            );
            return { batchItemFailures: retried.map((itemIdentifier) => ({ itemIdentifier })) };
          },
        }),
        new SqsEventSource({
          client: sqs,
          queueUrl: resources.transformQueueUrl,
          // serverless.yml: batchSize 1, maximumConcurrency 2.
          batchSize: 1,
          maxConcurrency: 2,
          handler: async (event) => {
            const response = await transform(withEventBridgeBodies(event), localContext('transform'));
            if (response.batchItemFailures.length > 0) failed('transform', 'a record was handed back');
            return response;
          },
        }),
      );
      pipeline = new AwsPipeline(
        resources,
        sandbox,
        store,
        warehouse,
        runner,
        invoker,
        sqs,
        {
          chartFetch,
          replay: makeReplay({ store: storeAs('ReplayRole') }),
          stageCleanup,
          sources,
          storeAccesses,
        },
        stop,
      );
      for (const source of sources) {
        await source.start();
        cleanups.push(() => source.stop());
      }
      return pipeline;
    } catch (error) {
      await stop();
      throw error;
    }
  }

  /** Invokes chart-fetch as the schedule does, then waits until the day's load has a final run record. */
  async run(day: ChartDay, timeoutMs = 120_000): Promise<{ runId: string; records: RunRecord[] }> {
    const results = (await this.#chartFetch(day, localContext('chart-fetch'))) as ChartFetchResult[];
    const runId = results[0]!.runId;
    const records = await this.#waitForRecords(
      day,
      (all) => all.filter((r) => r.runId === runId),
      (mine) => mine.length > 0,
      timeoutMs,
    );
    return { runId, records };
  }

  /** Invokes replay (as `chartflow replay --target aws` does), then waits until its reload has a final record. */
  async replay(day: ChartDay, timeoutMs = 120_000): Promise<{ replay: ReplayResult; records: RunRecord[] }> {
    const before = (await new RunRecords(this.store).list(day)).length;
    const replay = await this.#replay(day, localContext('replay'));
    const records = await this.#waitForRecords(
      day,
      (all) => all,
      (all) => all.length > before,
      timeoutMs,
    );
    return { replay, records };
  }

  /**
   * Waits until `enough` of the day's records exist and all of them are final, then until nothing
   * is under way any more (the clean-up that wrote them also releases the transform lock).
   */
  async #waitForRecords(
    day: ChartDay,
    select: (records: RunRecord[]) => RunRecord[],
    enough: (records: RunRecord[]) => boolean,
    timeoutMs: number,
  ): Promise<RunRecord[]> {
    const records = new RunRecords(this.store);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const selected = select(await records.list(day));
      if (enough(selected) && selected.every(isFinal)) {
        await this.idle();
        return selected;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${day.chartId} ${day.chartDate}: no final run record within ${timeoutMs} ms; records ${JSON.stringify(
            selected.map((r) => r.status),
          )}, queues ${JSON.stringify(await this.depths())}, failures ${JSON.stringify([
            ...this.failures,
            ...this.invoker.failures,
          ])}`,
        );
      }
      await sleep(250);
    }
  }

  /** Resolves once no queue holds a message, no handler runs, no dbt runs and no invocation is under way. */
  async idle(): Promise<void> {
    for (;;) {
      for (const source of this.#sources) await source.idle();
      await this.runner.idle();
      await this.invoker.idle();
      const depths = await this.depths();
      const quiet =
        Object.entries(depths)
          .filter(([queue]) => !queue.endsWith('DeadLetterQueueUrl'))
          .every(([, n]) => n === 0) &&
        this.runner.pending === 0 &&
        this.invoker.pending === 0;
      if (quiet) return;
    }
  }

  /** Messages each queue holds (visible, in flight or delayed), by its resource name. */
  async depths(): Promise<Record<string, number>> {
    const queues = Object.entries(this.resources).filter(([key]) => key.endsWith('QueueUrl'));
    return Object.fromEntries(
      await Promise.all(queues.map(async ([key, url]) => [key, await this.queueDepth(url)] as const)),
    );
  }

  async queueDepth(queueUrl: string): Promise<number> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
  }

  /** The bodies of the messages a queue holds now, received with a visibility timeout of 0 (left in place). */
  async peek(queueUrl: string): Promise<{ body: string; receiveCount: number }[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return Messages.map((m) => ({
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
    }));
  }

  /** Stops the event sources, dbt, the sandbox and the pool, and drops the database. */
  async close(): Promise<void> {
    await this.#stop();
  }
}

/** The resources of the stack that the pipeline uses, created in moto. */
const createResources = async (parts: {
  s3: S3Client;
  sqs: SQSClient;
  events: EventBridgeClient;
  secretsClient: SecretsManagerClient;
  name: (what: string) => string;
  trackQueue: AwsTrackQueueSettings;
  sandbox: Sandbox;
}): Promise<AwsResources> => {
  const { s3, sqs, events, secretsClient, name, trackQueue, sandbox } = parts;
  const queueArn = async (queueUrl: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    return Attributes!.QueueArn!;
  };
  /** A queue and its DLQ, with the redrive policy that moves a message after `maxReceiveCount` receives. */
  const queueWithDlq = async (what: string, visibilitySeconds: number, maxReceiveCount: number) => {
    const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name(`${what}-dlq`) }));
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: name(what),
        Attributes: {
          VisibilityTimeout: String(visibilitySeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await queueArn(dlqUrl!),
            maxReceiveCount: String(maxReceiveCount),
          }),
        },
      }),
    );
    return { url: QueueUrl!, dlqUrl: dlqUrl!, arn: await queueArn(QueueUrl!) };
  };

  const tracks = await queueWithDlq(
    'tracks',
    trackQueue.visibilityTimeoutSeconds,
    trackQueue.maxReceiveCount,
  );
  // Lambda retries an asynchronous invocation twice: three receives, then the DLQ.
  const lakeEvents = await queueWithDlq('lake-events', 5, 3);
  const inboxEvents = await queueWithDlq('inbox-events', 30, 3);
  // serverless.yml: maxReceiveCount 60 (a busy warehouse hands the message back for a minute).
  const transform = await queueWithDlq('transform', 60, 60);

  const { QueueUrl: asyncFailureQueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name('async-failed') }),
  );

  const bucket = name('lake');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Id: 'raw-to-stage-loader',
            QueueArn: lakeEvents.arn,
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'raw/' }] } },
          },
          {
            Id: 'inbox-to-chart-fetch',
            QueueArn: inboxEvents.arn,
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: 'inbox/charts/' },
                  { Name: 'suffix', Value: '.csv' },
                ],
              },
            },
          },
        ],
      },
    }),
  );

  const eventBusName = name('bus');
  await events.send(new CreateEventBusCommand({ Name: eventBusName }));
  const rule = name('transform');
  await events.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: eventBusName,
      EventPattern: JSON.stringify({
        source: [eventSource],
        'detail-type': [stageLoadedDetailType, transformRequestedDetailType],
      }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: eventBusName,
      Targets: [{ Id: 'transform-queue', Arn: transform.arn }],
    }),
  );

  const { ARN } = await secretsClient.send(
    new CreateSecretCommand({ Name: name('spotify'), SecretString: JSON.stringify(sandbox.credentials) }),
  );
  return {
    bucket,
    trackQueueUrl: tracks.url,
    trackDeadLetterQueueUrl: tracks.dlqUrl,
    lakeEventsQueueUrl: lakeEvents.url,
    lakeEventsDeadLetterQueueUrl: lakeEvents.dlqUrl,
    inboxEventsQueueUrl: inboxEvents.url,
    transformQueueUrl: transform.url,
    transformDeadLetterQueueUrl: transform.dlqUrl,
    asyncFailureQueueUrl: asyncFailureQueueUrl!,
    eventBusName,
    spotifySecretId: ARN!,
  };
};
