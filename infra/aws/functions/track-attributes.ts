import { makeHandler, type TrackAttributesHandlerDeps } from '../../../services/track-attributes/handler.js';
import { lakeStore } from './lake.js';
import { awsProviders } from './providers.js';
import { lambdaEnv, type AwsFunctionEnv } from './environment.js';
import { lambdaEntry } from './lambda-entry.js';
import { awsMetrics } from './metrics.js';

/**
 * track-attributes' composition root: the lake, the providers' enricher, the clock, the metrics,
 * and the track queue's redrive (what delivery dead-letters a record handed back).
 */
export const trackAttributesDeps = (env: AwsFunctionEnv): TrackAttributesHandlerDeps => {
  const store = lakeStore(env);
  return {
    store,
    provider: awsProviders(env, store).enricher,
    clock: env.clock,
    metrics: awsMetrics(env),
    maxReceiveCount: env.config.maxReceiveCount,
  };
};

/** The Lambda entry point (serverless.yml: trackAttributes). */
export const handler = lambdaEntry(() => makeHandler(trackAttributesDeps(lambdaEnv())));
