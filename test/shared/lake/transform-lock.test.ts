import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { S3ObjectStore } from '../../../infra/adapters/aws/s3-object-store.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { lockTtlMs, TransformLock } from '../../../shared/lake/transform-lock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { motoAvailable, startMoto, type Moto } from '../../support/moto.js';
import { processIsAlive, thisHost } from '../../../infra/local/process-liveness.js';

const longAgo = { now: () => new Date(Date.now() - lockTtlMs - 60_000), sleep: systemClock.sleep };

/**
 * A store whose reads of the lock wait at a gate until the test opens it: how a test makes every
 * contender see the stale lock before any of them goes on, the interleaving a takeover must survive.
 */
class GatedStore {
  readonly #waiting: (() => void)[] = [];
  readonly #arrived: ((count: number) => void)[] = [];
  constructor(readonly inner: ObjectStore) {}

  store(): ObjectStore {
    const gate = async <T>(read: Promise<T>): Promise<T> => {
      const value = await read;
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        for (const notify of this.#arrived) notify(this.#waiting.length);
      });
      return value;
    };
    const inner = this.inner;
    const lock = lakeKeys.transformLock();
    return {
      put: (...args) => inner.put(...args),
      createIfAbsent: (...args) => inner.createIfAbsent(...args),
      get: (key) => (key === lock ? gate(inner.get(key)) : inner.get(key)),
      getWithEtag: (key) => (key === lock ? gate(inner.getWithEtag(key)) : inner.getWithEtag(key)),
      replaceIfMatch: (...args) => inner.replaceIfMatch(...args),
      deleteIfMatch: (...args) => inner.deleteIfMatch(...args),
      list: (prefix) => inner.list(prefix),
      checksum: (key) => inner.checksum(key),
      delete: (key) => inner.delete(key),
      touch: (key) => inner.touch(key),
    };
  }

  /** Resolves once `count` readers wait at the gate. */
  arrivals(count: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#waiting.length >= count) resolve();
      else this.#arrived.push((n) => n >= count && resolve());
    });
  }

  /** Lets the readers go on, one at a time in arrival order, each once the one before is done. */
  async openOneByOne(done: (index: number) => Promise<unknown>): Promise<void> {
    for (const [index, go] of this.#waiting.splice(0).entries()) {
      go();
      await done(index);
    }
  }
}

/** What every lake must do with the lock, whichever store holds it. */
const describeLock = (name: string, makeStores: () => Promise<ObjectStore[]>) => {
  describe(`Class: TransformLock (${name})`, () => {
    it('lets exactly one of 20 concurrent contenders take over one stale lock', async () => {
      const stores = await makeStores();
      await new TransformLock(stores[0]!, longAgo).acquire('batch-dead');
      const contenders = Array.from({ length: 20 }, (_, i) => `batch-${String(i).padStart(4, '0')}`);
      const won = await Promise.all(
        contenders.map((id, i) => new TransformLock(stores[i % stores.length]!, systemClock).acquire(id)),
      );
      expect(won.filter(Boolean)).toHaveLength(1);
      const holder = await new TransformLock(stores[0]!, systemClock).holder();
      expect(holder?.batchId).toBe(contenders[won.indexOf(true)]);
    });

    it('lets exactly one take over when 20 contenders all saw the stale lock before any went on', async () => {
      const stores = await makeStores();
      await new TransformLock(stores[0]!, longAgo).acquire('batch-dead');
      const gated = stores.map((store) => new GatedStore(store));
      const contenders = Array.from({ length: 20 }, (_, i) => `batch-${String(i).padStart(4, '0')}`);
      const attempts = contenders.map((id, i) =>
        new TransformLock(gated[i % gated.length]!.store(), systemClock).acquire(id),
      );
      await Promise.all(gated.map((g) => g.arrivals(20 / gated.length)));
      // One at a time: each goes on only once the one before has finished taking over (or not).
      for (const g of gated) await g.openOneByOne(() => new Promise((resolve) => setTimeout(resolve, 20)));
      const won = await Promise.all(attempts);
      expect(won.filter(Boolean)).toHaveLength(1);
      const holder = await new TransformLock(stores[0]!, systemClock).holder();
      expect(holder?.batchId).toBe(contenders[won.indexOf(true)]);
    });

    it('lets exactly one of 20 concurrent contenders take a free lock, and waits while it is held', async () => {
      const stores = await makeStores();
      const won = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          new TransformLock(stores[i % stores.length]!, systemClock).acquire(`batch-${i}-0000`),
        ),
      );
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await new TransformLock(stores[0]!, systemClock).acquire('batch-late-0000')).toBe(false);
      // Taking it again is harmless for the holder.
      expect(
        await new TransformLock(stores[0]!, systemClock).acquire(`batch-${won.indexOf(true)}-0000`),
      ).toBe(true);
    });

    it('releases only its own lock: a holder taken over cannot release the new holder', async () => {
      const [store] = await makeStores();
      await new TransformLock(store!, longAgo).acquire('batch-dead');
      expect(await new TransformLock(store!, systemClock).acquire('batch-new')).toBe(true);
      await new TransformLock(store!, systemClock).release('batch-dead');
      expect((await new TransformLock(store!, systemClock).holder())?.batchId).toBe('batch-new');
      await new TransformLock(store!, systemClock).release('batch-new');
      expect(await new TransformLock(store!, systemClock).holder()).toBeUndefined();
    });

    it('replaces an unreadable lock, which protects nothing', async () => {
      const [store] = await makeStores();
      await store!.put(lakeKeys.transformLock(), 'not json');
      expect(await new TransformLock(store!, systemClock).holder()).toBeUndefined();
      expect(await new TransformLock(store!, systemClock).acquire('batch-new')).toBe(true);
      expect((await new TransformLock(store!, systemClock).holder())?.batchId).toBe('batch-new');
    });
  });
};

