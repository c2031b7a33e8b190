import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { logger } from '../../shared/logger.js';
import { chartId } from '../../shared/records/messages.js';
import { isoDate } from '../../shared/lake/keys.js';
import type { ObjectStore } from '../../shared/ports/index.js';
import { describeIssues, InvalidRecordError } from '../../shared/errors.js';
import { replayDay, type ReplayResult } from './replay-day.js';

const replayEventSchema = z.object({ chartDate: isoDate, chartId: chartId.optional() }).strict();

export interface ReplayHandlerDeps {
  readonly store: ObjectStore;
}

export const makeHandler = (deps: ReplayHandlerDeps) =>
  middy<unknown, ReplayResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const request = replayEventSchema.safeParse(event);
      if (!request.success)
        throw new InvalidRecordError(`replay event: ${describeIssues(request.error.issues)}`);
      const result = await replayDay(request.data, deps.store);
      logger.info('day replayed', { ...request.data, ...result });
      return result;
    });
