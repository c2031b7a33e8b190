/** What the store knows of one object, as S3's ListObjectsV2 reports it. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  readonly etag: string;
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
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Announces an existing object again (S3: a copy onto itself), so that its ObjectCreated event
   * fires once more. This is how a day prefix is replayed.
   */
  touch(key: string): Promise<void>;
}
