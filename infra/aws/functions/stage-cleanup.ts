import { makeHandler } from '../../../services/stage-cleanup/handler.js';
import type { StageCleanupDeps } from '../../../services/stage-cleanup/finish-transform.js';
import { lakeStore } from './lake.js';
import { redshiftWarehouse } from './warehouse.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';

/** stage-cleanup's composition root: the lake and the warehouse whose stage it empties. */
export const stageCleanupDeps = (env: AwsFunctionEnv): StageCleanupDeps => {
  const store = lakeStore(env);
  return { store, warehouse: redshiftWarehouse(env, store), clock: env.clock };
};

/** The Lambda entry point (serverless.yml: stageCleanup). */
export const handler = lambdaEntry(() => makeHandler(stageCleanupDeps(lambdaEnv())));
