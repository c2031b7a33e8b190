import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { RetryableError, TransformBusyError } from '../../../shared/errors.js';
import { transformEnvironment } from '../../../shared/events/ecs-task-event.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { RunRecords } from '../../../shared/lake/run-records.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
import { TransformLock } from '../../../shared/lake/transform-lock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import type { Manifest, StageLoaded } from '../../../shared/records/messages.js';
import { stageRows } from '../../support/pipeline.js';
import { loadCompletedDays } from '../../../services/stage-loader/load-completed-days.js';
import { runRequestedTransform, runTransform } from '../../../services/transform/run-transform.js';
import { finishTransform } from '../../../services/stage-cleanup/finish-transform.js';

const batchId = '20261120T060000000Z-b0000001';
const dates = ['2026-11-18', '2026-11-19', '2026-11-20'];

/** Lands a complete day of the global chart for a run, as chart-fetch and track-attributes would. */
const landDay = async (
  store: FsObjectStore,
  chartDate: string,
  runId: string,
  options: { batchId?: string; duplicatePosition?: boolean } = {},
) => {
  const ids = ['t1', 't2', 't3', 't4'];
  const lineage = {
    chart_id: 'global',
    chart_date: chartDate,
    run_id: runId,
    extracted_at: `${chartDate} 06:00:00.000`,
  };
  await store.put(
    lakeKeys.chartCsv(chartDate, 'global'),
    toStageCsv(
      'chart_songs',
      ids.map((id, i) => ({
        ...lineage,
        position: options.duplicatePosition && i === 1 ? 1 : i + 1,
        track_id: id,
        track_name: `n${i}`,
        artist_names: 'a',
        source: 't',
      })),
    ),
  );
  const part = partName(runId, ids);
  await store.put(
    lakeKeys.artistsCsv(chartDate, 'global', part),
    toStageCsv(
      'song_artists',
      ids.map((id) => ({ ...lineage, track_id: id, artist_position: 1, artist_id: 'a1', artist_name: 'A' })),
    ),
  );
  await store.put(
    lakeKeys.attributesCsv(chartDate, 'global', part),
    toStageCsv(
      'song_attributes',
      ids.map((id) => ({
        ...lineage,
        track_id: id,
        enrichment_status: 'ok',
        metadata_source: 'spotify',
        popularity_source: 'spotify',
        features_source: 'spotify',
      })),
    ),
  );
  const manifest: Manifest = {
    runId,
    chartId: 'global',
    chartDate,
    source: 't',
    extractedAt: `${chartDate}T06:00:00.000Z`,
    trackIds: ids,
    skipped: [],
    ...(options.batchId ? { batchId: options.batchId } : {}),
  };
  await store.put(lakeKeys.manifest(chartDate, 'global'), JSON.stringify(manifest));
};

