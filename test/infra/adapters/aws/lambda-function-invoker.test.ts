import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaFunctionInvoker } from '../../../../infra/adapters/aws/lambda-function-invoker.js';
import {
  ConfigError,
  InvalidRecordError,
  PermanentError,
  RetryableError,
} from '../../../../shared/errors.js';

// Lambda cannot run here (no Docker for moto's Lambda): the adapter is tested on the request it sends
// and on every kind of answer Invoke gives.
const lambda = mockClient(LambdaClient);
// The SDK types an answer's Payload as its blob adapter; the bytes are all the adapter reads.
type AnswerPayload = NonNullable<InvokeCommandOutput['Payload']>;
const bytes = (text: string) => new TextEncoder().encode(text) as AnswerPayload;
const json = (value: unknown) => bytes(JSON.stringify(value));
const invoker = () => new LambdaFunctionInvoker({ client: new LambdaClient({ region: 'eu-west-1' }) });

describe('Function: LambdaFunctionInvoker', () => {
  afterEach(() => lambda.reset());

  it('invokes RequestResponse with the payload as JSON, and returns the parsed answer', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: json({ claimsReset: 1, objectsReplayed: 63 }) });

    const answer = await invoker().invoke('chartflow-dev-replay', { chartDate: '2026-11-20', chartId: 'br' });

    expect(answer).toEqual({ claimsReset: 1, objectsReplayed: 63 });
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.FunctionName).toBe('chartflow-dev-replay');
    expect(input.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({
      chartDate: '2026-11-20',
      chartId: 'br',
    });
  });

  it('returns undefined when the function returns nothing', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json(null) });
    expect(await invoker().invoke('f', {})).toBeUndefined();
  });

  it('turns an Unhandled function error into a permanent error naming its type and message', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: json({
        errorType: 'InvalidRecordError',
        errorMessage: 'replay event: ✖ Invalid ISO date → at chartDate',
        trace: ['InvalidRecordError: replay event', '    at handler (file:///var/task/index.mjs:1:1)'],
      }),
    });

    const failure = await invoker()
      .invoke('chartflow-dev-replay', { chartDate: 'yesterday' })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(PermanentError);
    expect(failure).not.toBeInstanceOf(RetryableError);
    expect((failure as Error).message).toBe(
      'Lambda function chartflow-dev-replay failed (Unhandled): InvalidRecordError: replay event: ✖ Invalid ISO date → at chartDate',
    );
    // The stack trace stays in the function's logs.
    expect((failure as Error).message).not.toMatch(/index\.mjs/);
  });

  it('reports a Handled error and a timeout, which has no errorType', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Handled',
        Payload: json({ errorType: 'PermanentError', errorMessage: 'S3 ListObjectsV2 failed: AccessDenied' }),
      })
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: json({ errorMessage: '2026-11-22T08:00:03.000Z 1f2e Task timed out after 3.00 seconds' }),
      });

    await expect(invoker().invoke('f', {})).rejects.toThrow(
      'Lambda function f failed (Handled): PermanentError: S3 ListObjectsV2 failed: AccessDenied',
    );
    await expect(invoker().invoke('f', {})).rejects.toThrow(
      /^Lambda function f failed \(Unhandled\): 2026-11-22T08:00:03\.000Z 1f2e Task timed out after 3\.00 seconds$/,
    );
  });

  it('keeps an error payload that is not JSON as text', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: bytes('Runtime exited with error: signal: killed'),
    });
    await expect(invoker().invoke('f', {})).rejects.toThrow(
      'Lambda function f failed (Unhandled): Runtime exited with error: signal: killed',
    );
  });

  it('refuses an answer that is not JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes('<html>') });
    await expect(invoker().invoke('f', {})).rejects.toThrow(InvalidRecordError);
  });

  it('names the function when the call itself fails: retryable when throttled, permanent when it does not exist', async () => {
    lambda
      .on(InvokeCommand)
      .rejectsOnce(
        new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
      )
      .rejectsOnce(
        new ResourceNotFoundException({
          message: 'Function not found: arn:aws:lambda:eu-west-1:1:function:nope',
          $metadata: { httpStatusCode: 404 },
        }),
      );

    const throttled = await invoker()
      .invoke('f', {})
      .catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(RetryableError);
    expect((throttled as Error).message).toMatch(
      /^Lambda Invoke f failed: TooManyRequestsException \(HTTP 429\)/,
    );

    const missing = await invoker()
      .invoke('nope', {})
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PermanentError);
    expect((missing as Error).message).toMatch(
      /^Lambda Invoke nope failed: ResourceNotFoundException \(HTTP 404\): Function not found/,
    );
  });

  it('refuses options without a LambdaClient', () => {
    expect(() => new LambdaFunctionInvoker({ client: {} as LambdaClient })).toThrow(ConfigError);
  });
});
