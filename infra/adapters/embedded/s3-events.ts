import { randomToken } from './random-tokens.js';
import type { S3Event } from 'aws-lambda';
import { encodeS3Key } from '../../../shared/events/s3-keys.js';

/** The ObjectCreated kinds a store announces: a write, or a copy onto itself (`touch`). */
export type ObjectCreatedName = 'ObjectCreated:Put' | 'ObjectCreated:Copy';

/** What an ObjectCreated notification says about one object; `key` is the plain (decoded) key. */
export interface ObjectCreatedDetails {
  readonly bucket: string;
  readonly region: string;
  readonly key: string;
  readonly size: number;
  /** MD5 of the content, lowercase hex, without quotes (as notifications carry it). */
  readonly etag: string;
  readonly eventName: ObjectCreatedName;
  /** Defaults to now. */
  readonly eventTime?: Date;
  /** Defaults to the next value of a sequencer that only grows within this process. */
  readonly sequencer?: string;
}

let lastSequence = 0n;

/**
 * A hex sequencer, as S3 puts on events so that consumers can order the events of one key.
 * Based on the wall clock in microseconds, but never repeating or going back within a process.
 */
export const nextSequencer = (): string => {
  const now = BigInt(Date.now()) * 1000n;
  lastSequence = now > lastSequence ? now : lastSequence + 1n;
  return lastSequence.toString(16).toUpperCase().padStart(16, '0');
};

const requestId = () => randomToken(8, 'hex').toUpperCase();

/**
 * An S3 event with one ObjectCreated record, shaped exactly like the ones S3 bucket notifications
 * deliver to Lambda (event version 2.1, key URL-encoded), so that handlers cannot tell a local
 * store from S3.
 */
export const objectCreatedEvent = (details: ObjectCreatedDetails): S3Event => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: details.region,
      eventTime: (details.eventTime ?? new Date()).toISOString(),
      eventName: details.eventName,
      userIdentity: { principalId: 'AWS:chartflow-local' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': requestId(), 'x-amz-id-2': randomToken(48, 'base64') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'chartflow-object-created',
        bucket: {
          name: details.bucket,
          ownerIdentity: { principalId: 'chartflow-local' },
          arn: `arn:aws:s3:::${details.bucket}`,
        },
        object: {
          key: encodeS3Key(details.key),
          size: details.size,
          eTag: details.etag,
          sequencer: details.sequencer ?? nextSequencer(),
        },
      },
    },
  ],
});
