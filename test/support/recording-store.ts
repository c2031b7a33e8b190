import type {
  ObjectChecksum,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  VersionedObject,
} from '../../shared/ports/object-store.js';

/** One S3 request a function made, as IAM authorizes it: the action and the object or prefix. */
export interface StoreAccess {
  /** Who made it: the IAM role the function runs with on AWS (infra/iam.yml). */
  readonly role: string;
  readonly action: 's3:GetObject' | 's3:PutObject' | 's3:ListBucket' | 's3:DeleteObject';
  /** The object's key, or for s3:ListBucket the prefix listed. */
  readonly key: string;
}

/**
 * An ObjectStore that notes every request a function makes of the lake, in IAM's terms, and passes
 * it on: how a test holds what the functions really do against what their roles allow.
 */
export class RecordingObjectStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly role: string,
    private readonly accesses: StoreAccess[],
  ) {}

  #note(action: StoreAccess['action'], key: string): void {
    this.accesses.push({ role: this.role, action, key });
  }

  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void> {
    this.#note('s3:PutObject', key);
    return this.inner.put(key, body, options);
  }

  createIfAbsent(key: string, body: string | Uint8Array, options?: PutOptions): Promise<boolean> {
    // A conditional PutObject: If-None-Match needs no action of its own.
    this.#note('s3:PutObject', key);
    return this.inner.createIfAbsent(key, body, options);
  }

  get(key: string): Promise<Buffer | undefined> {
    this.#note('s3:GetObject', key);
    return this.inner.get(key);
  }

  checksum(key: string): Promise<ObjectChecksum | undefined> {
    // HeadObject (with ChecksumMode) is authorized by s3:GetObject.
    this.#note('s3:GetObject', key);
    return this.inner.checksum(key);
  }

  getWithEtag(key: string): Promise<VersionedObject | undefined> {
    this.#note('s3:GetObject', key);
    return this.inner.getWithEtag(key);
  }

  replaceIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string,
    options?: PutOptions,
  ): Promise<boolean> {
    // A conditional PutObject: If-Match needs no action of its own.
    this.#note('s3:PutObject', key);
    return this.inner.replaceIfMatch(key, body, etag, options);
  }

  deleteIfMatch(key: string, etag: string): Promise<boolean> {
    // A conditional DeleteObject: If-Match needs no action of its own.
    this.#note('s3:DeleteObject', key);
    return this.inner.deleteIfMatch(key, etag);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    this.#note('s3:ListBucket', prefix);
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    this.#note('s3:DeleteObject', key);
    return this.inner.delete(key);
  }

  touch(key: string): Promise<void> {
    // A copy onto itself: it reads the object and writes it.
    this.#note('s3:GetObject', key);
    this.#note('s3:PutObject', key);
    return this.inner.touch(key);
  }
}
