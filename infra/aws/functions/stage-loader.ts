import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { makeHandler } from '../../../services/stage-loader/handler.js';
import type { StageLoaderDeps } from '../../../services/stage-loader/load-completed-days.js';
import { EventBridgeEventBus } from '../../adapters/aws/eventbridge-event-bus.js';
import { lakeStore } from './lake.js';
import { redshiftWarehouse } from './warehouse.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/** stage-loader's composition root: the lake, the warehouse it COPYs into, the bus it announces loads on, the metrics. */
export const stageLoaderDeps = (env: AwsFunctionEnv): StageLoaderDeps => {
  const store = lakeStore(env);
  return {
    store,
    warehouse: redshiftWarehouse(env, store),
    bus: new EventBridgeEventBus({
      client: new EventBridgeClient(env.clientConfig),
      eventBusName: env.config.eventBusName,
    }),
    clock: env.clock,
    metrics: awsMetrics(env),
  };
};

/** The Lambda entry point (serverless.yml: stageLoader). */
export const handler = lambdaEntry(() => makeHandler(stageLoaderDeps(lambdaEnv())));
