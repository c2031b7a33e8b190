import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import type { CheckResult } from '../../../shared/lake/run-records.js';
import type { BatchLoad } from '../../../shared/lake/transform-batches.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { batchObserver } from '../../../shared/transform/batch-observer.js';
import { BatchProtocol, type BatchWork } from '../../../shared/transform/batch-protocol.js';

const batchId = '20261120T060000000Z-b0000001';
/** Three loads of a backfill: two days of the global chart, one of the us chart. */
const loads: BatchLoad[] = [
  { runId: 'run-00000001', loadId: 'load-0000001', chartId: 'global', chartDate: '2026-11-18' },
  { runId: 'run-00000002', loadId: 'load-0000002', chartId: 'global', chartDate: '2026-11-19' },
  { runId: 'run-00000003', loadId: 'load-0000003', chartId: 'us', chartDate: '2026-11-19' },
];
const passed = (name: string): CheckResult => ({ name, passed: true, detail: '' });
const failed = (name: string): CheckResult => ({ name, passed: false, detail: 'broken' });

describe('Function: batchObserver (what the batch protocol tells the metrics)', () => {
  let home: string;
  let store: FsObjectStore;
  let metrics: RecordingMetrics;
  let checks: CheckResult[][];
  let buildFails: boolean;
  const work = (): BatchWork => ({
    check: async () => checks,
    cleanStage: async () => undefined,
    build: async () => {
      if (buildFails) throw new Error('no task definition');
    },
    observer: batchObserver(metrics),
  });
  const protocol = () => new BatchProtocol(store, systemClock);

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-observer-'));
    store = new FsObjectStore({ root: home });
    metrics = new RecordingMetrics();
    checks = loads.map(() => [passed('a'), passed('b')]);
    buildFails = false;
    for (const load of loads) {
      await protocol().recordLoad({ ...load, rows: { chart_songs: 4 }, loadMs: 5 }, batchId);
    }
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('counts the failed checks over every load, and gives the runs their outcome per chart', async () => {
    checks = [
      [passed('a'), failed('b')],
      [passed('a'), passed('b')],
      [failed('a'), failed('b')],
    ];
    expect(await protocol().startRequested(batchId, work())).toMatchObject({ outcome: 'checks_failed' });
    expect(metrics.figures).toEqual([
      { name: 'ChecksFailed', value: 3, dimensions: {} },
      { name: 'Runs', value: 2, dimensions: { outcome: 'checks_failed', chart: 'global' } },
      { name: 'Runs', value: 1, dimensions: { outcome: 'checks_failed', chart: 'us' } },
    ]);
  });

  it('says 0 checks failed when they pass, and nothing more until dbt stops', async () => {
    expect(await protocol().startRequested(batchId, work())).toMatchObject({ outcome: 'transforming' });
    expect(metrics.figures).toEqual([{ name: 'ChecksFailed', value: 0, dimensions: {} }]);
  });

  it('gives the runs transform_failed when dbt cannot be started', async () => {
    buildFails = true;
    await protocol().startRequested(batchId, work());
    expect(metrics.named('Runs')).toEqual([
      { name: 'Runs', value: 2, dimensions: { outcome: 'transform_failed', chart: 'global' } },
      { name: 'Runs', value: 1, dimensions: { outcome: 'transform_failed', chart: 'us' } },
    ]);
  });

  it("times dbt by its task's start and stop, and announces the end once however often the stop comes", async () => {
    await protocol().startRequested(batchId, work());
    const stopped = {
      batchId,
      taskId: 'task-1',
      succeeded: true,
      startedAt: '2026-11-20T06:01:00.000Z',
      stoppedAt: '2026-11-20T06:04:07.500Z',
    };
    const cleanStage = async () => undefined;
    for (let i = 0; i < 3; i += 1) {
      await protocol().finish(stopped, cleanStage, batchObserver(metrics));
    }
    expect(metrics.figures.slice(1)).toEqual([
      { name: 'DbtDuration', value: 187.5, dimensions: {} },
      { name: 'Runs', value: 2, dimensions: { outcome: 'succeeded', chart: 'global' } },
      { name: 'Runs', value: 1, dimensions: { outcome: 'succeeded', chart: 'us' } },
    ]);
  });

  it("times dbt by the run records when the stop event has no times; a failed build's runs are transform_failed", async () => {
    await protocol().startRequested(batchId, work());
    await protocol().finish(
      { batchId, taskId: 'task-1', succeeded: false },
      async () => undefined,
      batchObserver(metrics),
    );
    const [duration] = metrics.named('DbtDuration');
    expect(duration!.value).toBeGreaterThanOrEqual(0);
    expect(duration!.value).toBeLessThan(60);
    expect(metrics.named('Runs').map((f) => f.dimensions)).toEqual([
      { outcome: 'transform_failed', chart: 'global' },
      { outcome: 'transform_failed', chart: 'us' },
    ]);
  });
});
