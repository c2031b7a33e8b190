import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { link, mkdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { S3Event } from 'aws-lambda';
import * as z from 'zod';
import { ConfigError, PermanentError } from '../../../shared/errors.js';
import { bytesOf } from '../../../shared/lake/lake-files.js';
import { parseOrThrow } from '../../../shared/parse.js';
import { logger } from '../../../shared/logger.js';
import type {
  ObjectChecksum,
  ObjectInfo,
  ObjectStore,
  VersionedObject,
} from '../../../shared/ports/object-store.js';
import { objectCreatedEvent, type ObjectCreatedName } from './s3-events.js';

/** Options of an {@link FsObjectStore}. */
export interface FsObjectStoreOptions {
  /** The folder that holds the objects; a key `a/b.csv` is the file `<root>/a/b.csv`. */
  readonly root: string;
  /** The bucket name the events carry; defaults to `chartflow-local`. */
  readonly bucket?: string;
  /** The region the events carry; defaults to `us-east-1`. */
  readonly region?: string;
  /** Receives an S3-shaped ObjectCreated event after every successful write. Its errors are logged, never thrown. */
  readonly onObjectCreated?: (event: S3Event) => void;
}

/** Where writes are staged before they are renamed or linked into place; `list` never shows it. */
export const FS_STORE_TEMP_FOLDER = '.tmp';

/**
 * A conditional write's marker older than this was left by a writer that died inside the few
 * milliseconds it holds one: it is removed, so that the version it names can change again.
 */
const abandonedMarkerMs = 60_000;

const optionsSchema = z.object({
  root: z.string().min(1),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('chartflow-local'),
  region: z.string().min(1).default('us-east-1'),
  onObjectCreated: z.custom<(event: S3Event) => void>((v) => typeof v === 'function').optional(),
});

const md5 = (body: Uint8Array) => createHash('md5').update(body).digest('hex');

const md5OfFile = async (file: string): Promise<string> => {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

/**
 * How many files' ETags, and how many folders made, an {@link FsObjectStore} remembers. A listing
 * gives every object's ETag, and the loader lists a day's folder on every object-created event of
 * the day; hashing each file again each time made a one-year backfill spend seconds on md5 alone
 * (docs/benchmark.md).
 */
const cacheEntries = 100_000;

/**
 * What identifies one version of a file: a write renames or links a new file into place (a new
 * inode), and any change in place moves its change time, which no caller can set.
 */
const versionStamp = (s: BigIntStats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

// A folder cannot also be a file, so S3 keys such as `a/` or `a//b` have no faithful file; `.` and
// `..` would alias or escape other keys; lone surrogates have no UTF-8 file name.
const prefixProblem = (prefix: string): string | undefined => {
  if (prefix.includes('\0')) return 'it contains a NUL character';
  if (/\p{Cs}/u.test(prefix)) return 'it is not well-formed Unicode';
  if (prefix.startsWith('/') || path.isAbsolute(prefix)) return 'it is absolute';
  if (prefix.split('/').includes('..')) return 'it has a ".." segment';
  return undefined;
};

const keyProblem = (key: string): string | undefined => {
  if (key === '') return 'it is empty';
  const problem = prefixProblem(key);
  if (problem) return problem;
  const segments = key.split('/');
  if (segments.includes('.')) return 'it has a "." segment';
  if (segments.includes('')) return 'it has an empty segment (leading, trailing or doubled "/")';
  if (segments[0] === FS_STORE_TEMP_FOLDER)
    return `"${FS_STORE_TEMP_FOLDER}/" is where the store stages its writes`;
  return undefined;
};

// UTF-8 byte order, which is how S3 sorts keys (JS string order differs past the BMP).
const byKeyBytes = (a: ObjectInfo, b: ObjectInfo) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));

/**
 * The lake as a folder on one machine. Writes are atomic (staged in `<root>/.tmp/`, then renamed
 * or hard-linked into place), `createIfAbsent` is exactly-once across processes (a hard link fails
 * if the key exists), and every write announces an ObjectCreated event shaped as S3 sends it.
 *
 * Conditional writes and deletes (`replaceIfMatch`, `deleteIfMatch`) are exactly-once per version
 * across processes the same way: a caller first hard-links a marker named by the key and the ETag
 * it read into `.tmp/`, and only the one whose link succeeds compares the ETag and changes the
 * object; it removes the marker when done, so the next version can change in turn.
 *
 * Unlike S3, a key cannot also be the folder of other keys (`a` and `a/b` cannot coexist).
 *
 * Its calls on the files of objects are synchronous, behind the async interface: each is one call
 * on a small file (a lake object is kilobytes) or its folder, which takes microseconds, while the
 * thread pool's round trip for each took more of the event loop's thread than the call itself, on
 * the thread a backfill is short of (docs/benchmark.md). Hashing a whole file (`checksum`, an ETag
 * not known yet), making a folder, `touch` and the conditional writes (rare: control objects)
 * stay asynchronous.
 */
export class FsObjectStore implements ObjectStore {
  /** The absolute folder that holds the objects. */
  readonly root: string;
  /** The bucket name the events carry. */
  readonly bucket: string;
  /** The region the events carry. */
  readonly region: string;
  readonly #onObjectCreated: ((event: S3Event) => void) | undefined;
  /** The ETag of each file last hashed, with the version it was hashed at ({@link versionStamp}). */
  readonly #etags = new Map<string, { readonly stamp: string; readonly etag: string }>();
  /** Folders this store has made (or found), or is making, and writes into without asking again. */
  readonly #folders = new Map<string, Promise<void>>();

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: FsObjectStoreOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'FsObjectStore options', ConfigError);
    this.root = path.resolve(parsed.root);
    this.bucket = parsed.bucket;
    this.region = parsed.region;
    this.#onObjectCreated = parsed.onObjectCreated;
  }

  /** Writes the object atomically (staged, then renamed into place). Content types are not kept. */
  async put(key: string, body: string | Uint8Array): Promise<void> {
    const file = this.#fileOf(key);
    const bytes = bytesOf(body);
    const staged = await this.#stage(bytes);
    try {
      await this.#inFolder(file, async () => renameSync(staged.temp, file));
    } catch (error) {
      rmSync(staged.temp, { force: true });
      throw error;
    }
    await this.#written(key, file, staged, bytes);
  }

  /** Writes the object only if the key is free, exactly once across callers and processes. */
  async createIfAbsent(key: string, body: string | Uint8Array): Promise<boolean> {
    const file = this.#fileOf(key);
    const bytes = bytesOf(body);
    const staged = await this.#stage(bytes);
    try {
      // link(2) is atomic and refuses an existing name, in this process or any other.
      await this.#inFolder(file, async () => linkSync(staged.temp, file));
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    } finally {
      rmSync(staged.temp, { force: true });
    }
    await this.#written(key, file, staged, bytes);
    return true;
  }

  /** Reads an object, or `undefined` if there is none under that key. */
  async get(key: string): Promise<Buffer | undefined> {
    try {
      return readFileSync(this.#fileOf(key));
    } catch (error) {
      if (isNoObject(error)) return undefined;
      throw error;
    }
  }

  /** The file's size and SHA-256, hashed as it streams in; `undefined` if there is none. */
  async checksum(key: string): Promise<ObjectChecksum | undefined> {
    const file = this.#fileOf(key);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of createReadStream(file)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).byteLength;
      }
      return { bytes, sha256: hash.digest('hex') };
    } catch (error) {
      if (isNoObject(error)) return undefined;
      throw error;
    }
  }

  /** Reads an object and the md5 of what was read (its ETag), or `undefined` if there is none. */
  async getWithEtag(key: string): Promise<VersionedObject | undefined> {
    const body = await this.get(key);
    return body === undefined ? undefined : { body, etag: md5(body) };
  }

  /** Replaces the object if it is still the version `etag` names; one caller per version wins. */
  async replaceIfMatch(key: string, body: string | Uint8Array, etag: string): Promise<boolean> {
    const file = this.#fileOf(key);
    const bytes = bytesOf(body);
    let staged = { ino: 0n };
    const replaced = await this.#ifMatch(key, etag, async () => {
      const { temp, ino } = await this.#stage(bytes);
      staged = { ino };
      try {
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    });
    if (replaced) await this.#written(key, file, staged, bytes);
    return replaced;
  }

  /** Removes the object if it is still the version `etag` names. */
  async deleteIfMatch(key: string, etag: string): Promise<boolean> {
    const file = this.#fileOf(key);
    return this.#ifMatch(key, etag, () => unlink(file));
  }

  /** Every object whose key starts with `prefix` (not only a folder), sorted by UTF-8 bytes as S3 sorts. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    const problem = prefixProblem(prefix);
    if (problem)
      throw new PermanentError(`FsObjectStore: invalid prefix ${JSON.stringify(prefix)}: ${problem}`);
    // Start from the deepest folder the prefix names in full; the rest of it filters names.
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const found: ObjectInfo[] = [];
    for (const key of await this.#walk(folder)) {
      if (!key.startsWith(prefix)) continue;
      const info = await this.#info(key);
      if (info) found.push(info);
    }
    return found.sort(byKeyBytes);
  }

  /** Removes an object; removing a missing one is not an error. */
  async delete(key: string): Promise<void> {
    try {
      unlinkSync(this.#fileOf(key));
    } catch (error) {
      // A folder under that name is other keys' prefix, not an object: nothing to delete.
      if (!isNoObject(error)) throw error;
    }
  }

  /**
   * Announces an existing object again as `ObjectCreated:Copy` and refreshes its modification time.
   *
   * @throws {PermanentError} if no object has that key.
   */
  async touch(key: string): Promise<void> {
    const file = this.#fileOf(key);
    const info = await this.#info(key);
    if (!info) throw new PermanentError(`FsObjectStore: cannot touch "${key}": no object has that key`);
    // A copy onto itself gives S3 objects a new LastModified; keep that visible in list().
    const now = new Date();
    await utimes(file, now, now);
    this.#announce(key, info.size, info.etag, 'ObjectCreated:Copy');
  }

  #fileOf(key: string): string {
    const problem = keyProblem(key);
    if (problem) throw new PermanentError(`FsObjectStore: invalid key ${JSON.stringify(key)}: ${problem}`);
    return path.join(this.root, ...key.split('/'));
  }

  /** Writes `bytes` to a new file in `.tmp/`: its name, and its inode (what the write puts in place). */
  async #stage(bytes: Uint8Array): Promise<{ temp: string; ino: bigint }> {
    const temp = path.join(this.root, FS_STORE_TEMP_FOLDER, randomUUID());
    let ino = 0n;
    await this.#inFolder(temp, async () => {
      const fd = openSync(temp, 'wx');
      try {
        let at = 0;
        while (at < bytes.byteLength) at += writeSync(fd, bytes, at);
        ino = fstatSync(fd, { bigint: true }).ino;
      } finally {
        closeSync(fd);
      }
    });
    return { temp, ino };
  }

  /**
   * Runs `write` of `file`, creating the file's folder first unless this store made it already.
   * A backfill writes tens of thousands of objects into a few folders each day: a `mkdir` before
   * every write was a fifth of its file system calls. A folder removed since (by another process)
   * fails the write with ENOENT, and is made again.
   */
  async #inFolder(file: string, write: () => Promise<void>): Promise<void> {
    const folder = path.dirname(file);
    let made = this.#folders.get(folder);
    if (!made) {
      // One mkdir for the writes that ask at once; a failed one is not remembered.
      made = mkdir(folder, { recursive: true }).then(() => undefined);
      this.#remember(this.#folders, folder, made);
      made.catch(() => this.#folders.delete(folder));
    }
    await made;
    try {
      await write();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      this.#folders.delete(folder);
      await mkdir(folder, { recursive: true });
      await write();
    }
  }

  /**
   * After a write: the new version's ETag (the md5 of what was written, as S3 computes it) is
   * remembered for the file, so that listing it does not read and hash it again, and the write is
   * announced.
   */
  async #written(key: string, file: string, staged: { ino: bigint }, bytes: Uint8Array): Promise<void> {
    const etag = md5(bytes);
    try {
      const stats = statSync(file, { bigint: true });
      // Only if the file is still the one written here: another writer may have replaced it since.
      if (stats.ino === staged.ino) this.#remember(this.#etags, file, { stamp: versionStamp(stats), etag });
    } catch (error) {
      // Removed already: the next listing sees whatever is there.
      if (!isMissing(error)) throw error;
    }
    this.#announce(key, bytes.byteLength, etag, 'ObjectCreated:Put');
  }

  /** Sets `key` in a bounded cache, the oldest entry going first. */
  #remember<K, V>(cache: Map<K, V>, key: K, value: V): void {
    cache.delete(key);
    if (cache.size >= cacheEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
  }

  /**
   * Runs `change` if this caller is the one to change version `etag` of `key` and the object is
   * still that version. The marker's link(2) is what makes it one caller, in this process or any.
   */
  async #ifMatch(key: string, etag: string, change: () => Promise<void>): Promise<boolean> {
    const file = this.#fileOf(key);
    const folder = path.join(this.root, FS_STORE_TEMP_FOLDER, 'if-match');
    await mkdir(folder, { recursive: true });
    const marker = path.join(folder, `${createHash('sha256').update(key).digest('hex')}.${etag}`);
    const { temp } = await this.#stage(new Uint8Array());
    try {
      if (!(await linkMarker(temp, marker))) return false;
    } finally {
      await rm(temp, { force: true });
    }
    try {
      let current;
      try {
        current = await md5OfFile(file);
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
      if (current !== etag) return false;
      await change();
      return true;
    } finally {
      await rm(marker, { force: true });
    }
  }

  async #walk(folder: string): Promise<string[]> {
    let entries;
    try {
      entries = readdirSync(path.join(this.root, ...folder.split('/')), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (folder === '' && entry.name === FS_STORE_TEMP_FOLDER) continue;
      if (entry.isDirectory()) keys.push(...(await this.#walk(`${folder}${entry.name}/`)));
      else if (entry.isFile()) keys.push(`${folder}${entry.name}`);
    }
    return keys;
  }

  async #info(key: string): Promise<ObjectInfo | undefined> {
    const file = this.#fileOf(key);
    try {
      const stats = statSync(file, { bigint: true });
      if (!stats.isFile()) return undefined;
      return {
        key,
        size: Number(stats.size),
        lastModified: stats.mtime,
        etag: await this.#etagOf(file, stats),
      };
    } catch (error) {
      // Deleted between the folder read and now: it is simply no longer there.
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The file's md5, hashed again only when the file is not the version last hashed. */
  async #etagOf(file: string, stats: BigIntStats): Promise<string> {
    const stamp = versionStamp(stats);
    const known = this.#etags.get(file);
    if (known?.stamp === stamp) return known.etag;
    const etag = await md5OfFile(file);
    this.#remember(this.#etags, file, { stamp, etag });
    return etag;
  }

  #announce(key: string, size: number, etag: string, eventName: ObjectCreatedName): void {
    const listener = this.#onObjectCreated;
    if (!listener) return;
    const report = (error: unknown) =>
      logger.error('ObjectCreated listener failed', {
        key,
        eventName,
        error: error instanceof Error ? error.message : String(error),
      });
    // The write has happened; whatever the listener does, the writer must not see it fail.
    try {
      const event = objectCreatedEvent({
        bucket: this.bucket,
        region: this.region,
        key,
        size,
        etag,
        eventName,
      });
      Promise.resolve(listener(event) as unknown).catch(report);
    } catch (error) {
      report(error);
    }
  }
}

/** link(2): `false` if the name is taken. */
const tryLink = async (existing: string, name: string): Promise<boolean> => {
  try {
    await link(existing, name);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
};

/** Whether a marker is gone or was left behind by a writer that died holding it. */
const abandoned = async (marker: string): Promise<boolean> => {
  try {
    return Date.now() - (await stat(marker)).mtimeMs >= abandonedMarkerMs;
  } catch (error) {
    if (isMissing(error)) return true;
    throw error;
  }
};

/** Links the marker; `false` if another caller holds it. One left behind by a dead writer is removed first. */
const linkMarker = async (temp: string, marker: string): Promise<boolean> => {
  if (await tryLink(temp, marker)) return true;
  if (!(await abandoned(marker))) return false;
  await rm(marker, { force: true });
  return tryLink(temp, marker);
};

const isMissing = (error: unknown): boolean =>
  errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR';

/** No object under a key: no file, or a folder (other keys' prefix), as S3 answers NoSuchKey. */
const isNoObject = (error: unknown): boolean => isMissing(error) || errorCode(error) === 'EISDIR';
