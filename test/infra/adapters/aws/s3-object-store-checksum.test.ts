import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../../infra/adapters/aws/s3-object-store.js';
import { PermanentError } from '../../../../shared/errors.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';

const available = motoAvailable();

const sha256 = (body: string | Uint8Array) => createHash('sha256').update(body).digest();
/** What the port answers for a body: its size and SHA-256 in hex, as node computes them. */
const expected = (body: string | Uint8Array) => ({
  bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  sha256: sha256(body).toString('hex'),
});

/** The S3 requests a client sent, by command, with the input each was sent with. */
interface SentRequest {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** A client of moto that notes every request it sends (its command and input) before sending it. */
const recordingClient = (config: Moto['clientConfig'], sent: SentRequest[]): S3Client => {
  const client = new S3Client(config);
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'noteRequests' },
  );
  return client;
};

describe.skipIf(!available)('S3ObjectStore.checksum on moto', () => {
  let moto: Moto;
  /** An admin client of the tests' own: its requests are not counted. */
  let admin: S3Client;
  /** A client that asks for no checksum unless S3 requires one: objects it writes carry none. */
  let bare: S3Client;
  let sent: SentRequest[];
  let store: S3ObjectStore;
  let bucket: string;

  beforeAll(async () => {
    moto = await startMoto();
    admin = new S3Client(moto.clientConfig);
    bare = new S3Client({
      ...moto.clientConfig,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
  afterAll(() => moto?.stop());
  beforeEach(async () => {
    bucket = `lake-${randomUUID().slice(0, 8)}`;
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    sent = [];
    store = new S3ObjectStore({ client: recordingClient(moto.clientConfig, sent), bucket });
  });

  /** What S3 itself holds of the object: HeadObject with ChecksumMode, by the admin client. */
  const held = (key: string) =>
    admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  const commands = () => sent.map((r) => r.command);
  /** What `checksum` sent: HeadObject with ChecksumMode, and GetObject only where it had to read. */
  const checksumOf = async (key: string) => {
    sent.length = 0;
    const answer = await store.checksum(key);
    return { answer, commands: commands() };
  };

  it('answers the SHA-256 S3 stored for a put, asking HeadObject with ChecksumMode and downloading nothing', async () => {
    const body = 'chart_id,position,track_id\nglobal,1,t1\nglobal,2,t2\n';
    await store.put('raw/a.csv', body, { contentType: 'text/csv' });
    expect(sent.map((r) => [r.command, r.input.ChecksumAlgorithm])).toEqual([['PutObjectCommand', 'SHA256']]);
    // S3 keeps the SHA-256 of what it received, in base64, and its own: the one node computes.
    const head = await held('raw/a.csv');
    expect(head.ChecksumSHA256).toBe(sha256(body).toString('base64'));

    const { answer, commands: asked } = await checksumOf('raw/a.csv');
    expect(answer).toEqual(expected(body));
    expect(asked).toEqual(['HeadObjectCommand']);
    expect(sent[0]?.input).toMatchObject({ Bucket: bucket, Key: 'raw/a.csv', ChecksumMode: 'ENABLED' });
  });

  it('answers the stored SHA-256 for createIfAbsent and replaceIfMatch, and for binary and empty bodies', async () => {
    const binary = randomBytes(4_096);
    expect(await store.createIfAbsent('raw/bin', binary)).toBe(true);
    expect(await checksumOf('raw/bin')).toEqual({
      answer: expected(binary),
      commands: ['HeadObjectCommand'],
    });

    await store.put('control/lock.json', '{"batchId":"a"}');
    const { etag } = (await store.getWithEtag('control/lock.json'))!;
    const replaced = '{"batchId":"b","since":"2026-12-06T07:00:00.000Z"}';
    expect(await store.replaceIfMatch('control/lock.json', replaced, etag)).toBe(true);
    expect((await held('control/lock.json')).ChecksumSHA256).toBe(sha256(replaced).toString('base64'));
    expect(await checksumOf('control/lock.json')).toEqual({
      answer: expected(replaced),
      commands: ['HeadObjectCommand'],
    });

    await store.put('raw/empty.csv', '');
    expect(await checksumOf('raw/empty.csv')).toEqual({
      answer: expected(''),
      commands: ['HeadObjectCommand'],
    });
  });

  it('answers for an object written without a checksum by reading it, and from S3 once touch has copied it', async () => {
    const body = 'written by another tool\n';
    await bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/bare.csv', Body: body }));
    const head = await held('raw/bare.csv');
    expect([head.ChecksumSHA256, head.ChecksumCRC32, head.ChecksumCRC64NVME]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await checksumOf('raw/bare.csv')).toEqual({
      answer: expected(body),
      commands: ['HeadObjectCommand', 'GetObjectCommand'],
    });

    // A replay's copy onto itself asks for a SHA-256: from then on S3 answers without a download.
    await store.touch('raw/bare.csv');
    expect(sent.find((r) => r.command === 'CopyObjectCommand')?.input.ChecksumAlgorithm).toBe('SHA256');
    expect((await held('raw/bare.csv')).ChecksumSHA256).toBe(sha256(body).toString('base64'));
    expect(await checksumOf('raw/bare.csv')).toEqual({
      answer: expected(body),
      commands: ['HeadObjectCommand'],
    });
    expect((await store.get('raw/bare.csv'))?.toString()).toBe(body);
  });

  it('keeps the SHA-256 of a checksummed object across touch', async () => {
    const body = 'a,b\n1,2\n';
    await store.put('raw/t.csv', body);
    await store.touch('raw/t.csv');
    expect(await checksumOf('raw/t.csv')).toEqual({
      answer: expected(body),
      commands: ['HeadObjectCommand'],
    });
  });

  it("reads an object that carries only the SDK's default CRC: a CRC is no SHA-256", async () => {
    const body = 'default checksum\n';
    // The SDK's own default (requestChecksumCalculation WHEN_SUPPORTED) sends a CRC32 and no SHA-256.
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/crc.csv', Body: body }));
    const head = await held('raw/crc.csv');
    expect(head.ChecksumSHA256).toBeUndefined();
    expect(head.ChecksumCRC32 ?? head.ChecksumCRC64NVME).toBeDefined();
    expect(await checksumOf('raw/crc.csv')).toEqual({
      answer: expected(body),
      commands: ['HeadObjectCommand', 'GetObjectCommand'],
    });
  });

  it('reads an object written in parts, whose SHA-256 is of its parts’ checksums, not of its bytes', async () => {
    const key = 'inbox/charts/big.csv';
    const parts = [Buffer.alloc(5 * 1024 * 1024, 'x'), Buffer.from('the last part\n')];
    const { UploadId } = await admin.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256' }),
    );
    const uploaded = await Promise.all(
      parts.map((Body, i) =>
        admin.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body,
            ChecksumAlgorithm: 'SHA256',
          }),
        ),
      ),
    );
    await admin.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: uploaded.map(({ ETag, ChecksumSHA256 }, i) => ({ PartNumber: i + 1, ETag, ChecksumSHA256 })),
        },
      }),
    );
    const whole = Buffer.concat(parts);
    // moto answers a SHA-256 with neither the "-2" suffix nor ChecksumType COMPOSITE that S3 gives,
    // and it is not the bytes' own: only the ETag says the object was written in parts.
    const head = await held(key);
    expect(head.ChecksumSHA256).toBeDefined();
    expect(head.ChecksumSHA256).not.toBe(sha256(whole).toString('base64'));
    expect(head.ETag).toMatch(/-2"$/);
    expect(await checksumOf(key)).toEqual({
      answer: expected(whole),
      commands: ['HeadObjectCommand', 'GetObjectCommand'],
    });
  });

  it('answers what S3 holds now, not what a checksummed write left: an overwrite by another tool', async () => {
    await store.put('raw/o.csv', 'the run wrote this\n');
    const damaged = 'someone wrote this\n';
    await bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/o.csv', Body: damaged }));
    expect(await checksumOf('raw/o.csv')).toEqual({
      answer: expected(damaged),
      commands: ['HeadObjectCommand', 'GetObjectCommand'],
    });
  });

  it('answers undefined for a missing key, without a download', async () => {
    expect(await checksumOf('raw/none.csv')).toEqual({ answer: undefined, commands: ['HeadObjectCommand'] });
  });
});

