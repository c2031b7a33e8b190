import { describe, expect, it } from 'vitest';
import { asyncFailureRecordSchema } from '../../../shared/events/async-failure.js';

/** An on-failure destination's record as Lambda sends it (AWS's example, docs/aws.md). */
const record = {
  version: '1.0',
  timestamp: '2026-12-07T06:31:05.568Z',
  requestContext: {
    requestId: 'e4b46cbf-b738-4b4e-8880-a18cdf61200e',
    functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:chartflow-prod-stage-loader:$LATEST',
    condition: 'RetriesExhausted',
    approximateInvokeCount: 3,
  },
  requestPayload: { Records: [{ s3: { object: { key: 'raw/x.csv' } } }] },
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  responsePayload: { errorType: 'TransientError', errorMessage: 'the warehouse is busy', trace: ['at load'] },
};

describe('Schema: asyncFailureRecordSchema', () => {
  it('reads the invocation, its last error and why Lambda gave up, keeping the error’s other fields', () => {
    expect(asyncFailureRecordSchema.parse(record)).toEqual({
      version: '1.0',
      timestamp: '2026-12-07T06:31:05.568Z',
      requestContext: record.requestContext,
      requestPayload: record.requestPayload,
      responseContext: { statusCode: 200, functionError: 'Unhandled' },
      responsePayload: record.responsePayload,
    });
  });

  it.each(['RetriesExhausted', 'EventAgeExceeded', 'MaximumPayloadSizeExceeded'])(
    'reads a record given up for %s',
    (condition) => {
      const parsed = asyncFailureRecordSchema.parse({
        ...record,
        requestContext: { ...record.requestContext, condition },
      });
      expect(parsed.requestContext.condition).toBe(condition);
    },
  );

  it('reads a record of a function that returned no error payload', () => {
    const { responseContext: _, ...withoutContext } = record;
    expect(asyncFailureRecordSchema.parse({ ...withoutContext, responsePayload: null })).toMatchObject({
      responsePayload: null,
    });
  });

  it('refuses a record of another condition, or whose error is not text', () => {
    expect(
      asyncFailureRecordSchema.safeParse({
        ...record,
        requestContext: { ...record.requestContext, condition: 'Throttled' },
      }).success,
    ).toBe(false);
    expect(
      asyncFailureRecordSchema.safeParse({ ...record, responsePayload: { errorMessage: 7 } }).success,
    ).toBe(false);
  });
});