describe('Function: runRequestedTransform (a backfill batch)', () => {
  let home: string;
  let store: FsObjectStore;
  let warehouse: DuckDbWarehouse;
  let published: BusEvent[];
  // Stands in for ECS RunTask, which cannot run here: it records what it was asked to start.
  let started: TransformRequest[];
  let startFails: boolean;
  let startBusy: boolean;
  const runner: TransformRunner = {
    start: async (request) => {
      if (startFails) throw new Error('no capacity');
      if (startBusy) throw new RetryableError('RESOURCE:ENI: no network interface for now');
      started.push(request);
      return { taskId: `task-${started.length}` };
    },
  };
  const deps = () => ({ store, warehouse, runner, clock: systemClock });
  const records = async () =>
    (
      await Promise.all(
        dates.map((chartDate) => new RunRecords(store).list({ chartId: 'global', chartDate })),
      )
    ).flat();

  /** Loads the days into the stage through the stage loader; returns its "Stage Loaded" details. */
  const loadDays = async (options: { batchId?: string; badDay?: string } = {}): Promise<StageLoaded[]> => {
    for (const [i, chartDate] of dates.entries()) {
      await landDay(store, chartDate, `run-0000000${i + 1}`, {
        ...(options.batchId ? { batchId: options.batchId } : {}),
        duplicatePosition: chartDate === options.badDay,
      });
    }
    const bus = { publish: async (event: BusEvent) => void published.push(event) };
    await loadCompletedDays(
      dates.map((d) => lakeKeys.manifest(d, 'global')),
      { store, warehouse, bus, clock: systemClock },
    );
    return published.map((e) => e.detail as StageLoaded);
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-batch-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    published = [];
    started = [];
    startFails = false;
    startBusy = false;
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it("defers a backfill's loads: no checks, no dbt, until the batch is requested", async () => {
    const loaded = await loadDays({ batchId });
    expect(loaded.map((l) => l.batchId)).toEqual([batchId, batchId, batchId]);
    for (const l of loaded) {
      expect(await runTransform(l, deps())).toEqual({ outcome: 'deferred', batchId, loadId: l.loadId });
    }
    expect(started).toEqual([]);
    expect((await records()).map((r) => r.status)).toEqual(['loaded', 'loaded', 'loaded']);
    expect(await stageRows(warehouse)).toBe(36);
  });

  it('transforms every load in one dbt run whose request is the batch id alone; the clean-up ends them all', async () => {
    const loaded = await loadDays({ batchId });
    expect(await runRequestedTransform({ batchId }, deps())).toEqual({
      outcome: 'transforming',
      batchId,
      loads: 3,
      failedLoads: 0,
    });
    // One dbt run, told only the batch id: its ECS overrides stay tiny however many days it holds.
    expect(started).toEqual([{ batchId }]);
    expect(JSON.stringify(transformEnvironment(started[0]!)).length).toBeLessThan(200);
    const batch = await new TransformBatches(store).read(batchId);
    expect(batch?.loads.map((l) => l.loadId).sort()).toEqual(loaded.map((l) => l.loadId).sort());
    expect((await records()).map((r) => [r.status, r.batch?.batchId, r.batch?.loads])).toEqual(
      dates.map(() => ['transforming', batchId, 3]),
    );
    // Only one transform at a time: a day loaded meanwhile waits for the batch to finish.
    await expect(
      runTransform({ ...loaded[0]!, loadId: 'load-00000009', batchId: undefined }, deps()),
    ).rejects.toBeInstanceOf(TransformBusyError);

    const cleanup = await finishTransform({ batchId, taskId: 'task-1', succeeded: true }, deps());
    expect(cleanup).toEqual({ batchId, status: 'succeeded', loads: 3 });
    expect(await stageRows(warehouse)).toBe(0);
    const done = await records();
    expect(done.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done.every((r) => r.checks.length > 0 && r.checks.every((c) => c.passed))).toBe(true);
    expect(done.every((r) => r.timings.dbtMs !== undefined && r.transform?.taskId === 'task-1')).toBe(true);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();

    // A redelivered request changes nothing.
    expect(await runRequestedTransform({ batchId }, deps())).toEqual({ outcome: 'already_handled', batchId });
    expect(started).toHaveLength(1);
    expect((await records()).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();
  });

  it('fails the whole batch when one day fails its checks, names that day, and empties the stage', async () => {
    await loadDays({ batchId, badDay: '2026-11-19' });
    expect(await runRequestedTransform({ batchId }, deps())).toEqual({
      outcome: 'checks_failed',
      batchId,
      loads: 3,
      failedLoads: 1,
    });
    expect(started).toEqual([]);
    expect(await stageRows(warehouse)).toBe(0);
    const all = await records();
    expect(all.map((r) => r.status)).toEqual(['checks_failed', 'checks_failed', 'checks_failed']);
    for (const r of all) {
      expect(r.batch).toEqual({
        batchId,
        loads: 3,
        failedLoads: 1,
        failed: [{ chartId: 'global', chartDate: '2026-11-19', checks: ['chart_positions_1_to_n'] }],
      });
    }
    // Each record keeps its own checks: only the bad day's say what failed.
    expect(all.map((r) => [r.chartDate, r.checks.filter((c) => !c.passed).map((c) => c.name)])).toEqual([
      ['2026-11-18', []],
      ['2026-11-19', ['chart_positions_1_to_n']],
      ['2026-11-20', []],
    ]);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();
  });

  it("ends every load as transform_failed, with dbt's words, and empties the stage when dbt fails", async () => {
    await loadDays({ batchId });
    await runRequestedTransform({ batchId }, deps());
    await finishTransform(
      {
        batchId,
        taskId: 'task-1',
        succeeded: false,
        message: 'model.chartflow.fct_chart_entries error: boom',
      },
      deps(),
    );
    expect(await stageRows(warehouse)).toBe(0);
    const all = await records();
    expect(all.map((r) => r.status)).toEqual(['transform_failed', 'transform_failed', 'transform_failed']);
    expect(all.every((r) => r.transform?.message?.includes('fct_chart_entries'))).toBe(true);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();
  });

  it('cleans up at once when dbt cannot be started', async () => {
    await loadDays({ batchId });
    startFails = true;
    expect(await runRequestedTransform({ batchId }, deps())).toMatchObject({ outcome: 'transform_failed' });
    expect(await stageRows(warehouse)).toBe(0);
    expect((await records()).every((r) => r.status === 'transform_failed')).toBe(true);
    expect(await new TransformLock(store, systemClock).holder()).toBeUndefined();
  });

  it('keeps the stage and the warehouse when dbt cannot be placed for now, and starts it when the event comes again', async () => {
    await loadDays({ batchId });
    startBusy = true;
    await expect(runRequestedTransform({ batchId }, deps())).rejects.toBeInstanceOf(RetryableError);
    expect(await stageRows(warehouse)).toBeGreaterThan(0);
    expect((await records()).map((r) => [r.status, r.transform])).toEqual(
      dates.map(() => ['loaded', undefined]),
    );
    expect((await new TransformLock(store, systemClock).holder())?.batchId).toBe(batchId);

    startBusy = false;
    expect(await runRequestedTransform({ batchId }, deps())).toMatchObject({
      outcome: 'transforming',
      loads: dates.length,
    });
    expect(started).toEqual([{ batchId }]);
    expect((await records()).every((r) => r.status === 'transforming')).toBe(true);
  });

  it('waits its turn while another transform holds the warehouse', async () => {
    await loadDays({ batchId });
    await new TransformLock(store, systemClock).acquire('load-00000042');
    await expect(runRequestedTransform({ batchId }, deps())).rejects.toBeInstanceOf(TransformBusyError);
    expect(started).toEqual([]);
    expect(await new TransformBatches(store).read(batchId)).toBeUndefined();
  });

  it('loads on its own a day of a batch already fixed (a replay, a day that completed late)', async () => {
    const [first, ...late] = dates;
    dates.splice(1);
    try {
      await loadDays({ batchId });
      await runRequestedTransform({ batchId }, deps());
      await finishTransform({ batchId, taskId: 'task-1', succeeded: true }, deps());

      dates.splice(0, 1, late[0]!);
      published = [];
      const [straggler] = await loadDays({ batchId });
      // The loader sees the batch fixed: the load is announced as a load of its own.
      expect(straggler!.batchId).toBeUndefined();
      expect(await new TransformBatches(store).members(batchId)).toHaveLength(1);
      expect(await runTransform(straggler!, deps())).toMatchObject({
        outcome: 'transforming',
        batchId: straggler!.loadId,
        loads: 1,
      });
      expect(started).toEqual([{ batchId }, { batchId: straggler!.loadId }]);
    } finally {
      dates.splice(0, dates.length, first!, ...late);
    }
  });

  it('transforms on its own a load announced for a batch that was fixed without it', async () => {
    const loaded = await loadDays({ batchId });
    // The batch was fixed with two of the days, as if the third joined just after.
    await new TransformBatches(store).write({
      batchId,
      createdAt: new Date().toISOString(),
      loads: loaded
        .slice(0, 2)
        .map(({ runId, loadId, chartId, chartDate }) => ({ runId, loadId, chartId, chartDate })),
    });
    expect(await runTransform(loaded[0]!, deps())).toEqual({
      outcome: 'deferred',
      batchId,
      loadId: loaded[0]!.loadId,
    });
    expect(await runTransform(loaded[2]!, deps())).toMatchObject({
      outcome: 'transforming',
      batchId: loaded[2]!.loadId,
      loads: 1,
    });
    expect(started).toEqual([{ batchId: loaded[2]!.loadId }]);
  });

  it('transforms a day loaded on its own as a batch of one, named by its load', async () => {
    const loaded = await loadDays();
    expect(loaded.every((l) => l.batchId === undefined)).toBe(true);
    const result = await runTransform(loaded[0]!, deps());
    expect(result).toEqual({ outcome: 'transforming', batchId: loaded[0]!.loadId, loads: 1, failedLoads: 0 });
    expect(started).toEqual([{ batchId: loaded[0]!.loadId }]);
    await finishTransform({ batchId: loaded[0]!.loadId, taskId: 'task-1', succeeded: true }, deps());
    // Only that day's rows leave the stage; the other two days wait for their own transforms.
    expect(await stageRows(warehouse)).toBe(24);
  });
});
