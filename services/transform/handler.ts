import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '../../shared/logger.js';
import { detailOf } from '../../shared/events/bus-event.js';
import { stageLoadedDetailType, stageLoadedSchema } from '../../shared/records/messages.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { runTransform, type TransformDeps } from './run-transform.js';

export const makeHandler = (deps: TransformDeps) =>
  middy<unknown, RunRecord>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const loaded = detailOf(event, stageLoadedDetailType, stageLoadedSchema);
      const record = await runTransform(loaded, deps);
      logger.info('transform', { runId: record.runId, loadId: record.loadId, status: record.status });
      return record;
    });
