import { makeHandler, type ChartFetchHandlerDeps } from '../../../services/chart-fetch/handler.js';
import { lakeStore } from './lake.js';
import { awsProviders } from './providers.js';
import { sqsQueue } from './queues.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/** chart-fetch's composition root: the lake, the track queue, the providers' chart source, the metrics. */
export const chartFetchDeps = (env: AwsFunctionEnv): ChartFetchHandlerDeps => {
  const store = lakeStore(env);
  return {
    store,
    queue: sqsQueue(env, env.config.trackQueueUrl),
    source: awsProviders(env, store).chartSource,
    clock: env.clock,
    metrics: awsMetrics(env),
    charts: Object.keys(env.config.chartPlaylists),
  };
};

/** The Lambda entry point (serverless.yml: chartFetch). */
export const handler = lambdaEntry(() => makeHandler(chartFetchDeps(lambdaEnv())));
