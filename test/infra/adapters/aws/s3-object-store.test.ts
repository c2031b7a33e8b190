import { randomUUID } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import {
  ConfigError,
  InvalidRecordError,
  PermanentError,
  RetryableError,
} from '../../../../shared/errors.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';
import { asS3SendsIt, isS3Event } from '../../../support/s3-notifications.js';
import { SqsEventSource } from '../../../support/sqs-event-source.js';
import { describeObjectStoreContract } from '../../../shared/ports/object-store.contract.js';

const available = motoAvailable();
const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe.skipIf(!available)('S3ObjectStore on moto', () => {
  let moto: Moto;
  let s3: S3Client;
  let sqs: SQSClient;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    sqs = new SQSClient(moto.clientConfig);
  });
  afterAll(() => moto?.stop());

  const createBucket = async () => {
    const bucket = uniqueName('lake');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return bucket;
  };

  // The bucket notifies a queue of every ObjectCreated, and an event source drains it, as S3 →
  // SQS → Lambda would; S3 first sends an s3:TestEvent, which is no ObjectCreated.
  describeObjectStoreContract('S3ObjectStore (moto)', async () => {
    const bucket = await createBucket();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('lake-events') }));
    const queueUrl = QueueUrl!;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*'] }],
        },
      }),
    );
    const events: S3Event[] = [];
    const source = new SqsEventSource({
      client: sqs,
      queueUrl,
      handler: async ({ Records }) => {
        for (const { body } of Records) {
          const parsed: unknown = JSON.parse(body);
          if (isS3Event(parsed)) events.push({ Records: parsed.Records.map(asS3SendsIt) });
        }
      },
    });
    await source.start();
    return {
      store: new S3ObjectStore({ client: s3, bucket }),
      // Oldest first: SQS standard queues do not promise order, eventTime does.
      events: () =>
        events
          .map((event, i) => ({ event, i, at: Date.parse(event.Records[0]?.eventTime ?? '') }))
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .map(({ event }) => event),
      cleanup: async () => {
        await source.stop();
        await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      },
    };
  });

  describe('Class: S3ObjectStore', () => {
    it('creates if absent exactly once among 20 concurrent callers on separate clients, on each of 5 keys', async () => {
      const bucket = await createBucket();
      const stores = Array.from(
        { length: 4 },
        () => new S3ObjectStore({ client: new S3Client(moto.clientConfig), bucket }),
      );
      const keys = Array.from(
        { length: 5 },
        (_, k) => `control/claims/date=2025-01-0${k + 1}/chart=global.json`,
      );
      for (const key of keys) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.createIfAbsent(key, `caller ${i}`)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await stores[0]!.get(key))?.toString()).toBe(`caller ${results.indexOf(true)}`);
      }
    });

    it('replaces one stale version exactly once among 20 concurrent callers on separate clients', async () => {
      const bucket = await createBucket();
      const stores = Array.from(
        { length: 4 },
        () => new S3ObjectStore({ client: new S3Client(moto.clientConfig), bucket }),
      );
      const key = 'control/locks/transform.json';
      await stores[0]!.put(key, '{"batchId":"dead"}');
      const stale = (await stores[0]!.getWithEtag(key))!;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % stores.length]!.replaceIfMatch(key, `caller ${i}`, stale.etag),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await stores[0]!.get(key))?.toString()).toBe(`caller ${results.indexOf(true)}`);
    });

    it('keeps the content type and user metadata when it touches an object', async () => {
      const bucket = await createBucket();
      const store = new S3ObjectStore({ client: s3, bucket });
      await store.put('t/x.csv', 'a,b\n', { contentType: 'text/csv; charset=utf-8' });
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 't/meta.csv',
          CopySource: `${bucket}/t/x.csv`,
          MetadataDirective: 'REPLACE',
          ContentType: 'text/csv',
          Metadata: { run: 'r1' },
        }),
      );
      const before = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't/meta.csv' }));
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // LastModified counts seconds
      await store.touch('t/x.csv');
      await store.touch('t/meta.csv');
      const x = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't/x.csv' }));
      const meta = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 't/meta.csv' }));
      expect(x.ContentType).toBe('text/csv; charset=utf-8');
      expect(meta).toMatchObject({ ContentType: 'text/csv', Metadata: { run: 'r1' } });
      expect(meta.LastModified!.getTime()).toBeGreaterThan(before.LastModified!.getTime());
      expect((await store.get('t/meta.csv'))?.toString()).toBe('a,b\n');
    });

    it('touches keys that need URL encoding in CopySource, and writes empty objects', async () => {
      const bucket = await createBucket();
      const store = new S3ObjectStore({ client: s3, bucket });
      const key = 'raw/date=2025-01-02/a b+c?d#e&%25 é🎵.csv';
      await store.put(key, '');
      await expect(store.touch(key)).resolves.toBeUndefined();
      expect(await store.list('raw/')).toEqual([expect.objectContaining({ key, size: 0 })]);
      expect((await store.get(key))?.length).toBe(0);
    });
  });
});

