import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../../shared/errors.js';
import { RunRecords, runStatuses } from '../../../shared/lake/run-records.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
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
    const finished = new BatchProtocol(store, systemClock).finish(
      { batchId: 'batch-lost-0001', taskId: 'task-1', succeeded: true },
      cleanStage,
    );
    await expect(finished).rejects.toThrow(InvalidRecordError);
    await expect(finished).rejects.toThrow(
      'dbt task task-1 stopped for batch batch-lost-0001, which the lake does not have',
    );
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

describe('Class: BatchProtocol, after an interrupted backfill', () => {
  let home: string;
  let store: FsObjectStore;
  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-protocol-interrupted-'));
    store = new FsObjectStore({ root: home });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  const backfill = '20261206T040000000Z-0000back';
  const load = (day: string, loadId: string) => ({
    runId: `20261206T0400${day.slice(-2)}000Z-00000run`,
    loadId,
    chartId: 'br',
    chartDate: `2026-08-${day.slice(-2)}`,
  });
  const rows = { rows: { chart_songs: 50 }, loadMs: 10 };

  it('finds the unfinished loads, records them interrupted, and requests their batch again without them', async () => {
    const protocol = new BatchProtocol(store, systemClock);
    const first = load('01', '20261206T040001000Z-00000001');
    const second = load('02', '20261206T040002000Z-00000002');
    // Two days of a backfill loaded, joined to their batch, and the process killed before its request.
    for (const l of [first, second]) await protocol.recordLoad({ ...l, ...rows }, backfill);
    expect(await protocol.unfinished()).toEqual(expect.arrayContaining([first, second]));
    expect(await protocol.unrequestedBatches()).toEqual([backfill]);

    await protocol.recordInterrupted([first, second], 'interrupted by SIGINT');
    expect(await protocol.unfinished()).toEqual([]);
    expect(await protocol.interruptedDays()).toEqual(
      expect.arrayContaining([
        { chartId: 'br', chartDate: '2026-08-01' },
        { chartId: 'br', chartDate: '2026-08-02' },
      ]),
    );
    const records = await new RunRecords(store).list({ chartId: 'br', chartDate: '2026-08-01' });
    expect(records).toMatchObject([{ status: 'interrupted', reason: 'interrupted by SIGINT' }]);
    // Nothing waits in the batch any more: there is nothing to request.
    expect(await protocol.unrequestedBatches()).toEqual([]);

    // The first day loaded again (recovery's replay) joins the batch: the batch is requested with it
    // alone, the interrupted loads gone from it; the day is no longer one to load again.
    const again = load('01', '20261206T040100000Z-00000003');
    await protocol.recordLoad({ ...again, ...rows }, backfill);
    expect(await protocol.unrequestedBatches()).toEqual([backfill]);
    expect(await new TransformBatches(store).members(backfill)).toEqual([again]);
    expect(await protocol.interruptedDays()).toEqual([{ chartId: 'br', chartDate: '2026-08-02' }]);
  });
});
