import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { makeHandler } from '../../../services/reconciler/handler.js';
import type { ReconcilerDeps } from '../../../services/reconciler/reconcile.js';
import { loadReconcilerConfig, type ReconcilerConfig } from '../../../shared/config/reconciler-config.js';
import { EventBridgeEventBus } from '../../adapters/aws/eventbridge-event-bus.js';
import { LambdaLoaderTrigger } from '../../adapters/aws/lambda-loader-trigger.js';
import { awsReconcilerSettings } from '../../reconciler-settings.js';
import { lakeStore } from './lake.js';
import { redshiftWarehouse } from './warehouse.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/**
 * The reconciler's composition root: the lake, the warehouse (the stage's rows), the stack's bus
 * (events put again), Lambda (the stage loader invoked with a lost ObjectCreated), the metrics
 * (the stale charts, every round).
 */
export const reconcilerDeps = (env: AwsFunctionEnv, own: ReconcilerConfig): ReconcilerDeps => {
  const store = lakeStore(env);
  return {
    store,
    warehouse: redshiftWarehouse(env, store),
    bus: new EventBridgeEventBus({
      client: new EventBridgeClient(env.clientConfig),
      eventBusName: env.config.eventBusName,
    }),
    clock: env.clock,
    loader: new LambdaLoaderTrigger({
      client: new LambdaClient(env.clientConfig),
      functionName: own.stageLoaderFunctionName,
      bucket: env.config.bucket,
      region: env.clientConfig.region ?? own.region,
    }),
    charts: Object.keys(env.config.chartPlaylists),
    settings: awsReconcilerSettings(),
    metrics: awsMetrics(env),
  };
};

/** The Lambda entry point (serverless.yml: reconciler, scheduled hourly). */
export const handler = lambdaEntry(() => makeHandler(reconcilerDeps(lambdaEnv(), loadReconcilerConfig())));
