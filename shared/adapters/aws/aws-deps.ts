import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ChartFetchHandlerDeps } from '../../../services/chart-fetch/handler.js';
import type { StageCleanupDeps } from '../../../services/stage-cleanup/finish-transform.js';
import type { StageLoaderDeps } from '../../../services/stage-loader/load-completed-days.js';
import type { EnrichDeps } from '../../../services/track-attributes/enrich-tracks.js';
import type { TransformDeps } from '../../../services/transform/transform-batch.js';
import type { WarehouseSetupTarget } from '../../../services/warehouse-setup/set-up-warehouse.js';
import { loadAwsConfig, type AwsConfig } from '../../config/aws-config.js';
import { RequestCounter } from '../../http/request-counter.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { Queue } from '../../ports/queue.js';
import type { WarehouseSetup } from '../../ports/warehouse-setup.js';
import { SecretName } from '../../ports/secrets.js';
import { buildProviders, type BuiltProviders } from '../../sources/build-providers.js';
import { EcsTransformRunner } from './ecs-transform-runner.js';
import { EventBridgeEventBus } from './eventbridge-event-bus.js';
import { defaultRedshiftPolling } from './redshift-data-api.js';
import { RedshiftDataWarehouse } from './redshift-data-warehouse.js';
import { RedshiftDataWarehouseSetup } from './redshift-data-warehouse-setup.js';
import { S3ObjectStore } from './s3-object-store.js';
import { SecretsManagerSecrets } from './secrets-manager-secrets.js';
import { SqsQueue } from './sqs-queue.js';

/**
 * What every SDK client is built with. Empty on Lambda (the region and credentials come from the
 * function's environment); tests pass moto's endpoint and fake credentials.
 */
export interface AwsClientConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Options of {@link awsDeps}. */
export interface AwsDepsOptions {
  readonly config: AwsConfig;
  readonly clientConfig?: AwsClientConfig;
  readonly clock?: Clock;
}

/** Each service's dependencies on AWS; each getter builds only what its service uses, once. */
export interface AwsDeps {
  readonly chartFetch: () => ChartFetchHandlerDeps;
  readonly trackAttributes: () => EnrichDeps & { readonly queue: Queue };
  readonly stageLoader: () => StageLoaderDeps;
  readonly transform: () => TransformDeps;
  /** The queue transform is fed by: a busy warehouse hands its message back through it. */
  readonly transformQueue: () => Queue;
  readonly stageCleanup: () => StageCleanupDeps;
  readonly replay: () => { readonly store: ObjectStore };
}

/** How long one warehouse statement may take on AWS; test/infra/aws checks it against the functions' timeouts. */
export const warehouseStatementTimeoutMs = 100_000;

/** How long one statement of the deploy's warehouse set-up may take; likewise checked. */
export const warehouseSetupStatementTimeoutMs = 120_000;

/** A value built at its first use and kept: a Lambda instance builds its clients once. */
const once = <T>(build: () => T): (() => T) => {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
};

/**
 * The composition root on AWS: the SDK clients, the adapters over them and the providers, wired
 * into each service's dependencies exactly as infra/local/runtime.ts wires the embedded adapters.
 * Nothing is built until a service asks for it, so one function never builds (or needs the
 * permissions of) another's clients.
 */
export const awsDeps = (options: AwsDepsOptions): AwsDeps => {
  const { config } = options;
  const clientConfig = { ...options.clientConfig };
  const clock = options.clock ?? systemClock;

  const store = once(() => new S3ObjectStore({ client: new S3Client(clientConfig), bucket: config.bucket }));
  const trackQueue = once(
    () => new SqsQueue({ client: new SQSClient(clientConfig), queueUrl: config.trackQueueUrl }),
  );
  const transformQueue = once(
    () => new SqsQueue({ client: new SQSClient(clientConfig), queueUrl: config.transformQueueUrl }),
  );
  const bus = once(
    () =>
      new EventBridgeEventBus({
        client: new EventBridgeClient(clientConfig),
        eventBusName: config.eventBusName,
      }),
  );
  const warehouse = once(
    () =>
      new RedshiftDataWarehouse({
        client: new RedshiftDataClient(clientConfig),
        workgroupName: config.redshift.workgroupName,
        database: config.redshift.database,
        bucket: config.bucket,
        store: store(),
        copyRoleArn: config.redshift.copyRoleArn,
        clock,
        // A statement is given up on (and cancelled) before the shortest timeout of the functions
        // that use the warehouse (stageCleanup's 120 s, serverless.yml) ends the invocation first.
        polling: { ...defaultRedshiftPolling, timeoutMs: warehouseStatementTimeoutMs },
      }),
  );
  const runner = once(
    () =>
      new EcsTransformRunner({
        client: new ECSClient(clientConfig),
        cluster: config.dbtTask.cluster,
        taskDefinition: config.dbtTask.taskDefinition,
        subnets: [...config.dbtTask.subnets],
        securityGroups: [...config.dbtTask.securityGroups],
      }),
  );
  const providers = once((): BuiltProviders =>
    buildProviders({
      spotify: config.spotify && {
        apiUrl: config.spotify.apiUrl,
        accountsUrl: config.spotify.accountsUrl,
        secrets: new SecretsManagerSecrets({
          client: new SecretsManagerClient(clientConfig),
          secretIds: { [SecretName.spotify]: config.spotifySecretId },
        }),
      },
      reccobeats: config.reccobeats,
      rateLimits: config.rateLimits,
      playlists: config.chartPlaylists,
      sourceName: 'spotify-playlist',
      sendAsOf: false,
      store: store(),
      counter: new RequestCounter(),
      clock,
    }),
  );

  return {
    chartFetch: () => ({
      store: store(),
      queue: trackQueue(),
      source: providers().chartSource,
      clock,
      charts: Object.keys(config.chartPlaylists),
    }),
    trackAttributes: () => ({
      store: store(),
      provider: providers().enricher,
      queue: trackQueue(),
      clock,
      maxReceiveCount: config.maxReceiveCount,
    }),
    stageLoader: () => ({ store: store(), warehouse: warehouse(), bus: bus(), clock }),
    transform: () => ({ store: store(), warehouse: warehouse(), runner: runner(), clock }),
    transformQueue,
    stageCleanup: () => ({ store: store(), warehouse: warehouse(), clock }),
    replay: () => ({ store: store() }),
  };
};

/**
 * This Lambda instance's dependencies, from its environment, built at the first invocation (not
 * at import, so that tests and the local runtime import the handlers without an AWS environment).
 *
 * @throws {ConfigError} naming the variable, if the environment is incomplete.
 */
export const lambdaDeps: () => AwsDeps = once(() => awsDeps({ config: loadAwsConfig() }));

/**
 * The warehouse set-up a deploy's custom resource asks for, signed in with the admin secret it
 * names. Each statement is waited for at most {@link warehouseSetupStatementTimeoutMs}, well
 * inside the function's timeout, so that CloudFormation always gets an answer.
 */
export const awsWarehouseSetup = (
  target: WarehouseSetupTarget,
  clientConfig: AwsClientConfig = {},
  clock: Clock = systemClock,
): WarehouseSetup =>
  new RedshiftDataWarehouseSetup({
    client: new RedshiftDataClient({ ...clientConfig }),
    workgroupName: target.workgroupName,
    database: target.database,
    adminSecretArn: target.adminSecretArn,
    clock,
    polling: { ...defaultRedshiftPolling, timeoutMs: warehouseSetupStatementTimeoutMs },
  });
