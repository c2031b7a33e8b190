import { describe, expect, it } from 'vitest';
import {
  AttributeCache,
  attributeCacheKey,
  type CachedTrack,
} from '../../../../services/track-attributes/enrichment/attribute-cache.js';
import type { ObjectStore, PutOptions } from '../../../../shared/ports/object-store.js';
import { freshLake } from './enricher-fixtures.js';

/** The reads and writes the cache makes of the lake, in memory: a cache of tens of thousands of entries in a second. */
class MemoryLake {
  readonly objects = new Map<string, Buffer>();
  readonly contentTypes = new Map<string, string | undefined>();
  gets = 0;

  async put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void> {
    this.objects.set(key, Buffer.from(body));
    this.contentTypes.set(key, options?.contentType);
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.gets += 1;
    return this.objects.get(key);
  }

  asStore(): ObjectStore {
    return this as unknown as ObjectStore;
  }
}

const entry = (trackId: string): CachedTrack => ({
  trackId,
  metadata: {
    columns: { track_name: `Song ${trackId}`, duration_ms: 1000 },
    source: 'spotify',
    artists: [{ artistId: 'a1', artistName: 'A' }],
    fetchedOn: '2026-03-02',
  },
});

describe('Class: AttributeCache', () => {
  it('keeps each entry in the lake as JSON, one object per track, and reads it back', async () => {
    const lake = new MemoryLake();
    await new AttributeCache(lake.asStore()).write([entry('t1'), entry('t2')]);

    const read = await new AttributeCache(lake.asStore()).read(['t1', 't2', 't3']);

    expect(read).toEqual(
      new Map([
        ['t1', entry('t1')],
        ['t2', entry('t2')],
      ]),
    );
    expect(JSON.parse(lake.objects.get(attributeCacheKey('t1'))!.toString('utf8'))).toEqual(entry('t1'));
    expect(lake.contentTypes.get(attributeCacheKey('t1'))).toBe('application/json');
  });

  it('takes an entry that is not JSON, not an entry, or for another track as absent', async () => {
    const store = freshLake();
    await store.put(attributeCacheKey('garbled'), '{"trackId": "garbled", "metadata"');
    await store.put(attributeCacheKey('shapeless'), JSON.stringify({ trackId: 'shapeless', metadata: 7 }));
    await store.put(attributeCacheKey('moved'), JSON.stringify(entry('elsewhere')));
    await store.put(attributeCacheKey('fine'), JSON.stringify(entry('fine')));

    const read = await new AttributeCache(store).read(['garbled', 'shapeless', 'moved', 'fine']);

    expect([...read.keys()]).toEqual(['fine']);
  });

  it('reads the lake on every read unless told to remember', async () => {
    const lake = new MemoryLake();
    const cache = new AttributeCache(lake.asStore());
    await cache.write([entry('t1')]);
    lake.objects.clear();

    expect(await cache.read(['t1'])).toEqual(new Map());
  });

  it('when told to remember, reads an entry from the lake once, and serves what it wrote or read', async () => {
    const lake = new MemoryLake();
    await lake.put(attributeCacheKey('read'), JSON.stringify(entry('read')));
    const cache = new AttributeCache(lake.asStore(), { remember: true });
    await cache.read(['read']);
    await cache.write([entry('written')]);
    lake.objects.clear();
    const gets = lake.gets;

    expect(await cache.read(['read', 'written'])).toEqual(
      new Map([
        ['read', entry('read')],
        ['written', entry('written')],
      ]),
    );
    expect(lake.gets).toBe(gets);
  });

  it('remembers the latest 50,000 entries: the oldest goes first', async () => {
    const lake = new MemoryLake();
    const cache = new AttributeCache(lake.asStore(), { remember: true });
    const ids = Array.from({ length: 50_001 }, (_, i) => `t${i}`);
    await cache.write(ids.map(entry));
    lake.objects.clear();

    const read = await cache.read(['t0', 't1', 't50000']);

    expect([...read.keys()].sort()).toEqual(['t1', 't50000']);
  });
});
