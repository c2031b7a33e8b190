import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
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
