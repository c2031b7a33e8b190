import type { S3Event, S3EventRecord } from 'aws-lambda';

/**
 * A record moto delivered, completed where moto departs from S3 (moto 5.2): moto percent-encodes
 * the `/` of keys (S3 leaves it), and omits userIdentity, requestParameters, responseElements,
 * bucket.ownerIdentity and object.sequencer. What moto does send is kept as it is.
 */
export const asS3SendsIt = (record: S3EventRecord): S3EventRecord => ({
  ...record,
  // Typed as always there, which they are from S3 but not from moto.
  userIdentity: record.userIdentity ?? { principalId: 'AWS:AIDAMOTO' },
  requestParameters: record.requestParameters ?? { sourceIPAddress: '127.0.0.1' },
  responseElements: record.responseElements ?? { 'x-amz-request-id': 'moto', 'x-amz-id-2': 'moto' },
  s3: {
    ...record.s3,
    bucket: { ...record.s3.bucket, ownerIdentity: record.s3.bucket.ownerIdentity ?? { principalId: 'MOTO' } },
    object: {
      ...record.s3.object,
      sequencer: record.s3.object.sequencer ?? '0',
      key: record.s3.object.key.replace(/%2F/gi, '/'),
    },
  },
});

/**
 * Whether an SQS body from a bucket notification is an S3 event. When a notification is set up, S3
 * first sends an `s3:TestEvent`, which has no Records.
 */
export const isS3Event = (body: unknown): body is S3Event =>
  typeof body === 'object' && body !== null && Array.isArray((body as S3Event).Records);
