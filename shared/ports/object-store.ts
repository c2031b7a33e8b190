/** What the store knows of one object, as S3's ListObjectsV2 reports it. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  readonly etag: string;
}

/** An object's body with its ETag (the bare md5 of a single-part write, as {@link ObjectInfo} carries it). */
export interface VersionedObject {
  readonly body: Buffer;
  readonly etag: string;
}

/** What the store knows of an object's bytes without a manifest: its size and SHA-256 (hex). */
export interface ObjectChecksum {
  readonly bytes: number;
  readonly sha256: string;
}

/** Options of a write. */
export interface PutOptions {
  readonly contentType?: string;
}

/**
 * The lake: S3 on AWS (`S3ObjectStore`), a folder on one machine (`FsObjectStore`).
 * Every write, overwrites included, makes the store announce an ObjectCreated event, as S3 bucket
 * notifications do; the store's owner decides where those events go.
 */
export interface ObjectStore {
  /** Writes an object, replacing any object under the same key. */
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Writes an object only if no object has that key (S3's `If-None-Match: *`). Atomic across
   * concurrent callers: exactly one of them gets `true`.
   */
  createIfAbsent(key: string, body: string | Uint8Array, options?: PutOptions): Promise<boolean>;
  /** Reads an object, or `undefined` if there is none under that key. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Reads an object with its ETag, or `undefined` if there is none under that key: what a
   * conditional write or delete ({@link replaceIfMatch}, {@link deleteIfMatch}) is conditioned on.
   */
  getWithEtag(key: string): Promise<VersionedObject | undefined>;
  /**
   * Replaces an object only if it is still the version read (S3's `If-Match` on PutObject): `false`
   * if the object changed, or is gone, since. Atomic across concurrent callers: of those that
   * replace the same version, exactly one gets `true`.
   */
  replaceIfMatch(
    key: string,
    body: string | Uint8Array,
    etag: string,
    options?: PutOptions,
  ): Promise<boolean>;
  /**
   * Removes an object only if it is still the version read (S3's `If-Match` on DeleteObject):
   * `false` if it changed, or is gone, since.
   */
  deleteIfMatch(key: string, etag: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * The object's size and SHA-256, or `undefined` if there is none under that key. S3 answers with
   * the checksum it computed when the object was written (`ChecksumMode: ENABLED`), so nothing is
   * downloaded; an object written without one, and the embedded store's files, are hashed.
   */
  checksum(key: string): Promise<ObjectChecksum | undefined>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Announces an existing object again (S3: a copy onto itself), so that its ObjectCreated event
   * fires once more. This is how a day prefix is replayed.
   */
  touch(key: string): Promise<void>;
}
