import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { TransformBusyError } from '../../../shared/errors.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import { RunRecords } from '../../../shared/lake/run-records.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import { runTransform } from '../../../services/transform/run-transform.js';

const loaded = {
  runId: 'run-000002',
  loadId: 'load-000002',
  chartId: 'global',
  chartDate: '2026-11-20',
  rows: {},
};

describe('Function: runTransform', () => {
  let home: string;
  let store: FsObjectStore;
  let warehouse: DuckDbWarehouse;
  // Stands in for ECS RunTask, which cannot run here: it records what it was asked to start.
  let started: TransformRequest[];
  const runner: TransformRunner = {
    start: async (request) => {
      started.push(request);
      return { taskId: `task-${started.length}` };
    },
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-transform-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    await warehouse.ensureStage();
    started = [];
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('waits its turn while another load holds the warehouse: it neither checks nor starts dbt', async () => {
    await new TransformLock(store, systemClock).acquire('load-000001');
    await expect(
      runTransform(loaded, { store, warehouse, runner, clock: systemClock }),
    ).rejects.toBeInstanceOf(TransformBusyError);
    expect(started).toEqual([]);
    expect(await store.list('control/runs/')).toEqual([]);
  });

  it('goes ahead once the holder releases the lock', async () => {
    const lock = new TransformLock(store, systemClock);
    await lock.acquire('load-000001');
    await lock.release('load-000001');
    // An empty stage fails the checks: the transform records that and releases the lock.
    const result = await runTransform(loaded, { store, warehouse, runner, clock: systemClock });
    expect(result).toMatchObject({ outcome: 'checks_failed', batchId: loaded.loadId, loads: 1 });
    const record = await new RunRecords(store).read(loaded, loaded.runId, loaded.loadId);
    expect(record?.status).toBe('checks_failed');
    expect(record?.checks.find((c) => !c.passed)?.name).toBe('chart_not_empty');
    expect(await lock.holder()).toBeUndefined();
  });

  it('takes over a lock whose holder died long ago', async () => {
    const longAgo = { now: () => new Date(Date.now() - 4 * 60 * 60 * 1000), sleep: systemClock.sleep };
    await new TransformLock(store, longAgo).acquire('load-dead');
    expect(await new TransformLock(store, systemClock).acquire('load-000002')).toBe(true);
  });
});
