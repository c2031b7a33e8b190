import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '../../shared/logger.js';
import { parseTransformStopped } from '../../shared/events/ecs-task-event.js';
import { finishTransform, type CleanupResult, type StageCleanupDeps } from './finish-transform.js';

export const makeHandler = (deps: StageCleanupDeps) =>
  middy<unknown, CleanupResult | undefined>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const outcome = parseTransformStopped(event);
      if (!outcome) return undefined;
      const result = await finishTransform(outcome, deps);
      logger.info('transform finished', { ...result });
      return result;
    });

let lambda: ReturnType<typeof makeHandler> | undefined;

/**
 * The Lambda entry point. Its dependencies are built from the function's environment at the first
 * invocation, not at import: the local runtime and the tests import this file without AWS.
 */
export const handler = async (event: unknown, context: Context) => {
  if (!lambda) {
    const { lambdaDeps } = await import('../../shared/adapters/aws/aws-deps.js');
    lambda = makeHandler(lambdaDeps().stageCleanup());
  }
  return lambda(event, context);
};
