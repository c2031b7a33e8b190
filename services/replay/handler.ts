import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { logger } from '../../shared/logger.js';
import { lambdaEntry } from '../../shared/lambda-entry.js';
import { chartId } from '../../shared/records/messages.js';
import { isoDate } from '../../shared/lake/keys.js';
import type { ObjectStore } from '../../shared/ports/index.js';
import { describeIssues, InvalidRecordError } from '../../shared/errors.js';
import { replayDay, type ReplayResult } from './replay-day.js';

const replayEventSchema = z.object({ chartDate: isoDate, chartId: chartId.optional() }).strict();

export const makeHandler = (deps: { readonly store: ObjectStore }) =>
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

/** The Lambda entry point (serverless.yml): built from the function's environment at its first invocation. */
export const handler = lambdaEntry((deps) => makeHandler(deps.replay()));
