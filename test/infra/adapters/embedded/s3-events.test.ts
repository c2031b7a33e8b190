import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { describe, expect, it } from 'vitest';
import { nextSequencer, objectCreatedEvent } from '../../../../infra/adapters/embedded/s3-events.js';
import { decodeS3Key } from '../../../../shared/events/s3-keys.js';
import { s3EventFactory, shapeOf } from '../../../support/factories.js';

const details = {
  bucket: 'chartflow-local',
  region: 'eu-west-1',
  key: 'raw/chart_songs/date=2025-01-02/chart=global/chart songs.csv',
  size: 42,
  etag: 'd41d8cd98f00b204e9800998ecf8427e',
  eventName: 'ObjectCreated:Put',
} as const;

describe('Function: objectCreatedEvent', () => {
  it('has the shape of an S3 bucket notification', () => {
    expect(shapeOf(objectCreatedEvent(details))).toEqual(shapeOf(s3EventFactory(details.key)));
  });

  it("is an S3 event by Powertools' schema, which the handlers read it with", () => {
    expect(S3Schema.safeParse(objectCreatedEvent(details)).error).toBeUndefined();
    expect(S3Schema.safeParse(objectCreatedEvent({ ...details, region: 'local' })).error).toBeUndefined();
  });

  it('says what S3 would say about the object', () => {
    const eventTime = new Date('2025-01-02T03:04:05.678Z');
    const [record] = objectCreatedEvent({ ...details, eventTime, sequencer: '00AB' }).Records;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2025-01-02T03:04:05.678Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'chartflow-local', arn: 'arn:aws:s3:::chartflow-local' },
        object: {
          key: 'raw/chart_songs/date%3D2025-01-02/chart%3Dglobal/chart+songs.csv',
          size: 42,
          eTag: details.etag,
          sequencer: '00AB',
        },
      },
    });
    expect(decodeS3Key(record!.s3.object.key)).toBe(details.key);
  });
});

describe('Function: nextSequencer', () => {
  it('only grows, as hex of one width', () => {
    const sequencers = Array.from({ length: 1000 }, nextSequencer);
    expect(sequencers.every((s) => /^[0-9A-F]{16}$/.test(s))).toBe(true);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(sequencers.length);
  });
});
