import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FS_STORE_TEMP_FOLDER, FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { logger } from '../../../../shared/logger.js';
import { describeObjectStoreContract } from '../../../shared/ports/object-store.contract.js';

const tempRoot = () => mkdtemp(path.join(tmpdir(), 'chartflow-fs-store-'));

describeObjectStoreContract('FsObjectStore', async () => {
  const root = await tempRoot();
  const events: S3Event[] = [];
  const store = new FsObjectStore({ root, onObjectCreated: (event) => events.push(event) });
  return { store, events: () => events, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('Class: FsObjectStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await tempRoot();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it.each([
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['a/../../b', /"\.\."/],
    ['..', /"\.\."/],
    ['a\0b', /NUL/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['./a', /"\."/],
    [`${FS_STORE_TEMP_FOLDER}/x`, /stages its writes/],
    ['bad\uD800surrogate', /well-formed/],
  ])('rejects the key %j, naming it', async (key, reason) => {
    const store = new FsObjectStore({ root });
    const error = await store.put(key, 'x').catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(reason);
    expect(error?.message).toContain(JSON.stringify(key));
    await expect(store.get(key)).rejects.toThrow(reason);
    await expect(store.createIfAbsent(key, 'x')).rejects.toThrow(reason);
  });

  it('lists the ETag of what a file holds now: after a write, and after a change in place of the same size', async () => {
    const store = new FsObjectStore({ root });
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const etagOf = async () => (await store.list('day/'))[0]!.etag;
    await store.put('day/a.csv', 'one');
    expect(await etagOf()).toBe(md5('one'));
    expect(await etagOf()).toBe(md5('one'));
    await store.put('day/a.csv', 'two');
    expect(await etagOf()).toBe(md5('two'));
    // Damage by hand: the same size, written over the same file (no new inode), its times kept.
    const file = path.join(root, 'day', 'a.csv');
    const { mtime, atime } = await stat(file);
    await writeFile(file, 'six');
    await utimes(file, atime, mtime);
    expect(await etagOf()).toBe(md5('six'));
  });

  it('lists the ETag of the version another writer (another process) put since its own write', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const mine = new FsObjectStore({ root });
    const theirs = new FsObjectStore({ root });
    await mine.put('day/a.csv', 'one');
    await theirs.put('day/a.csv', 'two');
    expect((await mine.list('day/'))[0]!.etag).toBe(md5('two'));
    await theirs.createIfAbsent('day/b.csv', 'three');
    expect((await mine.list('day/b'))[0]!.etag).toBe(md5('three'));
  });

  it('lists the ETag of what is there after two stores write one key at the same time', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const mine = new FsObjectStore({ root });
    const theirs = new FsObjectStore({ root });
    await mine.put('day/warm.csv', 'w');
    await theirs.put('day/warm.csv', 'w');
    await Promise.all([mine.put('day/a.csv', 'one'), theirs.put('day/a.csv', 'two')]);
    const body = (await mine.get('day/a.csv'))!.toString();
    expect((await mine.list('day/a'))[0]!.etag).toBe(md5(body));
    expect((await theirs.list('day/a'))[0]!.etag).toBe(md5(body));
  });

  it('writes again into a folder, or its staging folder, removed behind its back', async () => {
    const store = new FsObjectStore({ root });
    await store.put('a/x', 'x');
    await store.createIfAbsent('b/x', 'x');
    await rm(path.join(root, 'a'), { recursive: true });
    await rm(path.join(root, 'b'), { recursive: true });
    await rm(path.join(root, FS_STORE_TEMP_FOLDER), { recursive: true });
    await store.put('a/y', 'y');
    expect(await store.createIfAbsent('b/y', 'y')).toBe(true);
    expect((await store.list('')).map((o) => o.key)).toEqual(['a/y', 'b/y']);
  });

  it('rejects prefixes that escape the root', async () => {
    await expect(new FsObjectStore({ root }).list('../')).rejects.toThrow(/invalid prefix/);
  });

  it('rejects malformed options, naming them', () => {
    expect(() => new FsObjectStore({ root: '' })).toThrow(/root/);
    expect(() => new FsObjectStore({ root, bucket: 'Not_A_Bucket' })).toThrow(/bucket/);
  });

  it('stages writes out of sight and leaves no temp file behind, winners or losers', async () => {
    const store = new FsObjectStore({ root });
    await store.put('a/x', 'x');
    await Promise.all(Array.from({ length: 10 }, () => store.createIfAbsent('a/once', 'y')));
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER))).toEqual([]);
    expect((await store.list('')).map((o) => o.key)).toEqual(['a/once', 'a/x']);
  });

  it('carries its bucket and region on events', async () => {
    const events: S3Event[] = [];
    const store = new FsObjectStore({
      root,
      bucket: 'lake-test',
      region: 'eu-west-1',
      onObjectCreated: (e) => events.push(e),
    });
    await store.put('k', 'v');
    expect(events[0]?.Records[0]).toMatchObject({
      awsRegion: 'eu-west-1',
      s3: { bucket: { name: 'lake-test', arn: 'arn:aws:s3:::lake-test' } },
    });
  });

  it('never lets a listener fail a write, whether it throws or rejects, and logs why', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const throwing = new FsObjectStore({
        root,
        onObjectCreated: () => {
          throw new Error('listener down');
        },
      });
      await expect(throwing.put('k1', 'v')).resolves.toBeUndefined();
      const rejecting = new FsObjectStore({
        root,
        onObjectCreated: (async () => {
          throw new Error('async listener down');
        }) as () => void,
      });
      await expect(rejecting.createIfAbsent('k2', 'v')).resolves.toBe(true);
      expect((await throwing.list('')).map((o) => o.key)).toEqual(['k1', 'k2']);
      await vi.waitFor(() => expect(logged).toHaveBeenCalledTimes(2));
      expect(logged.mock.calls.map(([, attributes]) => attributes)).toEqual([
        expect.objectContaining({ key: 'k1', error: 'listener down' }),
        expect.objectContaining({ key: 'k2', error: 'async listener down' }),
      ]);
    } finally {
      logged.mockRestore();
    }
  });

  it('hashes an object as it streams in: its size and SHA-256, several chunks long; nothing for a missing key', async () => {
    const store = new FsObjectStore({ root });
    const body = Buffer.alloc(200_000, 'chartflow ');
    await store.put('big/part.csv', body);
    expect(await store.checksum('big/part.csv')).toEqual({
      bytes: 200_000,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(await store.checksum('big/missing.csv')).toBeUndefined();
  });

  it('finds no object under a file taken for a folder, nor under a folder taken for an object', async () => {
    const store = new FsObjectStore({ root });
    await store.put('f', 'a file');
    await store.put('dir/x', 'x');
    expect(await store.get('f/g')).toBeUndefined();
    expect(await store.getWithEtag('f/g')).toBeUndefined();
    expect(await store.checksum('f/g')).toBeUndefined();
    expect(await store.list('f/')).toEqual([]);
    expect(await store.replaceIfMatch('f/g', 'y', 'any-etag')).toBe(false);
    // The key a folder stands for is no object, as S3 answers NoSuchKey: `dir/x` is another object.
    expect(await store.get('dir')).toBeUndefined();
    expect(await store.getWithEtag('dir')).toBeUndefined();
    expect(await store.checksum('dir')).toBeUndefined();
    // Deleting it removes nothing.
    await store.delete('dir');
    expect((await store.list('')).map((o) => o.key)).toEqual(['dir/x', 'f']);
    await expect(store.touch('dir')).rejects.toThrow(/no object has that key/);
  });

  it('writes into a folder once a file that stood in its way is gone', async () => {
    const store = new FsObjectStore({ root });
    await store.put('f', 'a file where a folder should go');
    await expect(store.put('f/g', 'x')).rejects.toThrow();
    await store.delete('f');
    await store.put('f/g', 'x');
    expect((await store.get('f/g'))?.toString()).toBe('x');
  });

  it('fails a write the file system refuses, leaving no staged file, and never takes it for a taken key', async () => {
    const store = new FsObjectStore({ root });
    const tooLong = `day/${'n'.repeat(300)}.csv`; // a file name is at most 255 bytes
    await expect(store.put(tooLong, 'x')).rejects.toThrow(/ENAMETOOLONG/);
    await expect(store.createIfAbsent(tooLong, 'x')).rejects.toThrow(/ENAMETOOLONG/);
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER))).toEqual([]);
  });

  it('throws a file system failure rather than reading it as a missing object', async () => {
    const store = new FsObjectStore({ root });
    // Damage by hand: a link that points at itself, where an object and a folder are looked for.
    await symlink('loop', path.join(root, 'loop'));
    await expect(store.get('loop')).rejects.toThrow(/ELOOP/);
    await expect(store.checksum('loop')).rejects.toThrow(/ELOOP/);
    await expect(store.list('loop/')).rejects.toThrow(/ELOOP/);
    await expect(store.deleteIfMatch('loop', 'any-etag')).rejects.toThrow(/ELOOP/);
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER, 'if-match'))).toEqual([]);
  });

  it('lists regular files only: a link put among the objects by hand is not one', async () => {
    const store = new FsObjectStore({ root });
    await store.put('day/a.csv', 'a');
    await symlink(path.join(root, 'day', 'a.csv'), path.join(root, 'day', 'link.csv'));
    expect((await store.list('')).map((o) => o.key)).toEqual(['day/a.csv']);
  });

  it('hides only its own staging folder: a deeper ".tmp" segment is an ordinary key', async () => {
    const store = new FsObjectStore({ root });
    await store.put(`day/${FS_STORE_TEMP_FOLDER}/a.csv`, 'a');
    expect((await store.list('')).map((o) => o.key)).toEqual([`day/${FS_STORE_TEMP_FOLDER}/a.csv`]);
  });

  it('leaves out of a listing an object deleted while the listing runs', async () => {
    const writer = new FsObjectStore({ root });
    await writer.put('day/a.csv', Buffer.alloc(1_000_000, 'a'));
    await writer.put('day/b.csv', 'b');
    const reader = new FsObjectStore({ root }); // has hashed nothing yet: it reads a.csv first
    const listing = reader.list('day/');
    await writer.delete('day/b.csv');
    expect((await listing).map((o) => o.key)).toEqual(['day/a.csv']);
  });

  it('touch gives the object a new modification time, as a copy onto itself gives it in S3', async () => {
    const store = new FsObjectStore({ root });
    await store.put('t/x.csv', 'same');
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(path.join(root, 't', 'x.csv'), longAgo, longAgo);
    const before = Date.now();
    await store.touch('t/x.csv');
    const [listed] = await store.list('t/');
    expect(listed?.lastModified.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it("logs nothing when it has no listener, and logs a listener's non-Error failure as text", async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const quiet = new FsObjectStore({ root });
      await quiet.put('k0', 'v');
      await quiet.touch('k0');
      const throwing = new FsObjectStore({
        root,
        onObjectCreated: () => {
          throw 'not an Error';
        },
      });
      await throwing.put('k1', 'v');
      await vi.waitFor(() => expect(logged).toHaveBeenCalledTimes(1));
      expect(logged.mock.calls[0]?.[1]).toMatchObject({
        key: 'k1',
        eventName: 'ObjectCreated:Put',
        error: 'not an Error',
      });
    } finally {
      logged.mockRestore();
    }
  });

  it('leaves no staged file behind after conditional writes and deletes', async () => {
    const store = new FsObjectStore({ root });
    await store.put('control/lock.json', 'v1');
    const v1 = (await store.getWithEtag('control/lock.json'))!;
    expect(await store.replaceIfMatch('control/lock.json', 'v2', v1.etag)).toBe(true);
    expect(await store.replaceIfMatch('control/lock.json', 'v3', v1.etag)).toBe(false);
    const v2 = (await store.getWithEtag('control/lock.json'))!;
    expect(await store.deleteIfMatch('control/lock.json', v2.etag)).toBe(true);
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER))).toEqual(['if-match']);
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER, 'if-match'))).toEqual([]);
  });

  /** Starts 8 racer processes, lets them go together, and returns each one's wins. */
  const race = async (racerFile: string, keyCount: number): Promise<string[][]> => {
    const racer = fileURLToPath(new URL(racerFile, import.meta.url));
    const children = Array.from({ length: 8 }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', racer, root, String(i), String(keyCount)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const lines = children.map((child) => {
      const received: string[] = [];
      let ready!: () => void;
      const readyPromise = new Promise<void>((resolve) => (ready = resolve));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        received.push(...chunk.split('\n').filter(Boolean));
        if (received[0] === 'ready') ready();
      });
      const done = new Promise<string[]>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(received[1] ?? '[]') as string[])
            : reject(new Error(`racer exited ${code}`)),
        );
      });
      return { child, ready: readyPromise, done };
    });
    await Promise.all(lines.map((l) => l.ready));
    for (const { child } of lines) child.stdin.end('go\n');
    return Promise.all(lines.map((l) => l.done));
  };

  const expectOneWinnerPerKey = async (wins: string[][], keyCount: number) => {
    const allWins = wins.flat().sort();
    expect(allWins).toHaveLength(keyCount);
    expect(new Set(allWins).size).toBe(keyCount);
    const store = new FsObjectStore({ root });
    for (const [racerIndex, keys] of wins.entries()) {
      for (const key of keys) expect((await store.get(key))?.toString()).toBe(`racer ${racerIndex}`);
    }
  };

  it('creates if absent exactly once across 8 processes racing on the same keys', async () => {
    await expectOneWinnerPerKey(await race('./create-if-absent-racer.ts', 20), 20);
  });

  it('replaces a stale version exactly once across 8 processes racing on the same keys', async () => {
    const store = new FsObjectStore({ root });
    for (let i = 0; i < 20; i += 1) await store.put(`race/lock-${i}.json`, `stale ${i}`);
    await expectOneWinnerPerKey(await race('./replace-if-match-racer.ts', 20), 20);
    expect(await readdir(path.join(root, FS_STORE_TEMP_FOLDER, 'if-match'))).toEqual([]);
  });

  it('leaves no marker behind, and a marker a dead writer left only blocks its version for a minute', async () => {
    const store = new FsObjectStore({ root });
    await store.put('control/locks/transform.json', 'stale');
    const stale = (await store.getWithEtag('control/locks/transform.json'))!;
    await store.replaceIfMatch('control/locks/transform.json', 'x', 'not-the-etag');
    await store.deleteIfMatch('control/locks/transform.json', 'not-the-etag');
    const markers = path.join(root, FS_STORE_TEMP_FOLDER, 'if-match');
    expect(await readdir(markers)).toEqual([]);

    // A writer died holding the marker of the stale version.
    const marker = path.join(
      markers,
      `${createHash('sha256').update('control/locks/transform.json').digest('hex')}.${stale.etag}`,
    );
    await writeFile(marker, '');
    expect(await store.replaceIfMatch('control/locks/transform.json', 'mine', stale.etag)).toBe(false);
    const longAgo = new Date(Date.now() - 61_000);
    await utimes(marker, longAgo, longAgo);
    expect(await store.replaceIfMatch('control/locks/transform.json', 'mine', stale.etag)).toBe(true);
    expect((await store.get('control/locks/transform.json'))?.toString()).toBe('mine');
    expect(await readdir(markers)).toEqual([]);
  });
});
