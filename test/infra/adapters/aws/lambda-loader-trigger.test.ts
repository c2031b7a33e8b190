import {
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaLoaderTrigger } from '../../../../infra/adapters/aws/lambda-loader-trigger.js';
import { createdKeysOf } from '../../../../shared/events/s3-event.js';
import {
  ConfigError,
  InvalidRecordError,
  PermanentError,
  RetryableError,
} from '../../../../shared/errors.js';

// Lambda cannot run here (no Docker for moto's Lambda): the adapter is tested on the request it
// sends, read back by the stage loader's own parser, and on every kind of answer Invoke gives.
const lambda = mockClient(LambdaClient);
const trigger = () =>
  new LambdaLoaderTrigger({
    client: new LambdaClient({ region: 'eu-west-1' }),
    functionName: 'chartflow-dev-stageLoader',
    bucket: 'chartflow-dev-lake',
    region: 'eu-west-1',
  });
const object = {
  key: 'raw/chart_songs/date=2026-11-20/chart=global/manifest.json',
  size: 1234,
  etag: '0123456789abcdef0123456789abcdef',
  lastModified: new Date('2026-11-20T06:01:02.000Z'),
};

describe('Function: LambdaLoaderTrigger', () => {
  afterEach(() => lambda.reset());

  it('invokes the stage loader asynchronously with the S3 ObjectCreated event S3 would send', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });

    await trigger().objectCreated(object);

    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'chartflow-dev-stageLoader', InvocationType: 'Event' });
    const event: unknown = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));
    expect(createdKeysOf(event)).toEqual([object.key]);
    expect(event).toMatchObject({
      Records: [
        {
          eventSource: 'aws:s3',
          awsRegion: 'eu-west-1',
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-20T06:01:02.000Z',
          s3: {
            bucket: { name: 'chartflow-dev-lake', arn: 'arn:aws:s3:::chartflow-dev-lake' },
            // S3 sends the key form-URL-encoded, as the stage loader decodes it (above).
            object: {
              key: 'raw/chart_songs/date%3D2026-11-20/chart%3Dglobal/manifest.json',
              size: 1234,
              eTag: object.etag,
            },
          },
        },
      ],
    });
  });

  it('refuses an answer other than 202, naming the function and the object', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    const error = await trigger()
      .objectCreated(object)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect((error as Error).message).toMatch(
      /chartflow-dev-stageLoader \(Event\) for s3:\/\/chartflow-dev-lake\/raw\/.*manifest\.json: answered status 200, not 202/,
    );
  });

  it('makes throttling retryable and a missing function permanent', async () => {
    lambda
      .on(InvokeCommand)
      .rejectsOnce(
        new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
      )
      .rejectsOnce(
        new ResourceNotFoundException({ message: 'Function not found', $metadata: { httpStatusCode: 404 } }),
      );
    await expect(trigger().objectCreated(object)).rejects.toBeInstanceOf(RetryableError);
    const missing = await trigger()
      .objectCreated(object)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing).not.toBeInstanceOf(RetryableError);
  });

  it('refuses options that are not a client and a function name', () => {
    expect(
      () =>
        new LambdaLoaderTrigger({
          client: new LambdaClient({ region: 'eu-west-1' }),
          functionName: 'not a name',
          bucket: 'b-1',
          region: 'eu-west-1',
        }),
    ).toThrow(ConfigError);
  });
});
