import { ECSClient } from '@aws-sdk/client-ecs';
import { makeQueueHandler, type TransformQueueDeps } from '../../../services/transform/handler.js';
import { EcsTransformRunner } from '../../adapters/aws/ecs-transform-runner.js';
import { lakeStore } from './lake.js';
import { sqsQueue } from './queues.js';
import { redshiftWarehouse } from './warehouse.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/** transform's composition root: the lake, the warehouse, dbt on Fargate, the queue that feeds it, the metrics. */
export const transformDeps = (env: AwsFunctionEnv): TransformQueueDeps => {
  const store = lakeStore(env);
  const { dbtTask } = env.config;
  return {
    store,
    warehouse: redshiftWarehouse(env, store),
    runner: new EcsTransformRunner({
      client: new ECSClient(env.clientConfig),
      cluster: dbtTask.cluster,
      taskDefinition: dbtTask.taskDefinition,
      subnets: [...dbtTask.subnets],
      securityGroups: [...dbtTask.securityGroups],
    }),
    clock: env.clock,
    metrics: awsMetrics(env),
    transformQueue: sqsQueue(env, env.config.transformQueueUrl),
  };
};

/** The Lambda entry point (serverless.yml: transform, fed by TransformQueue). */
export const handler = lambdaEntry(() => makeQueueHandler(transformDeps(lambdaEnv())));