describe('Class: S3ObjectStore (errors)', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  const store = new S3ObjectStore({ client, bucket: 'chartflow-lake' });
  afterEach(() => mock.reset());
  afterAll(() => mock.restore());

  const serviceError = (
    name: string,
    status: number,
    fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
  ) =>
    Object.assign(new Error(`${name} happened`), {
      name,
      $fault: fault,
      $metadata: { httpStatusCode: status },
    });

  it('asks again while S3 answers 409 ConditionalRequestConflict, until it answers 412 or 200', async () => {
    mock
      .on(PutObjectCommand)
      .rejectsOnce(serviceError('ConditionalRequestConflict', 409))
      .rejectsOnce(serviceError('ConditionalRequestConflict', 409))
      .rejects(serviceError('PreconditionFailed', 412));
    expect(await store.createIfAbsent('claims/a.json', 'x')).toBe(false);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(3);
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'chartflow-lake',
      Key: 'claims/a.json',
      IfNoneMatch: '*',
    });

    mock.reset();
    mock.on(PutObjectCommand).rejectsOnce(serviceError('ConditionalRequestConflict', 409)).resolves({});
    expect(await store.createIfAbsent('claims/a.json', 'x')).toBe(true);
  });

  it('sends If-Match with the quoted ETag, and takes 412 and 404 for a version that is gone', async () => {
    mock
      .on(PutObjectCommand)
      .rejectsOnce(serviceError('ConditionalRequestConflict', 409))
      .rejectsOnce(serviceError('PreconditionFailed', 412))
      .rejects(serviceError('NoSuchKey', 404));
    expect(await store.replaceIfMatch('control/locks/transform.json', 'x', 'abc')).toBe(false);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ IfMatch: '"abc"' });
    expect(await store.replaceIfMatch('control/locks/transform.json', 'x', 'abc')).toBe(false);
    mock.on(DeleteObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    expect(await store.deleteIfMatch('control/locks/transform.json', 'abc')).toBe(false);
    expect(mock.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toMatchObject({ IfMatch: '"abc"' });
    mock.on(DeleteObjectCommand).rejects(serviceError('AccessDenied', 403));
    await expect(store.deleteIfMatch('control/locks/transform.json', 'abc')).rejects.toThrow(
      /S3 DeleteObject \(If-Match\) s3:\/\/chartflow-lake\/control\/locks\/transform\.json/,
    );
  });

  it('names the operation, bucket and key, and tells retryable failures from permanent ones', async () => {
    mock.on(PutObjectCommand).rejects(serviceError('SlowDown', 503));
    await expect(store.put('raw/a.csv', 'x')).rejects.toThrow(
      expect.objectContaining({
        name: 'RetryableError',
        message: expect.stringMatching(
          /S3 PutObject s3:\/\/chartflow-lake\/raw\/a\.csv failed: SlowDown \(HTTP 503\)/,
        ),
      }),
    );
    mock.on(GetObjectCommand).rejects(serviceError('AccessDenied', 403));
    const denied = await store.get('raw/a.csv').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(denied).toBeInstanceOf(PermanentError);
    expect(denied).not.toBeInstanceOf(RetryableError);
    expect(denied?.message).toMatch(/GetObject s3:\/\/chartflow-lake\/raw\/a\.csv.*AccessDenied/);
    mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(store.list('raw/')).rejects.toThrow(RetryableError);
  });

  it('refuses a listing whose objects lack their fields, naming where', async () => {
    mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'a', Size: 1, ETag: '"e"' }] });
    await expect(store.list('')).rejects.toThrow(InvalidRecordError);
    await expect(store.list('')).rejects.toThrow(/Contents\[0\]: .*→ at LastModified/);
  });

  it('follows continuation tokens and strips the quotes of ETags', async () => {
    const at = new Date('2025-01-02T03:04:05Z');
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce({
        IsTruncated: true,
        NextContinuationToken: 'next',
        Contents: [{ Key: 'p/b', Size: 2, ETag: '"bb"', LastModified: at }],
      })
      .resolves({ IsTruncated: false, Contents: [{ Key: 'p/a', Size: 1, ETag: '"aa"', LastModified: at }] });
    expect(await store.list('p/')).toEqual([
      { key: 'p/a', size: 1, etag: 'aa', lastModified: at },
      { key: 'p/b', size: 2, etag: 'bb', lastModified: at },
    ]);
    expect(mock.commandCalls(ListObjectsV2Command)[1]?.args[0].input.ContinuationToken).toBe('next');
  });

  it('rejects malformed options, naming them', () => {
    expect(() => new S3ObjectStore({ client, bucket: 'Not_A_Bucket' })).toThrow(ConfigError);
    expect(() => new S3ObjectStore({ client: {} as S3Client, bucket: 'chartflow-lake' })).toThrow(/client/);
  });
});
