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
