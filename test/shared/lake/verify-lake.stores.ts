import type { ObjectStore } from '../../../shared/ports/object-store.js';

/**
 * The store, with some of its operations replaced (to fail, to record, or to act on the store
 * before doing the operation, as another writer would meanwhile); the rest go to it unchanged.
 */
export const storeWith = (inner: ObjectStore, replaced: Partial<ObjectStore>): ObjectStore => ({
  put: (...args) => inner.put(...args),
  createIfAbsent: (...args) => inner.createIfAbsent(...args),
  get: (key) => inner.get(key),
  getWithEtag: (key) => inner.getWithEtag(key),
  replaceIfMatch: (...args) => inner.replaceIfMatch(...args),
  deleteIfMatch: (...args) => inner.deleteIfMatch(...args),
  list: (prefix) => inner.list(prefix),
  checksum: (key) => inner.checksum(key),
  delete: (key) => inner.delete(key),
  touch: (key) => inner.touch(key),
  ...replaced,
});
