import { makeHandler } from '../../../services/stage-cleanup/handler.js';
import type { StageCleanupDeps } from '../../../services/stage-cleanup/finish-transform.js';
import { lakeStore } from './lake.js';
import { redshiftWarehouse } from './warehouse.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/** stage-cleanup's composition root: the lake, the warehouse whose stage it empties, the metrics. */
export const stageCleanupDeps = (env: AwsFunctionEnv): StageCleanupDeps => {
  const store = lakeStore(env);
  return { store, warehouse: redshiftWarehouse(env, store), clock: env.clock, metrics: awsMetrics(env) };
};

/** The Lambda entry point (serverless.yml: stageCleanup). */
export const handler = lambdaEntry(() => makeHandler(stageCleanupDeps(lambdaEnv())));
