import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import pRetry from 'p-retry';
import * as z from 'zod';
import { ConfigError, InvalidRecordError, PermanentError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type {
  ObjectChecksum,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from '../../../shared/ports/object-store.js';
import { awsError, awsErrorName, awsErrorStatus } from './aws-errors.js';

/** Options of an {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: S3Client;
  /** The lake's bucket. */
  readonly bucket: string;
}

const optionsSchema = z.object({
  client: z.instanceof(S3Client, { message: 'must be an S3Client' }),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
});

// ListObjectsV2 leaves every field optional in its types; an object without them is no object to us.
const listedObjectSchema = z.object({
  Key: z.string(),
  Size: z.number().int().nonnegative(),
  LastModified: z.date(),
  ETag: z.string(),
});

// UTF-8 byte order, which is how S3 sorts keys (JS string order differs past the BMP).
const byKeyBytes = (a: ObjectInfo, b: ObjectInfo) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

// S3 answers 409 ConditionalRequestConflict to a conditional write while another one on the same key
// is in flight; asked again once that one is done, it answers 200 or 412.
const isConditionalConflict = (error: unknown) =>
  awsErrorName(error) === 'ConditionalRequestConflict' || awsErrorStatus(error) === 409;
const conflictRetries = { retries: 5, minTimeout: 50, maxTimeout: 1_000, randomize: true } as const;
const isPreconditionFailed = (error: unknown) =>
  awsErrorName(error) === 'PreconditionFailed' || awsErrorStatus(error) === 412;
// An `If-Match` on a key that has no object is answered 404: the version read is gone. A missing
// bucket is answered 404 too, but says NoSuchBucket: that is no version gone, it is a failure.
const isMissing = (error: unknown) =>
  awsErrorName(error) !== 'NoSuchBucket' &&
  (awsErrorName(error) === 'NoSuchKey' || awsErrorStatus(error) === 404);
// S3 quotes ETags; the port carries the bare md5, as event notifications do.
const bareEtag = (etag: string) => etag.replace(/"/g, '');

/**
 * A HeadObject answer whose SHA-256 is of the object's own bytes. An object written in parts holds a
 * checksum of its parts' checksums instead (docs/aws.md, "Checksums"): S3 says so with
 * `ChecksumType: COMPOSITE` and a "-<parts>" suffix, moto only with its ETag's "-<parts>", so each
 * of the three rules such an answer out.
 */
const ownChecksumSchema = z.object({
  ContentLength: z.number().int().nonnegative(),
  // 32 bytes in base64, nothing after them.
  ChecksumSHA256: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  ChecksumType: z.literal('FULL_OBJECT').optional(),
  ETag: z
    .string()
    .refine((etag) => !/-\d+$/.test(bareEtag(etag)), 'the ETag of an object written in parts')
    .optional(),
});

/**
 * The lake on S3. Every write makes S3 itself announce an ObjectCreated event through the bucket's
 * notifications; `touch` copies an object onto itself so that S3 announces it again
 * (`ObjectCreated:Copy`). Failures become a {@link RetryableError} (throttling, 5xx, network) or a
 * {@link PermanentError}, their message naming the operation, bucket and key.
 */
export class S3ObjectStore implements ObjectStore {
  /** The lake's bucket. */
  readonly bucket: string;
  readonly #client: S3Client;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: S3ObjectStoreOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'S3ObjectStore options', ConfigError);
    this.#client = parsed.client;
    this.bucket = parsed.bucket;
  }

  /** PutObject: writes the object, replacing any object under the same key. */
  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    try {
      await this.#client.send(new PutObjectCommand(this.#putInput(key, body, options)));
    } catch (error) {
      throw awsError(`S3 PutObject ${this.#uri(key)}`, error);
    }
  }

  /**
   * PutObject with `If-None-Match: *`: `true` if this call created the object, `false` if one was
   * there already (412). S3 makes it atomic across concurrent callers.
   */
  async createIfAbsent(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    const input = { ...this.#putInput(key, body, options), IfNoneMatch: '*' };
    return this.#conditional(() => this.#client.send(new PutObjectCommand(input)), {
      what: `S3 PutObject (If-None-Match: *) ${this.#uri(key)}`,
      missingFails: false,
    });
  }

  /**
   * PutObject with `If-Match`: `true` if the object was still that version and is replaced,
   * `false` if it changed (412) or is gone (404). S3 makes it atomic across concurrent callers.
   */
  async replaceIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string,
    options: PutOptions = {},
  ): Promise<boolean> {
    const input = { ...this.#putInput(key, body, options), IfMatch: `"${etag}"` };
    return this.#conditional(() => this.#client.send(new PutObjectCommand(input)), {
      what: `S3 PutObject (If-Match) ${this.#uri(key)}`,
      missingFails: true,
    });
  }

  /** DeleteObject with `If-Match`: `false` if the object changed (412) or is gone (404) since it was read. */
  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    const input = { Bucket: this.bucket, Key: key, IfMatch: `"${etag}"` };
    return this.#conditional(() => this.#client.send(new DeleteObjectCommand(input)), {
      what: `S3 DeleteObject (If-Match) ${this.#uri(key)}`,
      missingFails: true,
    });
  }

  /**
   * A conditional request: tried again while S3 reports a conflicting write under way (409);
   * `false` when its condition does not hold (412), or, where `missingFails`, when the object is gone.
   */
  async #conditional(
    send: () => Promise<unknown>,
    request: { readonly what: string; readonly missingFails: boolean },
  ): Promise<boolean> {
    try {
      await pRetry(send, { ...conflictRetries, shouldRetry: ({ error }) => isConditionalConflict(error) });
      return true;
    } catch (error) {
      if (isPreconditionFailed(error) || (request.missingFails && isMissing(error))) return false;
      throw awsError(request.what, error);
    }
  }

  /** GetObject: the body, or `undefined` when there is no object under that key. */
  async get(key: string): Promise<Buffer | undefined> {
    return (await this.#read(key))?.body;
  }

  /** GetObject: the body and its ETag, or `undefined` when there is no object under that key. */
  async getWithEtag(key: string): Promise<VersionedObject | undefined> {
    const read = await this.#read(key);
    if (read === undefined) return undefined;
    if (read.etag === undefined)
      throw new InvalidRecordError(`S3 GetObject ${this.#uri(key)}: the answer has no ETag`);
    return { body: read.body, etag: bareEtag(read.etag) };
  }

  /** ListObjectsV2, every page: the objects whose key starts with `prefix`, sorted by key. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    try {
      const pages = paginateListObjectsV2({ client: this.#client }, { Bucket: this.bucket, Prefix: prefix });
      for await (const page of pages) {
        for (const [index, object] of (page.Contents ?? []).entries()) {
          const { Key, Size, LastModified, ETag } = parseOrThrow(
            listedObjectSchema,
            object,
            `S3 ListObjectsV2 ${this.#uri(prefix)}: Contents[${index}]`,
          );
          found.push({ key: Key, size: Size, lastModified: LastModified, etag: bareEtag(ETag) });
        }
      }
    } catch (error) {
      if (error instanceof InvalidRecordError) throw error;
      throw awsError(`S3 ListObjectsV2 ${this.#uri(prefix)}`, error);
    }
    return found.sort(byKeyBytes);
  }

  /**
   * HeadObject with `ChecksumMode: ENABLED`: the size and the SHA-256 S3 computed when the object
   * was written (every write here asks for one, `ChecksumAlgorithm: SHA256`), so nothing is
   * downloaded. An object S3 holds no SHA-256 of its bytes for (written before, or by another tool
   * with S3's default CRC, or in parts) is read and hashed. docs/aws.md, "Checksums", says why.
   */
  async checksum(key: string): Promise<ObjectChecksum | undefined> {
    let head;
    try {
      head = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'NotFound' || awsErrorStatus(error) === 404) return undefined;
      throw awsError(`S3 HeadObject ${this.#uri(key)}`, error);
    }
    const held = ownChecksumSchema.safeParse(head);
    if (held.success) {
      const { ContentLength, ChecksumSHA256 } = held.data;
      return { bytes: ContentLength, sha256: Buffer.from(ChecksumSHA256, 'base64').toString('hex') };
    }
    const read = await this.#read(key);
    if (read === undefined) return undefined;
    return { bytes: read.body.byteLength, sha256: createHash('sha256').update(read.body).digest('hex') };
  }

  /** DeleteObject; S3 answers a missing key as a success too. */
  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw awsError(`S3 DeleteObject ${this.#uri(key)}`, error);
    }
  }

  /**
   * Copies the object onto itself so that S3 announces `ObjectCreated:Copy`. S3 refuses a copy onto
   * itself that changes nothing, so it replaces the metadata, with the same content type and user
   * metadata (read first with HeadObject).
   *
   * @throws {PermanentError} if no object has that key.
   */
  async touch(key: string): Promise<void> {
    let head;
    try {
      head = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (awsErrorName(error) === 'NotFound' || awsErrorStatus(error) === 404) {
        throw new PermanentError(`S3 touch ${this.#uri(key)}: no object has that key`, { cause: error });
      }
      throw awsError(`S3 HeadObject ${this.#uri(key)}`, error);
    }
    try {
      await this.#client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          // CopySource is "bucket/key" with the key URL-encoded.
          CopySource: `${this.bucket}/${encodeURIComponent(key)}`,
          MetadataDirective: 'REPLACE',
          // The copy keeps a SHA-256 of its own, which `checksum` reads instead of the bytes.
          ChecksumAlgorithm: 'SHA256',
          ...(head.ContentType === undefined ? {} : { ContentType: head.ContentType }),
          ...(head.Metadata === undefined ? {} : { Metadata: head.Metadata }),
        }),
      );
    } catch (error) {
      throw awsError(`S3 CopyObject (onto itself) ${this.#uri(key)}`, error);
    }
  }

  async #read(key: string): Promise<{ body: Buffer; etag: string | undefined } | undefined> {
    let answer;
    try {
      answer = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchKey') return undefined;
      throw awsError(`S3 GetObject ${this.#uri(key)}`, error);
    }
    if (!answer.Body) throw new InvalidRecordError(`S3 GetObject ${this.#uri(key)}: the answer has no body`);
    try {
      return { body: Buffer.from(await answer.Body.transformToByteArray()), etag: answer.ETag };
    } catch (error) {
      // The connection broke while the body streamed in.
      throw awsError(`S3 GetObject ${this.#uri(key)} (reading the body)`, error);
    }
  }

  #putInput(key: string, body: string | Uint8Array, options: PutOptions) {
    return {
      Bucket: this.bucket,
      Key: key,
      Body: body,
      // Said outright: the SDK sends no Content-Length for an empty body, and warns about it.
      ContentLength: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      // S3 checks the bytes it receives against it and keeps it: `checksum` reads it back (HeadObject).
      ChecksumAlgorithm: 'SHA256' as const,
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
    };
  }

  #uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }
}
