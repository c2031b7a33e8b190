import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { createdKeysOf } from '../../shared/events/s3-event.js';
import { loadCompletedDays, type LoadDecision, type StageLoaderDeps } from './load-completed-days.js';

export const makeHandler = (deps: StageLoaderDeps) =>
  middy<unknown, LoadDecision[]>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const decisions = await loadCompletedDays(createdKeysOf(event), deps);
      for (const decision of decisions) logger.info('stage-loader decision', { ...decision });
      return decisions;
    });

let lambda: ReturnType<typeof makeHandler> | undefined;

/**
 * The Lambda entry point. Its dependencies are built from the function's environment at the first
 * invocation, not at import: the local runtime and the tests import this file without AWS.
 */
export const handler = async (event: unknown, context: Context) => {
  if (!lambda) {
    const { lambdaDeps } = await import('../../shared/adapters/aws/aws-deps.js');
    lambda = makeHandler(lambdaDeps().stageLoader());
  }
  return lambda(event, context);
};
