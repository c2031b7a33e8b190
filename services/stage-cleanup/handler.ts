import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../../shared/logger.js';
import { withLogKeys } from '../../shared/log-keys.js';
import { parseTransformStopped } from '../../shared/events/ecs-task-event.js';
import { finishTransform, type CleanupResult, type StageCleanupDeps } from './finish-transform.js';

export const makeHandler = (deps: StageCleanupDeps) =>
  middy<unknown, CleanupResult | undefined>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const outcome = parseTransformStopped(event);
      if (!outcome) return undefined;
      // The batch's run ids join its id once the lake says which loads it holds.
      return withLogKeys({ batchId: outcome.batchId }, async () => {
        const result = await finishTransform(outcome, deps);
        logger.info('transform finished', { ...result });
        return result;
      });
    });
