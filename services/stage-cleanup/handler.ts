import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../../shared/logger.js';
import { parseTransformStopped } from '../../shared/events/ecs-task-event.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { finishTransform, type StageCleanupDeps } from './finish-transform.js';

export const makeHandler = (deps: StageCleanupDeps) =>
  middy<unknown, RunRecord | undefined>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const outcome = parseTransformStopped(event);
      if (!outcome) return undefined;
      const record = await finishTransform(outcome, deps);
      logger.info('transform finished', {
        runId: record.runId,
        loadId: record.loadId,
        status: record.status,
      });
      return record;
    });
