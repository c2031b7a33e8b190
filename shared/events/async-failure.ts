import * as z from 'zod';

/**
 * What Lambda sends to an asynchronous invocation's on-failure destination when it gives up on it
 * (docs/aws.md, "Nothing lost between functions"): the event as it was invoked with, the last
 * error, the attempts, and why Lambda stopped. The local runtime sends the same record to its own
 * destination (infra/local/async-invoker.ts), so that one reader serves both.
 */
export const asyncFailureRecordSchema = z.object({
  version: z.string(),
  timestamp: z.string(),
  requestContext: z.object({
    requestId: z.string(),
    functionArn: z.string(),
    /** RetriesExhausted: every attempt failed; EventAgeExceeded: too old to try again. */
    condition: z.enum(['RetriesExhausted', 'EventAgeExceeded', 'MaximumPayloadSizeExceeded']),
    approximateInvokeCount: z.number().int().nonnegative(),
  }),
  requestPayload: z.unknown(),
  responseContext: z
    .object({ statusCode: z.number().optional(), functionError: z.string().optional() })
    .optional(),
  responsePayload: z
    .object({ errorType: z.string().optional(), errorMessage: z.string().optional() })
    .passthrough()
    .nullish(),
});
export type AsyncFailureRecord = z.output<typeof asyncFailureRecordSchema>;
export type AsyncFailureCondition = AsyncFailureRecord['requestContext']['condition'];
