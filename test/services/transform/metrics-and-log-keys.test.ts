import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { RecordingMetrics } from '../../../infra/adapters/embedded/recording-metrics.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { loadCompletedDays } from '../../../services/stage-loader/load-completed-days.js';
import { makeHandler as makeCleanupHandler } from '../../../services/stage-cleanup/handler.js';
import { makeHandler as makeTransformHandler } from '../../../services/transform/handler.js';
import { toEnvelope, type EventBridgeEnvelope } from '../../../shared/events/bus-event.js';
import {
  dbtContainerName,
  ecsTaskStateChange,
  transformEnvironment,
} from '../../../shared/events/ecs-task-event.js';
import { logger } from '../../../shared/logger.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import { lakeKeys, partName } from '../../../shared/lake/keys.js';
import { toStageCsv } from '../../../shared/records/csv.js';
import {
  transformRequestedDetailType,
  type Manifest,
  type StageLoaded,
} from '../../../shared/records/messages.js';
import { captureLogLines, linesOf } from '../../support/log-lines.js';

const day = { chartId: 'global', chartDate: '2026-11-20' };
const run1 = '20261120T060000000Z-aaaa0001';
const ids = ['t1', 't2', 't3', 't4'];
const lineage = {
  chart_id: day.chartId,
  chart_date: day.chartDate,
  run_id: run1,
  extracted_at: '2026-11-20 06:00:00.000',
};

/** Lands a complete day that passes the checks, as chart-fetch and track-attributes would. */
const landDay = async (store: FsObjectStore, batchId?: string) => {
  const chartRows = ids.map((id, i) => ({
    ...lineage,
    position: i + 1,
    track_id: id,
    track_name: `n${i}`,
    artist_names: 'a',
    source: 't',
  }));
  await store.put(lakeKeys.chartCsv(day.chartDate, day.chartId), toStageCsv('chart_songs', chartRows));
  const part = partName(run1, ids);
  const artists = ids.map((id) => ({
    ...lineage,
    track_id: id,
    artist_position: 1,
    artist_id: 'a1',
    artist_name: 'A',
  }));
  await store.put(lakeKeys.artistsCsv(day.chartDate, day.chartId, part), toStageCsv('song_artists', artists));
  const sources = { metadata_source: 'spotify', popularity_source: 'spotify', features_source: 'spotify' };
  const attributes = ids.map((id) => ({ ...lineage, track_id: id, enrichment_status: 'ok', ...sources }));
  await store.put(
    lakeKeys.attributesCsv(day.chartDate, day.chartId, part),
    toStageCsv('song_attributes', attributes),
  );
  const manifest: Manifest = {
    runId: run1,
    ...day,
    source: 't',
    extractedAt: '2026-11-20T06:00:00.000Z',
    trackIds: ids,
    skipped: [],
    ...(batchId ? { batchId } : {}),
  };
  await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest));
};

/** The folder store, writing a log line on every read: lines written inside the handlers' work. */
class ReadLoggingStore extends FsObjectStore {
  override async get(key: string) {
    logger.info('store read', { key });
    return super.get(key);
  }
}

const meta = {
  id: 'e1',
  time: new Date('2026-11-20T06:30:00.000Z'),
  region: 'eu-west-1',
  account: '123456789012',
};

/** The dbt task's stop, as EventBridge delivers it, with the task's own start and stop times. */
const taskStopped = (request: TransformRequest, exitCode: number) =>
  toEnvelope(
    {
      source: 'aws.ecs',
      detailType: ecsTaskStateChange,
      detail: {
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/chartflow/0123456789abcdef',
        lastStatus: 'STOPPED',
        startedAt: '2026-11-20T06:31:00.000Z',
        stoppedAt: '2026-11-20T06:33:30.250Z',
        containers: [{ name: dbtContainerName, exitCode }],
        overrides: {
          containerOverrides: [{ name: dbtContainerName, environment: transformEnvironment(request) }],
        },
      },
    },
    meta,
  );

