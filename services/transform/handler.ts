import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { logger } from '../../shared/logger.js';
import { detailOf } from '../../shared/events/bus-event.js';
import {
  stageLoadedDetailType,
  stageLoadedSchema,
  transformRequestedDetailType,
  transformRequestedSchema,
} from '../../shared/records/messages.js';
import {
  runRequestedTransform,
  runTransform,
  type TransformDeps,
  type TransformResult,
} from './run-transform.js';

const detailTypeOf = z.object({ 'detail-type': z.string() }).loose();

/** Two rules target it: "Stage Loaded" (a day, or a backfill's load) and "Transform Requested" (a backfill's batch). */
export const makeHandler = (deps: TransformDeps) =>
  middy<unknown, TransformResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const requested = detailTypeOf.safeParse(event).data?.['detail-type'] === transformRequestedDetailType;
      const result = requested
        ? await runRequestedTransform(
            detailOf(event, transformRequestedDetailType, transformRequestedSchema),
            deps,
          )
        : await runTransform(detailOf(event, stageLoadedDetailType, stageLoadedSchema), deps);
      logger.info('transform', { ...result });
      return result;
    });
