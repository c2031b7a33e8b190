import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { runStatuses } from '../../../shared/lake/run-records.js';
import { lockTtlMs, TransformLock } from '../../../shared/lake/transform-lock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { BatchProtocol, batchPhases, phaseOfStatus } from '../../../shared/transform/batch-protocol.js';

describe('Class: BatchProtocol', () => {
  let home: string;
  let store: FsObjectStore;
  let cleaned: number;
  const cleanStage = async () => void (cleaned += 1);

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-protocol-'));
    store = new FsObjectStore({ root: home });
    cleaned = 0;
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('releases the lock of a batch the lake does not have, and says so', async () => {
    await new TransformLock(store, systemClock).acquire('batch-lost-0001');
    await expect(
      new BatchProtocol(store, systemClock).finish(
        { batchId: 'batch-lost-0001', taskId: 'task-1', succeeded: true },
        cleanStage,
      ),
    ).rejects.toThrow(InvalidRecordError);
    expect(cleaned).toBe(0);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();
  });

  it('leaves alone the lock of a batch that took over from it', async () => {
    const longAgo = { now: () => new Date(Date.now() - lockTtlMs - 1_000), sleep: systemClock.sleep };
    await new TransformLock(store, longAgo).acquire('batch-slow-0001');
    await new TransformLock(store, systemClock).acquire('batch-next-0001');
    await expect(
      new BatchProtocol(store, systemClock).finish(
        { batchId: 'batch-slow-0001', taskId: 'task-1', succeeded: false },
        cleanStage,
      ),
    ).rejects.toThrow(InvalidRecordError);
    expect((await new TransformLock(store, systemClock).holder())?.batchId).toBe('batch-next-0001');
  });

  it('maps every run record status onto a phase', () => {
    expect(runStatuses.map(phaseOfStatus)).toEqual([
      'requested',
      'failed',
      'building',
      'succeeded',
      'failed',
      'failed',
      'failed',
    ]);
    expect(runStatuses.map(phaseOfStatus).every((p) => batchPhases.includes(p))).toBe(true);
  });
});
