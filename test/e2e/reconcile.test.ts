import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import type { SqsBatchHandler } from '../../infra/adapters/embedded/memory-queue.js';
import { LocalPipeline } from '../../infra/local/runtime.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import { PermanentError } from '../../shared/errors.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { martSnapshot, stageRows, startTestPipeline } from '../support/pipeline.js';

/**
 * Events lost on purpose on one machine (DuckDB, the sandbox, real dbt), then `reconcile`
 * (docs/reliability.md, "The reconciler"): day A's part markers announce nothing (the ObjectCreated
 * that would complete it is lost), day B's "Stage Loaded" never reaches transform, and day C's
 * transform is killed after dbt and before its clean-up (the clean-up fails, then its process dies
 * holding the lock). After reconcile, the marts equal those of an uninterrupted run of the days.
 */
const dayA = { chartId: 'global', chartDate: '2026-10-13' };
const dayB = { chartId: 'global', chartDate: '2026-10-14' };
const dayC = { chartId: 'global', chartDate: '2026-10-15' };
const host = 'reconcile-test-host';

/** The lake, but the part markers of one day are written without a notification (a lost ObjectCreated). */
const losingMarkersOf = (lake: ObjectStore, root: string, chartDate: string): ObjectStore => {
  const silent = new FsObjectStore({ root });
  const quiet = (key: string) => key.includes(`/date=${chartDate}/`) && key.includes('/_done.');
  return new Proxy(lake, {
    get(target, prop, receiver) {
      if (prop === 'put' || prop === 'createIfAbsent') {
        return (key: string, ...rest: unknown[]) =>
          (quiet(key) ? silent : target)[prop](key, ...(rest as [string]));
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
};

/** A warehouse whose stage clean-up fails for one day: the clean-up after dbt never completes. */
const cleanupFailingFor = (warehouse: Warehouse, chartDate: string): Warehouse => ({
  ensureStage: () => warehouse.ensureStage(),
  loadStage: (load) => warehouse.loadStage(load),
  query: (sql, params) => warehouse.query(sql, params),
  cleanStage: async (slices) => {
    if (slices.some((s) => s.chartDate === chartDate)) throw new PermanentError('killed before the clean-up');
    return warehouse.cleanStage(slices);
  },
});

/** Transform's queue, but one day's "Stage Loaded" is taken off it unread (lost on its way). */
const droppingStageLoadedOf =
  (chartDate: string) =>
  (handler: SqsBatchHandler): SqsBatchHandler =>
  async (event: SQSEvent) => {
    const kept = event.Records.filter((r) => !r.body.includes(`"chartDate":"${chartDate}"`));
    if (kept.length === 0) return { batchItemFailures: [] };
    return handler({ Records: kept });
  };

const newest = async (store: ObjectStore, day: { chartId: string; chartDate: string }) =>
  (await new RunRecords(store).list(day)).at(-1);

describe('Feature: reconcile repairs what lost events left, on one machine', () => {
  let reference: Record<string, string[]>;
  let home: string;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    const clean = await startTestPipeline({ label: 'reconcile-clean' });
    try {
      for (const day of [dayA, dayB, dayC]) expect((await clean.pipeline.run(day)).status).toBe('succeeded');
      reference = await martSnapshot(clean.pipeline.warehouse);
    } finally {
      await clean.stop();
    }

    home = await mkdtemp(path.join(tmpdir(), 'chartflow-reconcile-lossy-'));
    const config = parseLocalConfig({ CHARTFLOW_HOME: home });
    let alive = true;
    const lossy = await LocalPipeline.start({
      config,
      processEnv: process.env,
      wrap: {
        store: (lake) => losingMarkersOf(lake, config.lakeRoot, dayA.chartDate),
        consumer: (queue, handler) =>
          queue === 'transformQueue' ? droppingStageLoadedOf(dayB.chartDate)(handler) : handler,
        warehouse: (w) => cleanupFailingFor(w, dayC.chartDate),
        process: {
          self: { pid: 4242, host, command: 'chartflow run' },
          isAlive: (holder) => (holder.host === host ? alive : undefined),
        },
      },
    });
    try {
      for (const day of [dayA, dayB, dayC]) await lossy.run(day);
    } finally {
      alive = false; // killed: its lock names a process that is gone
      await lossy.close();
    }
    pipeline = await LocalPipeline.start({
      config,
      processEnv: process.env,
      recover: false,
      wrap: {
        process: {
          self: { pid: 4343, host, command: 'chartflow reconcile' },
          isAlive: (holder) => (holder.host === host ? holder.pid === 4343 : undefined),
        },
      },
    });
  }, 600_000);

  afterAll(async () => {
    await pipeline?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('has lost what it was told to lose', async () => {
    expect((await newest(pipeline.store, dayA))?.status).toBe('not_loaded');
    expect((await newest(pipeline.store, dayB))?.status).toBe('loaded');
    expect((await newest(pipeline.store, dayC))?.status).toBe('transforming');
    expect(existsSync(path.join(home, 'lake', 'control', 'locks', 'transform.json'))).toBe(true);
    expect(await stageRows(pipeline.warehouse)).toBeGreaterThan(0);
  });

  it('finds each loss on a dry run, and changes nothing', async () => {
    const before = await new RunRecords(pipeline.store).latest({ limit: 50, today: '2026-12-31' });

    const report = await pipeline.reconcile({ from: dayA.chartDate, to: dayC.chartDate, dryRun: true });

    expect(report.findings.map((f) => [f.kind, f.chartDate])).toEqual([
      ['stuck_transform', dayC.chartDate],
      ['untransformed', dayB.chartDate],
      ['unloaded', dayA.chartDate],
    ]);
    expect(report.actions).toEqual([]);
    expect(await new RunRecords(pipeline.store).latest({ limit: 50, today: '2026-12-31' })).toEqual(before);
  }, 60_000);

  it('repairs each, so that the marts equal an uninterrupted run’s, and a second reconcile finds nothing', async () => {
    const report = await pipeline.reconcile({ from: dayA.chartDate, to: dayC.chartDate });

    expect(report.findings.map((f) => f.kind)).toEqual(['stuck_transform', 'untransformed', 'unloaded']);
    expect(report.actions.filter((a) => a.error !== undefined)).toEqual([]);
    expect(report.actions.map((a) => a.kind)).toEqual([
      'cleaned_stage',
      'recorded_interrupted',
      'released_lock',
      'reset_claim',
      'redelivered_object_created',
      'published_stage_loaded',
      'redelivered_object_created',
    ]);
    const ended = await Promise.all([dayA, dayB, dayC].map((day) => newest(pipeline.store, day)));
    expect(ended.map((r: RunRecord | undefined) => r?.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect((await new RunRecords(pipeline.store).list(dayC)).map((r) => r.status)).toEqual([
      'interrupted',
      'succeeded',
    ]);

    expect(await martSnapshot(pipeline.warehouse)).toEqual(reference);
    expect(await stageRows(pipeline.warehouse)).toBe(0);
    expect(existsSync(path.join(home, 'lake', 'control', 'locks', 'transform.json'))).toBe(false);

    const again = await pipeline.reconcile({ from: dayA.chartDate, to: dayC.chartDate });
    expect(again.findings).toEqual([]);
    expect(again.actions).toEqual([]);
  }, 300_000);
});
