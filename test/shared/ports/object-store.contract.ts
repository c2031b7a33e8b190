import { createHash } from 'node:crypto';
import type { S3Event } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeS3Key } from '../../../shared/events/s3-keys.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { s3EventFactory, shapeOf } from '../../support/factories.js';

/** What a contract run needs from an adapter: a fresh store, the events it announced, a clean-up. */
export interface ObjectStoreFixture {
  readonly store: ObjectStore;
  /** Every ObjectCreated event announced so far, oldest first. */
  events(): S3Event[];
  cleanup(): Promise<void>;
}

const md5 = (body: string | Uint8Array) => createHash('md5').update(body).digest('hex');

/**
 * The behaviour every {@link ObjectStore} adapter must have, as S3 has it. Event checks wait for
 * the events, so that an adapter whose notifications arrive later (S3 through a queue) passes too.
 */
export const describeObjectStoreContract = (
  name: string,
  makeStore: () => Promise<ObjectStoreFixture>,
): void => {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(() => fixture.cleanup());

    const records = () => fixture.events().flatMap((e) => e.Records);
    const recordsOf = (key: string) => records().filter((r) => decodeS3Key(r.s3.object.key) === key);

    it('reads back what it wrote, and the last write wins', async () => {
      await store.put('raw/a.json', '{"v":1}');
      expect((await store.get('raw/a.json'))?.toString()).toBe('{"v":1}');
      await store.put('raw/a.json', '{"v":2}');
      expect((await store.get('raw/a.json'))?.toString()).toBe('{"v":2}');
    });

    it('answers undefined for a missing key', async () => {
      expect(await store.get('raw/missing.json')).toBeUndefined();
    });

    it('keeps binary bodies byte for byte', async () => {
      const body = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
      await store.put('bin/all-bytes', body);
      expect(new Uint8Array((await store.get('bin/all-bytes')) ?? [])).toEqual(body);
    });

    it('keeps unicode keys and bodies unchanged', async () => {
      const key = 'raw/date=2025-01-02/chart=ü/Beyoncé — “Halo” 🎵 שלום + 50%.csv';
      await store.put(key, 'نص,"quoted"\n🎵');
      expect((await store.get(key))?.toString()).toBe('نص,"quoted"\n🎵');
      expect((await store.list('raw/date=2025-01-02/')).map((o) => o.key)).toEqual([key]);
    });

    it('lists by key prefix (not only by folder), sorted by UTF-8 bytes, with size and md5 etag', async () => {
      const keys = ['p/b.csv', 'p/a/z.csv', 'p/a.csv', 'p-other/x.csv', 'q/x.csv', 'p/\u{FF5E}', 'p/🎵'];
      for (const key of keys) await store.put(key, `body of ${key}`);
      const listed = await store.list('p/');
      // '.' sorts before '/', and U+FF5E before any emoji in UTF-8 (not in UTF-16).
      expect(listed.map((o) => o.key)).toEqual(['p/a.csv', 'p/a/z.csv', 'p/b.csv', 'p/\u{FF5E}', 'p/🎵']);
      expect((await store.list('p/a')).map((o) => o.key)).toEqual(['p/a.csv', 'p/a/z.csv']);
      expect(await store.list('nothing/')).toEqual([]);
      const first = listed[0];
      expect(first).toMatchObject({
        key: 'p/a.csv',
        size: Buffer.byteLength('body of p/a.csv'),
        etag: md5('body of p/a.csv'),
      });
      expect(first?.lastModified).toBeInstanceOf(Date);
      expect((await store.list('')).length).toBe(keys.length);
    });

    it('deletes, and deleting a missing key is no error', async () => {
      await store.put('d/x', 'x');
      await store.delete('d/x');
      await store.delete('d/x');
      await store.delete('d/never-was');
      expect(await store.get('d/x')).toBeUndefined();
      expect(await store.list('d/')).toEqual([]);
    });

    it('creates if absent exactly once among 50 concurrent callers, keeping the winner’s body', async () => {
      const key = 'control/claims/date=2025-01-02/chart=global/run=r1.json';
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.createIfAbsent(key, `caller ${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.get(key))?.toString()).toBe(`caller ${winner}`);
      expect(await store.createIfAbsent(key, 'late')).toBe(false);
      await vi.waitFor(() => expect(recordsOf(key)).toHaveLength(1));
    });

    it('reads an object with its md5 ETag, and nothing for a missing key', async () => {
      await store.put('v/x.json', 'version 1');
      expect(await store.getWithEtag('v/x.json')).toEqual({
        body: Buffer.from('version 1'),
        etag: md5('version 1'),
      });
      expect(await store.getWithEtag('v/missing.json')).toBeUndefined();
    });

    it('replaces an object only while it is still the version read, and announces the replacement', async () => {
      const key = 'control/locks/transform.json';
      await store.put(key, 'stale');
      const read = (await store.getWithEtag(key))!;
      expect(await store.replaceIfMatch(key, 'mine', read.etag)).toBe(true);
      expect((await store.get(key))?.toString()).toBe('mine');
      // The version read is gone: a second replacement on it fails, and changes nothing.
      expect(await store.replaceIfMatch(key, 'late', read.etag)).toBe(false);
      expect((await store.get(key))?.toString()).toBe('mine');
      expect(await store.replaceIfMatch('control/locks/none.json', 'x', read.etag)).toBe(false);
      expect(await store.get('control/locks/none.json')).toBeUndefined();
      await vi.waitFor(() => expect(recordsOf(key)).toHaveLength(2));
      expect(recordsOf(key)[1]?.s3.object).toMatchObject({ eTag: md5('mine') });
    });

    it('replaces one version exactly once among 20 concurrent callers, keeping the winner’s body', async () => {
      const key = 'control/locks/transform.json';
      await store.put(key, '{"batchId":"dead"}');
      const stale = (await store.getWithEtag(key))!;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.replaceIfMatch(key, `caller ${i}`, stale.etag)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get(key))?.toString()).toBe(`caller ${results.indexOf(true)}`);
    });

    it('deletes an object only while it is still the version read', async () => {
      const key = 'control/locks/transform.json';
      await store.put(key, 'first');
      const first = (await store.getWithEtag(key))!;
      await store.put(key, 'second');
      expect(await store.deleteIfMatch(key, first.etag)).toBe(false);
      expect((await store.get(key))?.toString()).toBe('second');
      const second = (await store.getWithEtag(key))!;
      expect(await store.deleteIfMatch(key, second.etag)).toBe(true);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.deleteIfMatch(key, second.etag)).toBe(false);
    });

    it('announces every write, overwrites included, with keys URL-encoded as S3 does', async () => {
      const key = 'raw/chart_songs/date=2025-01-02/chart=global/a b+c.csv';
      await store.put(key, 'one');
      await store.put(key, 'two!');
      await vi.waitFor(() => expect(recordsOf(key)).toHaveLength(2));
      const [first, second] = recordsOf(key);
      expect(first?.s3.object.key).toBe('raw/chart_songs/date%3D2025-01-02/chart%3Dglobal/a+b%2Bc.csv');
      expect(first).toMatchObject({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
      });
      expect(first?.s3.object).toMatchObject({ size: 3, eTag: md5('one') });
      expect(second?.s3.object).toMatchObject({ size: 4, eTag: md5('two!') });
      expect(first?.s3.bucket.arn).toBe(`arn:aws:s3:::${first?.s3.bucket.name}`);
      expect(Number.isNaN(Date.parse(first?.eventTime ?? ''))).toBe(false);
      expect(shapeOf(first)).toEqual(shapeOf(s3EventFactory(key).Records[0]));
    });

    it('announces a successful createIfAbsent', async () => {
      await store.createIfAbsent('c/once', 'x');
      await vi.waitFor(() => expect(recordsOf('c/once')).toHaveLength(1));
    });

    it('touches an object: announces it again as a copy, unchanged', async () => {
      await store.put('t/x.csv', 'same');
      await store.touch('t/x.csv');
      await vi.waitFor(() => expect(recordsOf('t/x.csv')).toHaveLength(2));
      expect(recordsOf('t/x.csv')[1]).toMatchObject({
        eventName: 'ObjectCreated:Copy',
        s3: { object: { size: 4, eTag: md5('same') } },
      });
      expect((await store.get('t/x.csv'))?.toString()).toBe('same');
    });

    it('refuses to touch a missing object', async () => {
      await expect(store.touch('t/missing.csv')).rejects.toThrow(/t\/missing\.csv/);
    });
  });
};
