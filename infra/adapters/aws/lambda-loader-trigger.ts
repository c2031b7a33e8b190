import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { ConfigError, InvalidRecordError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { LoaderTrigger } from '../../../shared/ports/loader-trigger.js';
import type { ObjectInfo } from '../../../shared/ports/object-store.js';
import { objectCreatedEvent } from '../embedded/s3-events.js';
import { awsError } from './aws-errors.js';

/** Options of a {@link LambdaLoaderTrigger}. */
export interface LambdaLoaderTriggerOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: LambdaClient;
  /** The stage loader's function name or ARN. */
  readonly functionName: string;
  /** The lake's bucket, as the notification names it. */
  readonly bucket: string;
  /** The bucket's region, as the notification names it. */
  readonly region: string;
}

const optionsSchema = z.object({
  client: z.instanceof(LambdaClient, { message: 'must be a LambdaClient' }),
  functionName: z.string().regex(/^[A-Za-z0-9_:.-]{1,170}$/, 'is not a Lambda function name or ARN'),
  bucket: z.string().min(3),
  region: z.string().min(1),
});

// An asynchronous invocation is queued by Lambda and answered 202, with nothing of the function's.
const answerSchema = z.object({ StatusCode: z.number().int() });

/**
 * Delivers a lost bucket notification again as S3 does: an asynchronous invocation (`Event`) of the
 * stage loader with an S3 event of one `ObjectCreated:Put` record for the object, shaped as S3
 * shapes it (docs/reliability.md, "The reconciler"). Lambda retries a failed invocation twice and
 * then keeps it where the stage loader's on-failure destination does, as for S3's own events.
 * Nothing is written to the bucket, so no version is added and no other listener hears it.
 */
export class LambdaLoaderTrigger implements LoaderTrigger {
  readonly #options: LambdaLoaderTriggerOptions;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: LambdaLoaderTriggerOptions) {
    this.#options = parseOrThrow(optionsSchema, options, 'LambdaLoaderTrigger options', ConfigError);
  }

  async objectCreated(object: ObjectInfo): Promise<void> {
    const { client, functionName, bucket, region } = this.#options;
    const event = objectCreatedEvent({
      bucket,
      region,
      key: object.key,
      size: object.size,
      etag: object.etag,
      eventName: 'ObjectCreated:Put',
      eventTime: object.lastModified,
    });
    const what = `Lambda Invoke ${functionName} (Event) for s3://${bucket}/${object.key}`;
    let raw;
    try {
      raw = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (error) {
      throw awsError(what, error);
    }
    const { StatusCode } = parseOrThrow(answerSchema, raw, `${what}: the answer`);
    if (StatusCode !== 202) throw new InvalidRecordError(`${what}: answered status ${StatusCode}, not 202`);
  }
}
