import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import type { S3EventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { objectCreatedEvent } from '../../../infra/adapters/embedded/s3-events.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { createdKeysOf } from '../../../shared/events/s3-event.js';
import { s3EventFactory } from '../../support/factories.js';
import { asS3SendsIt } from '../../support/s3-notifications.js';

const key = 'raw/chart_songs/date=2025-01-02/chart=global/chart songs+1.csv';

/** A record as moto 5.2 delivers it (moto/s3/notifications.py): no identities, no sequencer, `/` encoded. */
const motoRecord = (): S3EventRecord =>
  ({
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2025-01-02T03:04:05.678Z',
    eventName: 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'raw-created',
      bucket: { name: 'chartflow-test', arn: 'arn:aws:s3:::chartflow-test' },
      object: {
        key: 'raw%2Fchart_songs%2Fdate%3D2025-01-02%2Fchart%3Dglobal%2Fchart+songs%2B1.csv',
        size: 3,
        eTag: 'abc',
      },
    },
  }) as unknown as S3EventRecord;

describe('Function: createdKeysOf', () => {
  it.each([
    ['the S3 documentation', () => s3EventFactory(key)],
    [
      'the embedded store',
      () =>
        objectCreatedEvent({
          bucket: 'chartflow-local',
          region: 'local',
          key,
          size: 3,
          etag: 'abc',
          eventName: 'ObjectCreated:Put',
        }),
    ],
    ["moto's, fixed up as S3 sends it", () => ({ Records: [asS3SendsIt(motoRecord())] })],
  ])(
    'reads the decoded key of an event as %s writes it, which Powertools takes for an S3 event',
    (_, event) => {
      expect(S3Schema.safeParse(event()).success).toBe(true);
      expect(createdKeysOf(event())).toEqual([key]);
    },
  );

  it('keeps the ObjectCreated records only', () => {
    const event = s3EventFactory(
      { key: 'a.csv', eventName: 'ObjectRemoved:Delete' },
      { key: 'b c.csv', eventName: 'ObjectCreated:Copy' },
    );
    expect(createdKeysOf(event)).toEqual(['b c.csv']);
  });

  it.each([
    ['no record', { Records: [] }, /^S3 event: ✖ Too small: expected array to have >=1 items → at Records$/],
    [
      'a time that is no datetime',
      s3EventFactory({ key, eventTime: '2025-01-02 03:04:05' }),
      /^S3 event: ✖ Invalid ISO datetime → at Records\[0\]\.eventTime$/,
    ],
    [
      'a record from elsewhere',
      { Records: [{ ...s3EventFactory(key).Records[0]!, eventSource: 'aws:sqs' }] },
      /^S3 event: ✖ Invalid input: expected "aws:s3" → at Records\[0\]\.eventSource$/,
    ],
    [
      "moto's record as it comes (no userIdentity)",
      { Records: [motoRecord()] },
      /^S3 event: ✖ Invalid input: expected object, received undefined → at Records\[0\]\.userIdentity; /,
    ],
  ])('refuses %s, naming the field', (_, event, message) => {
    expect(() => createdKeysOf(event)).toThrow(InvalidRecordError);
    expect(() => createdKeysOf(event)).toThrow(message);
  });

  it('refuses a key that is not URL encoding, naming it', () => {
    const event = s3EventFactory('x');
    event.Records[0]!.s3.object.key = '%E0%A4%A';
    expect(() => createdKeysOf(event)).toThrow(InvalidRecordError);
    expect(() => createdKeysOf(event)).toThrow('S3 event key "%E0%A4%A" is not valid URL encoding');
  });
});
