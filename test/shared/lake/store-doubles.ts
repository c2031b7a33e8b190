import type { ObjectStore, PutOptions } from '../../../shared/ports/object-store.js';

/**
 * The store, with the Content-Type of every object written noted by key: what S3 keeps as the
 * object's metadata and serves it with (the folder store has nowhere to keep it).
 */
export const noteContentTypes = (
  inner: ObjectStore,
): { store: ObjectStore; contentTypes: Map<string, string | undefined> } => {
  const contentTypes = new Map<string, string | undefined>();
  const store: ObjectStore = {
    put: (key, body, options?: PutOptions) => {
      contentTypes.set(key, options?.contentType);
      return inner.put(key, body, options);
    },
    createIfAbsent: (key, body, options?: PutOptions) => {
      contentTypes.set(key, options?.contentType);
      return inner.createIfAbsent(key, body, options);
    },
    replaceIfMatch: (key, body, etag, options?: PutOptions) => {
      contentTypes.set(key, options?.contentType);
      return inner.replaceIfMatch(key, body, etag, options);
    },
    get: (key) => inner.get(key),
    getWithEtag: (key) => inner.getWithEtag(key),
    deleteIfMatch: (key, etag) => inner.deleteIfMatch(key, etag),
    list: (prefix) => inner.list(prefix),
    checksum: (key) => inner.checksum(key),
    delete: (key) => inner.delete(key),
    touch: (key) => inner.touch(key),
  };
  return { store, contentTypes };
};

/**
 * The store, as if each object `gone` names were deleted right after it was listed: it is listed,
 * and reads as missing.
 */
export const vanishing = (inner: ObjectStore, gone: (key: string) => boolean): ObjectStore => ({
  put: (...args) => inner.put(...args),
  createIfAbsent: (...args) => inner.createIfAbsent(...args),
  get: async (key) => (gone(key) ? undefined : inner.get(key)),
  getWithEtag: (key) => inner.getWithEtag(key),
  replaceIfMatch: (...args) => inner.replaceIfMatch(...args),
  deleteIfMatch: (...args) => inner.deleteIfMatch(...args),
  list: (prefix) => inner.list(prefix),
  checksum: (key) => inner.checksum(key),
  delete: (key) => inner.delete(key),
  touch: (key) => inner.touch(key),
});
