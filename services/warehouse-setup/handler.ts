import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { RetryableError } from '../../shared/errors.js';
import {
  customResourceResponse,
  parseCustomResourceRequest,
  sendCustomResourceResponse,
  type CustomResourceRequest,
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
// the stack until the resource's ServiceTimeout. middy stops waiting for the set-up this long
// before the function would time out.
const answerMarginMs = 15_000;

/** What middy's early timeout throws: the set-up may go on, but its answer is no longer waited for. */
class SetUpTimedOut extends RetryableError {
  constructor() {
    // Stryker disable next-line StringLiteral: never shown: answerOnTimeout answers in its place, and a failed answer throws its own error
    super('the warehouse set-up ran out of time');
    // Stryker disable next-line StringLiteral: never shown: answerOnTimeout answers in its place, and a failed answer throws its own error
    this.name = 'SetUpTimedOut';
  }
}

/** Who answered an invocation (keyed by its context, one per invocation): the first answer is the only one. */
type Answers = WeakMap<Context, Promise<CustomResourceResponse>>;

/**
 * Sends CloudFormation the answer and logs it, unless the invocation was answered already — the
 * set-up's outcome arriving after the early timeout's FAILED, or the timeout striking while the
 * outcome is being sent — in which case it is that first answer.
 */
const answerOnce = (
  answers: Answers,
  context: Context,
  request: CustomResourceRequest,
  respond: SendResponseOptions | undefined,
  result: Parameters<typeof customResourceResponse>[1],
): Promise<CustomResourceResponse> => {
  const first = answers.get(context);
  if (first) return first;
  const response = customResourceResponse(request, result);
  const sent = sendCustomResourceResponse(request.ResponseURL, response, respond).then(() => {
    logger.info('custom resource answered', { status: response.Status, reason: response.Reason });
    return response;
  });
  answers.set(context, sent);
  return sent;
};

/**
 * Answers CloudFormation FAILED when middy's early timeout ({@link answerMarginMs} before the
 * function's) stops the wait for the set-up: the reason says how long it had. The handler parsed
 * the request before it started the set-up, so the event is a request here.
 */
const answerOnTimeout = (
  answers: Answers,
  respond: SendResponseOptions | undefined,
): MiddlewareObj<unknown, CustomResourceResponse, Error, Context, { startedAt?: number }> => ({
  before: (request) => {
    request.internal.startedAt = Date.now();
  },
  onError: async (request) => {
    if (!(request.error instanceof SetUpTimedOut)) return;
    const seconds = Math.round((Date.now() - (request.internal.startedAt ?? Date.now())) / 1000);
    const error = new RetryableError(`the warehouse set-up did not finish within ${seconds} s`);
    logger.error('warehouse set-up failed', { error });
    const { event, context } = request;
    request.response = await answerOnce(answers, context, parseCustomResourceRequest(event), respond, {
      error,
      logStream: context.logStreamName,
    });
  },
});

/**
 * CloudFormation's custom resource protocol around {@link setUpWarehouse}: whatever happens —
 * bad properties, a refused statement, a timeout — CloudFormation gets an answer, with the reason,
 * so a failed set-up fails (and rolls back) the deploy at once instead of holding it. A request
 * that cannot be read has no URL to answer to: the invocation fails.
 */
export const makeHandler = (deps: WarehouseSetupHandlerDeps) => {
  const answers: Answers = new WeakMap();
  return middy<unknown, CustomResourceResponse>({
    timeoutEarlyInMillis: answerMarginMs,
    timeoutEarlyResponse: () => {
      throw new SetUpTimedOut();
    },
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(answerOnTimeout(answers, deps.respond))
    .handler(async (event, context: Context) => {
      const request = parseCustomResourceRequest(event);
      logger.appendKeys({ requestType: request.RequestType, logicalResourceId: request.LogicalResourceId });
      let result: Parameters<typeof customResourceResponse>[1];
      try {
        result = { outcome: await setUpWarehouse(request, deps) };
      } catch (error) {
        logger.error('warehouse set-up failed', { error: error as Error });
        result = { error, logStream: context.logStreamName };
      }
      return answerOnce(answers, context, request, deps.respond, result);
    });
};