describe('S3ObjectStore.checksum (answers moto does not give)', () => {
  const client = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  const store = new S3ObjectStore({ client, bucket: 'chartflow-lake' });
  afterEach(() => mock.reset());
  afterAll(() => mock.restore());

  const body = Buffer.from('chart_id,position\nglobal,1\n');
  const bodyAnswer = () => ({
    // The SDK's stream mixin, as much of it as the adapter uses.
    Body: { transformToByteArray: async () => new Uint8Array(body) },
    ETag: '"e"',
  });
  const own = sha256(body).toString('base64');

  it.each<[string, Partial<HeadObjectCommandOutput>]>([
    [
      'a composite SHA-256 as S3 gives it ("-3", COMPOSITE)',
      { ChecksumSHA256: `${own}-3`, ChecksumType: 'COMPOSITE', ETag: '"abc-3"' },
    ],
    ['a COMPOSITE type alone', { ChecksumSHA256: own, ChecksumType: 'COMPOSITE', ETag: '"abc"' }],
    ['no SHA-256 at all, only a CRC64NVME', { ChecksumCRC64NVME: 'AAAAAAAAAAA=', ETag: '"abc"' }],
    ['a malformed SHA-256', { ChecksumSHA256: 'not base64', ETag: '"abc"' }],
  ])('reads and hashes the body for %s', async (_, answer) => {
    mock.on(HeadObjectCommand).resolves({ ContentLength: body.byteLength, ...answer });
    mock.on(GetObjectCommand).resolves(bodyAnswer() as never);
    expect(await store.checksum('raw/a.csv')).toEqual(expected(body));
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(1);
  });

  it('takes a FULL_OBJECT SHA-256 as it is, downloading nothing', async () => {
    mock.on(HeadObjectCommand).resolves({
      ContentLength: 1_234,
      ChecksumSHA256: own,
      ChecksumType: 'FULL_OBJECT',
      ETag: '"abc"',
    });
    expect(await store.checksum('raw/a.csv')).toEqual({ bytes: 1_234, sha256: sha256(body).toString('hex') });
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(mock.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'chartflow-lake',
      Key: 'raw/a.csv',
      ChecksumMode: 'ENABLED',
    });
  });

  // moto checks no IAM policy here, and answers HeadObject only 200 or 404 (a missing bucket too).
  it('names HeadObject, the bucket and the key when S3 refuses it', async () => {
    mock.on(HeadObjectCommand).rejects(
      Object.assign(new Error('Forbidden'), {
        name: 'Forbidden',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const refused = await store.checksum('raw/a.csv').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentError);
    expect((refused as Error).message).toMatch(/S3 HeadObject s3:\/\/chartflow-lake\/raw\/a\.csv.*403/);
  });
});
