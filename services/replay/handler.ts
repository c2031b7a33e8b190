import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod';
import { logger } from '../../shared/logger.js';
import { chartId } from '../../shared/records/messages.js';
import { isoDate } from '../../shared/lake/keys.js';
import type { ObjectStore } from '../../shared/ports/index.js';
import { parseOrThrow } from '../../shared/parse.js';
import { replayDay, type ReplayResult } from './replay-day.js';

const replayEventSchema = z.object({ chartDate: isoDate, chartId: chartId.optional() }).strict();

export interface ReplayHandlerDeps {
  readonly store: ObjectStore;
}

export const makeHandler = (deps: ReplayHandlerDeps) =>
  middy<unknown, ReplayResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const request = parseOrThrow(replayEventSchema, event, 'replay event');
      const result = await replayDay(request, deps.store);
      logger.info('day replayed', { ...request, ...result });
      return result;
    });
