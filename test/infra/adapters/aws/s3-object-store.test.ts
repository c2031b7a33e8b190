import { randomUUID } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
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

    it('asks with If-None-Match: * and If-Match with the quoted ETag, and takes 412 and 404 as false', async () => {
      const bucket = await createBucket();
      const sent: Record<string, unknown>[] = [];
      const noting = new S3Client(moto.clientConfig);
      noting.middlewareStack.add(
        (next) => async (args) => {
          sent.push(args.input as Record<string, unknown>);
          return next(args);
        },
        { step: 'initialize', name: 'noteInput' },
      );
      const store = new S3ObjectStore({ client: noting, bucket });
      const key = 'control/locks/transform.json';
      expect(await store.createIfAbsent(key, 'first')).toBe(true);
      expect(await store.createIfAbsent(key, 'second')).toBe(false); // 412
      const { etag } = (await store.getWithEtag(key))!;
      const stale = etag.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      expect(await store.replaceIfMatch(key, 'third', stale)).toBe(false); // 412
      expect(await store.deleteIfMatch(key, stale)).toBe(false); // 412
      expect(await store.replaceIfMatch('control/locks/none.json', 'x', etag)).toBe(false); // 404
      expect(await store.deleteIfMatch('control/locks/none.json', etag)).toBe(false);
      expect((await store.get(key))?.toString()).toBe('first');
      expect(await store.get('control/locks/none.json')).toBeUndefined();
      expect(sent.map(({ IfNoneMatch, IfMatch }) => ({ IfNoneMatch, IfMatch }))).toEqual([
        { IfNoneMatch: '*', IfMatch: undefined },
        { IfNoneMatch: '*', IfMatch: undefined },
        { IfNoneMatch: undefined, IfMatch: undefined }, // the GetObject
        { IfNoneMatch: undefined, IfMatch: `"${stale}"` },
        { IfNoneMatch: undefined, IfMatch: `"${stale}"` },
        { IfNoneMatch: undefined, IfMatch: `"${etag}"` },
        { IfNoneMatch: undefined, IfMatch: `"${etag}"` },
        { IfNoneMatch: undefined, IfMatch: undefined },
        { IfNoneMatch: undefined, IfMatch: undefined },
      ]);
    });

    it('fails with a PermanentError naming NoSuchBucket, the operation, bucket and key when the bucket is missing', async () => {
      const bucket = uniqueName('never-created');
      const store = new S3ObjectStore({ client: s3, bucket });
      const operations: [string, () => Promise<unknown>][] = [
        ['PutObject', () => store.put('raw/a.csv', 'x')],
        ['GetObject', () => store.get('raw/a.csv')],
        ['GetObject', () => store.getWithEtag('raw/a.csv')],
        ['ListObjectsV2', () => store.list('raw/a.csv')],
        ['DeleteObject', () => store.delete('raw/a.csv')],
        ['PutObject \\(If-None-Match: \\*\\)', () => store.createIfAbsent('raw/a.csv', 'x')],
        // A 404 that says NoSuchBucket is no version gone: it must not read as "false".
        ['PutObject \\(If-Match\\)', () => store.replaceIfMatch('raw/a.csv', 'x', 'abc')],
        ['DeleteObject \\(If-Match\\)', () => store.deleteIfMatch('raw/a.csv', 'abc')],
      ];
      for (const [operation, run] of operations) {
        const error = await run().then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(error, operation).toBeInstanceOf(PermanentError);
        expect(error, operation).not.toBeInstanceOf(RetryableError);
        expect(error?.message).toMatch(
          new RegExp(`^S3 ${operation} s3://${bucket}/raw/a\\.csv failed: NoSuchBucket \\(HTTP 404\\)`),
        );
      }
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

// Answers moto never gives (docs/testing.md says which run on moto instead).
describe('Class: S3ObjectStore (answers moto does not give)', () => {
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

  // moto has no 409 ConditionalRequestConflict: it settles concurrent conditional writes at once.
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

  // As above: moto never answers 409.
  it('asks again on 409 for If-Match writes and deletes too', async () => {
    mock.on(PutObjectCommand).rejectsOnce(serviceError('ConditionalRequestConflict', 409)).resolves({});
    expect(await store.replaceIfMatch('control/locks/transform.json', 'x', 'abc')).toBe(true);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(2);
    mock.on(DeleteObjectCommand).rejectsOnce(serviceError('ConditionalRequestConflict', 409)).resolves({});
    expect(await store.deleteIfMatch('control/locks/transform.json', 'abc')).toBe(true);
    expect(mock.commandCalls(DeleteObjectCommand)).toHaveLength(2);
  });

  // moto never throttles, and its connections do not break mid-request.
  it('takes throttling and a broken connection as retryable, naming the operation, bucket and key', async () => {
    mock.on(PutObjectCommand).rejects(serviceError('SlowDown', 503));
    await expect(store.put('raw/a.csv', 'x')).rejects.toThrow(
      expect.objectContaining({
        name: 'RetryableError',
        message: expect.stringMatching(
          /S3 PutObject s3:\/\/chartflow-lake\/raw\/a\.csv failed: SlowDown \(HTTP 503\)/,
        ),
      }),
    );
    mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(store.list('raw/')).rejects.toThrow(RetryableError);
  });

  // moto lists every object with its key, size, date and ETag.
  it('refuses a listing whose objects lack their fields, naming where', async () => {
    mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'a', Size: 1, ETag: '"e"' }] });
    await expect(store.list('')).rejects.toThrow(InvalidRecordError);
    await expect(store.list('')).rejects.toThrow(/Contents\[0\]: .*→ at LastModified/);
  });

  // No error path: a second page needs more than 1000 keys on moto, so the pages are given here.
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