const homes: string[] = [];
afterAll(() => Promise.all(homes.map((home) => rm(home, { recursive: true, force: true }))));

describeLock('folder store', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-lock-'));
  homes.push(home);
  // Two stores on one folder, as two functions of one machine have.
  return [new FsObjectStore({ root: home }), new FsObjectStore({ root: home })];
});

const available = motoAvailable();
describe.skipIf(!available)('on moto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());

  describeLock('S3 on moto', async () => {
    const bucket = `lake-${randomUUID().slice(0, 8)}`;
    const admin = new S3Client(moto.clientConfig);
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    // Separate clients, as separate Lambda invocations have.
    return Array.from(
      { length: 4 },
      () => new S3ObjectStore({ client: new S3Client(moto.clientConfig), bucket }),
    );
  });
});

describe('Class: TransformLock, with a local holder process', () => {
  let store: FsObjectStore;
  let sleeper: ChildProcess;
  let deadPid: number;
  beforeAll(async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-lock-holder-'));
    homes.push(home);
    store = new FsObjectStore({ root: home });
    // A process that lived and ended: its pid names nothing alive any more.
    const ended = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => ended.once('exit', resolve));
    deadPid = ended.pid!;
    sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  });
  afterAll(() => sleeper.kill('SIGKILL'));
  // Each test starts from a free lock, whatever the one before left.
  beforeEach(() => store.delete(lakeKeys.transformLock()));

  const holdAs = (pid: number, clock = systemClock) =>
    new TransformLock(store, clock, { self: { pid, host: thisHost(), command: 'chartflow run' } });
  const contender = (events: string[]) =>
    new TransformLock(store, systemClock, {
      self: { pid: process.pid, host: thisHost(), command: 'chartflow backfill' },
      holderAlive: processIsAlive,
      onTakeover: (previous, batchId) =>
        events.push(`took ${previous.batchId} (${previous.pid}) for ${batchId}`),
      onBusy: (holder, batchId) => events.push(`busy ${holder?.batchId} (${holder?.pid}) for ${batchId}`),
    });

  it('takes over at once the lock of a process that is gone, and says whose it was', async () => {
    expect(await holdAs(deadPid).acquire('batch-gone')).toBe(true);
    const events: string[] = [];
    expect(await contender(events).acquire('batch-next')).toBe(true);
    expect(events).toEqual([`took batch-gone (${deadPid}) for batch-next`]);
    expect(await contender([]).holder()).toMatchObject({
      batchId: 'batch-next',
      pid: process.pid,
      host: thisHost(),
      command: 'chartflow backfill',
    });
    await contender([]).release('batch-next');
  });

  it('never takes over the lock of a live process on this host, even past the TTL, and tells the waiter', async () => {
    expect(await holdAs(sleeper.pid!, longAgo).acquire('batch-alive')).toBe(true);
    const events: string[] = [];
    expect(await contender(events).acquire('batch-next')).toBe(false);
    expect(events).toEqual([`busy batch-alive (${sleeper.pid}) for batch-next`]);
    expect((await contender([]).liveHolder())?.batchId).toBe('batch-alive');
    // Gone from one moment to the next: free at once.
    sleeper.kill('SIGKILL');
    await new Promise((resolve) => sleeper.once('exit', resolve));
    expect(await contender([]).liveHolder()).toBeUndefined();
    expect(await contender([]).releaseDead()).toMatchObject({ batchId: 'batch-alive', pid: sleeper.pid });
    expect(await contender([]).holder()).toBeUndefined();
  });
});

