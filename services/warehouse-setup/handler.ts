import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { RetryableError } from '../../shared/errors.js';
import {
  customResourceResponse,
  parseCustomResourceRequest,
  sendCustomResourceResponse,
  type CustomResourceResponse,
  type SendResponseOptions,
} from './custom-resource.js';
import { logger } from '../../shared/logger.js';
import { setUpWarehouse, type WarehouseSetupDeps } from './set-up-warehouse.js';

export interface WarehouseSetupHandlerDeps extends WarehouseSetupDeps {
  /** How the answer is sent (tests shorten the retries). */
  readonly respond?: SendResponseOptions;
}

// Time kept back from the function's timeout to answer CloudFormation: an unanswered request holds
// the stack until the resource's ServiceTimeout.
const answerMarginMs = 15_000;

/** Rejects when `ms` pass first; the work may go on, but its answer is no longer waited for. */
const withDeadline = async <T>(work: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new RetryableError(`the warehouse set-up did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * CloudFormation's custom resource protocol around {@link setUpWarehouse}: whatever happens —
 * bad properties, a refused statement, a timeout — CloudFormation gets an answer, with the reason,
 * so a failed set-up fails (and rolls back) the deploy at once instead of holding it.
 */
export const makeHandler = (deps: WarehouseSetupHandlerDeps) =>
  middy<unknown, CustomResourceResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context: Context) => {
      const request = parseCustomResourceRequest(event);
      logger.appendKeys({ requestType: request.RequestType, logicalResourceId: request.LogicalResourceId });
      let response: CustomResourceResponse;
      try {
        const budget = Math.max(1_000, context.getRemainingTimeInMillis() - answerMarginMs);
        const outcome = await withDeadline(setUpWarehouse(request, deps), budget);
        response = customResourceResponse(request, { outcome });
      } catch (error) {
        logger.error('warehouse set-up failed', { error: error as Error });
        response = customResourceResponse(request, { error, logStream: context.logStreamName });
      }
      await sendCustomResourceResponse(request.ResponseURL, response, deps.respond);
      logger.info('custom resource answered', { status: response.Status, reason: response.Reason });
      return response;
    });