describe('transform and stage-cleanup: metrics and log keys', () => {
  let home: string;
  let store: ReadLoggingStore;
  let warehouse: DuckDbWarehouse;
  let metrics: RecordingMetrics;
  // Stands in for ECS RunTask, which cannot run here: it logs and records what it was asked to start.
  let started: TransformRequest[];
  let startFails: boolean;
  const runner: TransformRunner = {
    start: async (request) => {
      logger.info('dbt asked to start');
      if (startFails) throw new Error('no task definition');
      started.push(request);
      return { taskId: `task-${started.length}` };
    },
  };
  const deps = () => ({ store, warehouse, runner, clock: systemClock, metrics });

  /** Lands and loads the day; answers its "Stage Loaded" as the transform queue delivers it. */
  const loadDay = async (batchId?: string): Promise<EventBridgeEnvelope<StageLoaded>> => {
    await landDay(store, batchId);
    const published: BusEvent[] = [];
    const bus = { publish: async (event: BusEvent) => void published.push(event) };
    const manifestKey = lakeKeys.manifest(day.chartDate, day.chartId);
    await loadCompletedDays([manifestKey], { store, warehouse, bus, clock: systemClock });
    return toEnvelope(published[0] as BusEvent<StageLoaded>, meta);
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-transform-metrics-'));
    store = new ReadLoggingStore({ root: path.join(home, 'lake') });
    warehouse = new DuckDbWarehouse({
      path: path.join(home, 'w.duckdb'),
      lakeRoot: path.join(home, 'lake'),
      mutex: new Mutex(),
    });
    metrics = new RecordingMetrics();
    started = [];
    startFails = false;
  });
  afterEach(async () => {
    await warehouse.close();
    await rm(home, { recursive: true, force: true });
  });

  it("emits the checks failed, dbt's duration and the run's outcome, each once, through the handlers", async () => {
    const loaded = await loadDay();
    const transform = makeTransformHandler(deps());
    expect(await transform(loaded, localContext('transform'))).toMatchObject({ outcome: 'transforming' });
    const cleanup = makeCleanupHandler(deps());
    // The stop event delivered twice: the second changes nothing and emits nothing.
    for (let i = 0; i < 2; i += 1) await cleanup(taskStopped(started[0]!, 0), localContext('stage-cleanup'));
    expect(metrics.figures).toEqual([
      { name: 'ChecksFailed', value: 0, dimensions: {} },
      { name: 'DbtDuration', value: 150.25, dimensions: {} },
      { name: 'Runs', value: 1, dimensions: { outcome: 'succeeded', chart: day.chartId } },
    ]);
  });

  it('emits the outcome of a run whose dbt could not be started, from transform', async () => {
    startFails = true;
    const transform = makeTransformHandler(deps());
    expect(await transform(await loadDay(), localContext('transform'))).toMatchObject({
      outcome: 'transform_failed',
    });
    expect(metrics.named('Runs')).toEqual([
      { name: 'Runs', value: 1, dimensions: { outcome: 'transform_failed', chart: day.chartId } },
    ]);
  });

  it("puts the batch's id and its run ids on the lines written inside each handler, and none after", async () => {
    const loaded = await loadDay();
    const { loadId } = loaded.detail;
    const lines = await captureLogLines(async () => {
      await makeTransformHandler(deps())(loaded, localContext('transform'));
      logger.info('after the transform');
      await makeCleanupHandler(deps())(taskStopped(started[0]!, 1), localContext('stage-cleanup'));
      logger.info('after the clean-up');
    });
    // A day loaded on its own is a batch of one, named by its load.
    const keys = { batchId: loadId, runIds: [run1] };
    expect(linesOf(lines, 'dbt asked to start')).toEqual([expect.objectContaining(keys)]);
    // The one line of outcome the alarm on failed transforms reads (infra/alarms.yml).
    expect(linesOf(lines, 'transform')).toEqual([
      expect.objectContaining({ ...keys, outcome: 'transforming' }),
    ]);
    expect(linesOf(lines, 'transform finished')).toEqual([
      expect.objectContaining({ ...keys, status: 'transform_failed' }),
    ]);
    // From the first read of the lake, before the batch is known, each handler's lines carry its id.
    const reads = linesOf(lines, 'store read');
    expect(reads.length).toBeGreaterThan(2);
    expect(reads.filter((line) => line.batchId !== loadId)).toEqual([]);
    // transform's event names its run: its lines carry the run id from the first read.
    const transformReads = reads.filter((line) => line.function_name === 'transform');
    expect(transformReads.length).toBeGreaterThan(0);
    expect(transformReads.filter((line) => JSON.stringify(line.runIds) !== JSON.stringify([run1]))).toEqual(
      [],
    );
    for (const message of ['after the transform', 'after the clean-up']) {
      const [after] = linesOf(lines, message);
      expect(after).toBeDefined();
      expect(after).not.toHaveProperty('batchId');
      expect(after).not.toHaveProperty('runIds');
    }
  });

  it("puts a backfill batch's id on the lines of its transform, and its run ids once the lake fixes them", async () => {
    const batchId = '20261120T050000000Z-b0000001';
    await loadDay(batchId);
    const requested = toEnvelope(
      { source: 'chartflow', detailType: transformRequestedDetailType, detail: { batchId } },
      meta,
    );
    const lines = await captureLogLines(async () => {
      await makeTransformHandler(deps())(requested, localContext('transform'));
    });
    const reads = linesOf(lines, 'store read');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((line) => line.batchId !== batchId)).toEqual([]);
    expect(linesOf(lines, 'dbt asked to start')).toEqual([
      expect.objectContaining({ batchId, runIds: [run1] }),
    ]);
  });
});