/**
 * The store, with `then` run once, right after the first call of `method` returns: what another
 * process, acting between two of the lock's requests, makes a contender see.
 */
const between = (
  inner: ObjectStore,
  method: 'createIfAbsent' | 'getWithEtag',
  then: () => Promise<unknown>,
): ObjectStore => {
  let done = false;
  return new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (property === method && !done) {
          done = true;
          await then();
        }
        return result;
      };
    },
  });
};

/** A clock that stands still at `at`. */
const fixedAt = (at: number) => ({ now: () => new Date(at), sleep: systemClock.sleep });

describe('Class: TransformLock, its states and repairs (folder store)', () => {
  let store: FsObjectStore;
  beforeAll(async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-lock-states-'));
    homes.push(home);
    store = new FsObjectStore({ root: home });
  });
  beforeEach(() => store.delete(lakeKeys.transformLock()));

  const lock = (options: ConstructorParameters<typeof TransformLock>[2] = {}) =>
    new TransformLock(store, systemClock, options);
  const holdStale = (batchId: string) => new TransformLock(store, longAgo).acquire(batchId);
  const holdUnreadable = () => store.put(lakeKeys.transformLock(), 'not json');
  const lockBody = async () => (await store.get(lakeKeys.transformLock()))?.toString('utf8');

  describe('acquire', () => {
    it('takes a lock its holder released between the failed create and the read', async () => {
      expect(await lock().acquire('batch-a')).toBe(true);
      const contender = new TransformLock(
        between(store, 'createIfAbsent', () => lock().release('batch-a')),
        systemClock,
      );
      expect(await contender.acquire('batch-b')).toBe(true);
      expect((await lock().holder())?.batchId).toBe('batch-b');
    });

    it('refuses a lock held within the TTL up to its last millisecond, and takes it one millisecond after', async () => {
      const acquiredAt = Date.parse('2026-12-07T10:00:00.000Z');
      expect(await new TransformLock(store, fixedAt(acquiredAt)).acquire('batch-a')).toBe(true);
      const busy: string[] = [];
      const at = (ms: number) =>
        new TransformLock(store, fixedAt(ms), {
          onBusy: (holder, id) => busy.push(`${holder?.batchId} ${id}`),
        });
      expect(await at(acquiredAt + lockTtlMs).acquire('batch-b')).toBe(false);
      expect(busy).toEqual(['batch-a batch-b']);
      expect(await at(acquiredAt + lockTtlMs + 1).acquire('batch-b')).toBe(true);
      expect((await lock().holder())?.batchId).toBe('batch-b');
    });

    it('tells of no takeover when another contender took the stale lock first', async () => {
      await holdStale('batch-dead');
      const takeovers: unknown[] = [];
      const contender = new TransformLock(
        between(store, 'getWithEtag', () => lock().acquire('batch-first')),
        systemClock,
        { onTakeover: (previous, batchId) => takeovers.push({ previous, batchId }) },
      );
      expect(await contender.acquire('batch-late')).toBe(false);
      expect(takeovers).toEqual([]);
      expect((await lock().holder())?.batchId).toBe('batch-first');
    });

    it('tells of no takeover when it replaces an unreadable lock: there was no holder to name', async () => {
      await holdUnreadable();
      const takeovers: unknown[] = [];
      const contender = lock({ onTakeover: (previous, batchId) => takeovers.push({ previous, batchId }) });
      expect(await contender.acquire('batch-new')).toBe(true);
      expect(takeovers).toEqual([]);
    });

    it('tells of the takeover of a stale lock, naming its holder', async () => {
      await holdStale('batch-dead');
      const takeovers: unknown[] = [];
      const contender = lock({ onTakeover: (previous, batchId) => takeovers.push({ previous, batchId }) });
      expect(await contender.acquire('batch-new')).toBe(true);
      expect(takeovers).toEqual([
        { previous: expect.objectContaining({ batchId: 'batch-dead' }), batchId: 'batch-new' },
      ]);
    });
  });

  describe('releaseDead', () => {
    it('leaves the lock of a holder that is alive', async () => {
      await holdStale('batch-alive');
      expect(await lock({ holderAlive: () => true }).releaseDead()).toBeUndefined();
      expect((await lock().holder())?.batchId).toBe('batch-alive');
    });

    it('leaves a lock, even past the TTL, where the machine cannot tell whether its holder lives', async () => {
      await holdStale('batch-elsewhere');
      expect(await lock({ holderAlive: () => undefined }).releaseDead()).toBeUndefined();
      // On AWS nothing tells liveness at all: the TTL, through releaseStale, is the only way.
      expect(await lock().releaseDead()).toBeUndefined();
      expect((await lock().holder())?.batchId).toBe('batch-elsewhere');
    });

    it('leaves an unreadable lock, which names no process known to be gone', async () => {
      await holdUnreadable();
      // A machine on which every holder named is gone.
      expect(await lock({ holderAlive: () => false }).releaseDead()).toBeUndefined();
      expect(await lockBody()).toBe('not json');
    });

    it('finds nothing to release when nobody holds the lock', async () => {
      expect(await lock({ holderAlive: () => false }).releaseDead()).toBeUndefined();
    });

    it('releases the lock of a holder that is gone, and names it', async () => {
      await lock().acquire('batch-gone');
      expect(await lock({ holderAlive: () => false }).releaseDead()).toMatchObject({ batchId: 'batch-gone' });
      expect(await lockBody()).toBeUndefined();
    });
  });

  describe('inspect', () => {
    it('finds nothing when nobody holds the lock', async () => {
      expect(await lock().inspect()).toBeUndefined();
    });

    it('finds a lock held within the TTL not free, and one past it free', async () => {
      await lock().acquire('batch-fresh');
      expect(await lock().inspect()).toEqual({
        holder: expect.objectContaining({ batchId: 'batch-fresh' }),
        free: false,
      });
      await store.delete(lakeKeys.transformLock());
      await holdStale('batch-stale');
      expect(await lock().inspect()).toEqual({
        holder: expect.objectContaining({ batchId: 'batch-stale' }),
        free: true,
      });
    });

    it('finds an unreadable lock free, naming no holder', async () => {
      await holdUnreadable();
      expect(await lock().inspect()).toEqual({ holder: undefined, free: true });
    });
  });

  describe('releaseStale', () => {
    it('finds nothing to release when nobody holds the lock', async () => {
      expect(await lock().releaseStale()).toBe(false);
      expect(await lock().releaseStale('batch-a')).toBe(false);
    });

    it('leaves a lock held within the TTL, even when it names the batch', async () => {
      await lock().acquire('batch-fresh');
      expect(await lock().releaseStale()).toBe(false);
      expect(await lock().releaseStale('batch-fresh')).toBe(false);
      expect((await lock().holder())?.batchId).toBe('batch-fresh');
    });

    it('releases a stale lock when no batch is named', async () => {
      await holdStale('batch-stale');
      expect(await lock().releaseStale()).toBe(true);
      expect(await lockBody()).toBeUndefined();
    });

    it('releases a stale lock when it names the batch that holds it, and leaves it when it names another', async () => {
      await holdStale('batch-stale');
      expect(await lock().releaseStale('batch-other')).toBe(false);
      expect((await lock().holder())?.batchId).toBe('batch-stale');
      expect(await lock().releaseStale('batch-stale')).toBe(true);
      expect(await lockBody()).toBeUndefined();
    });

    it('releases an unreadable lock only when no batch is named: it names none', async () => {
      await holdUnreadable();
      expect(await lock().releaseStale('batch-a')).toBe(false);
      expect(await lockBody()).toBe('not json');
      expect(await lock().releaseStale()).toBe(true);
      expect(await lockBody()).toBeUndefined();
    });
  });

  describe('release', () => {
    it('leaves an unreadable lock, which names no batch', async () => {
      await holdUnreadable();
      await lock().release('batch-a');
      expect(await lockBody()).toBe('not json');
    });
  });
});
