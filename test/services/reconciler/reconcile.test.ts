import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { existsSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { DuckDbWarehouse } from '../../../infra/adapters/embedded/duckdb-warehouse.js';
import { localContext } from '../../../infra/local/handler-context.js';
import { localLoaderTrigger } from '../../../infra/local/loader-trigger.js';
import { makeHandler as makeStageLoader } from '../../../services/stage-loader/handler.js';
import { makeHandler as makeReconciler } from '../../../services/reconciler/handler.js';
import type { LoadDecision } from '../../../services/stage-loader/load-completed-days.js';
import {
  defaultReconcilerSettings,
  reconcile,
  type ReconcilerDeps,
  type ReconcilerSettings,
} from '../../../services/reconciler/reconcile.js';
import { lakeKeys, rawPrefix } from '../../../shared/lake/keys.js';
import { RunRecords } from '../../../shared/lake/run-records.js';
import { TransformBatches } from '../../../shared/lake/transform-batches.js';
import { lockTtlMs, TransformLock } from '../../../shared/lake/transform-lock.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import { freshnessHours, noMetrics, type Metrics } from '../../../shared/ports/metrics.js';
import { logger } from '../../../shared/logger.js';
import { BatchProtocol, type BatchWork } from '../../../shared/transform/batch-protocol.js';
import {
  chartCsvKey,
  chartCsvOf,
  day,
  ids,
  landDay,
  manifestKey,
  run1,
  run2,
} from '../../support/landed-days.js';
import { stageRows } from '../../support/pipeline.js';

const minutes = (n: number) => n * 60_000;

/** Every day's files in the lake: what was received and the manifests under `raw/`, the CSVs under `tables/`. */
const lakeDataOf = async (store: FsObjectStore) => [
  ...(await store.list('raw/')),
  ...(await store.list('tables/')),
];
const settings: ReconcilerSettings = {
  ...defaultReconcilerSettings,
  tracksGoneAfterMs: minutes(90),
  missingTracks: 'dead_lettered',
  quietLockMs: 70_000,
};

/** A clock the test moves: the reconciler's "now" against the lake's real write times. */
const movableClock = () => {
  let offset = 0;
  const clock: Clock & { advance: (ms: number) => void; onSleep?: (ms: number) => Promise<void> } = {
    now: () => new Date(Date.now() + offset),
    sleep: async (ms) => {
      await clock.onSleep?.(ms);
      offset += ms;
    },
    advance: (ms) => void (offset += ms),
  };
  return clock;
};

/**
 * The reconciler on the folder store and DuckDB, with the real stage loader behind its trigger
 * (the event the folder store would announce, handed to the loader's handler), and a bus that
 * keeps what it is told: nothing here transforms.
 */
const setUp = async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-reconcile-'));
  const store = new FsObjectStore({ root: path.join(home, 'lake') });
  const warehouse = new DuckDbWarehouse({
    path: path.join(home, 'w.duckdb'),
    lakeRoot: path.join(home, 'lake'),
    mutex: new Mutex(),
  });
  const clock = movableClock();
  const published: BusEvent[] = [];
  const bus = { publish: async (event: BusEvent) => void published.push(event) };
  const loader = makeStageLoader({ store, warehouse, bus, clock });
  const decisions: LoadDecision[] = [];
  const loads: Promise<void>[] = [];
  const trigger = localLoaderTrigger(
    (event) =>
      void loads.push(loader(event, localContext('stage-loader')).then((d) => void decisions.push(...d))),
    store,
  );
  const outcomes: [string, string, number][] = [];
  const metrics: Metrics = {
    ...noMetrics,
    runOutcome: (outcome, chartId, runs) => void outcomes.push([outcome, chartId, runs]),
  };
  const deps: ReconcilerDeps = {
    store,
    warehouse,
    bus,
    clock,
    loader: trigger,
    charts: ['global'],
    settings,
    metrics,
  };
  const run = async (request: Parameters<typeof reconcile>[0] = {}) => {
    const report = await reconcile({ from: day.chartDate, to: day.chartDate, ...request }, deps);
    await Promise.all(loads);
    return report;
  };
  return {
    home,
    store,
    warehouse,
    clock,
    published,
    decisions,
    outcomes,
    deps,
    run,
    close: async () => {
      await warehouse.close();
      await rm(home, { recursive: true, force: true });
    },
  };
};

type Setup = Awaited<ReturnType<typeof setUp>>;

/** Passing checks and a dbt that starts and never stops: what a killed transform leaves. */
const work = (s: Setup): BatchWork => ({
  check: async (loads) => loads.map(() => [{ name: 'ok', passed: true }]),
  cleanStage: (loads) => s.warehouse.cleanStage(loads),
  build: async () => undefined,
});

/** Lands the day and has the reconciler load it (its ObjectCreated "lost"): one load, `loaded`. */
const landAndLoad = async (s: Setup) => {
  await landDay(s.store, run1, 'verified');
  s.clock.advance(minutes(20));
  await s.run();
  const [record] = await new RunRecords(s.store).list(day);
  return record!;
};

describe('reconcile: the folder store and DuckDB', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => s.close());

  it('hands a complete day whose ObjectCreated was lost to the stage loader, which loads it once', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unloaded', ...day, runId: run1 })]);
    expect(report.actions).toEqual([
      expect.objectContaining({
        kind: 'redelivered_object_created',
        detail: expect.stringContaining(manifestKey),
      }),
    ]);
    expect(s.decisions.map((d) => d.outcome)).toEqual(['loaded']);
    expect(await stageRows(s.warehouse)).toBeGreaterThan(0);
    expect(s.published.map((e) => e.detailType)).toEqual(['Stage Loaded']);

    // The day is claimed now: a second reconcile hands the loader nothing more.
    const again = await s.run();
    expect(again.findings.map((f) => f.kind)).not.toContain('unloaded');
    expect(s.decisions).toHaveLength(1);
  });

  it('leaves a day alone while its objects may still be on their way (the grace period)', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(5));

    const report = await s.run();

    expect(report.findings).toEqual([]);
    expect(report.leftAlone).toEqual([
      expect.objectContaining({
        ...day,
        runId: run1,
        why: expect.stringContaining('may still be on their way'),
      }),
    ]);
    expect(s.decisions).toEqual([]);
  });

  it('finds without repairing on a dry run', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(20));

    const report = await s.run({ dryRun: true });

    expect(report.findings.map((f) => f.kind)).toEqual(['unloaded']);
    expect(report.actions).toEqual([]);
    expect(s.decisions).toEqual([]);
    expect(await s.store.list('control/')).toEqual([]);
  });

  it('records a day whose missing tracks can no longer arrive not_loaded, dead-lettered, once', async () => {
    await landDay(s.store, run1, 'verified');
    // The second part never came: its marker is not in the lake (its files may be, unmarked).
    const markers = (await s.store.list(rawPrefix('song_attributes', day.chartDate, day.chartId))).filter(
      (o) => o.key.includes('/_done.'),
    );
    expect(markers).toHaveLength(2);
    await s.store.delete(markers[1]!.key);

    s.clock.advance(minutes(60));
    const early = await s.run();
    expect(early.findings).toEqual([]);
    expect(early.leftAlone).toEqual([
      expect.objectContaining({
        why: expect.stringMatching(/2 of its 4 tracks have no attributes; .* may still arrive until/),
      }),
    ]);

    s.clock.advance(minutes(40));
    const report = await s.run();
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'never_completed', runId: run1 })]);
    const [record] = await new RunRecords(s.store).list(day);
    expect(record).toMatchObject({
      runId: run1,
      loadId: run1,
      status: 'not_loaded',
      deadLettered: 2,
      reason: expect.stringContaining('dead-lettered'),
    });

    expect(s.outcomes).toEqual([['not_loaded', 'global', 1]]);

    const again = await s.run();
    expect(again.findings).toEqual([]);
    expect(again.actions).toEqual([]);
    expect(s.outcomes).toHaveLength(1);
  });

  it('puts "Stage Loaded" again for a load no transform took', async () => {
    const record = await landAndLoad(s);
    s.published.length = 0;
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'untransformed', loadId: record.loadId }),
    ]);
    expect(s.published).toEqual([
      expect.objectContaining({
        detailType: 'Stage Loaded',
        detail: expect.objectContaining({ runId: run1, loadId: record.loadId, rows: record.rows }),
      }),
    ]);
  });

  it('leaves a transform whose lock is live alone, and ends it, reloading the day, once the lock is past its TTL', async () => {
    const record = await landAndLoad(s);
    const protocol = new BatchProtocol(s.store, s.clock);
    await protocol.startLoad(record, undefined, work(s));
    expect((await new RunRecords(s.store).list(day)).at(-1)?.status).toBe('transforming');
    s.clock.advance(minutes(60));

    const live = await s.run();
    expect(live.findings).toEqual([]);
    expect(live.leftAlone).toEqual([
      expect.objectContaining({
        loadId: record.loadId,
        why: expect.stringContaining('holds the transform lock within its TTL'),
      }),
    ]);
    expect(await new TransformLock(s.store, s.clock).holder()).toMatchObject({ batchId: record.loadId });

    s.clock.advance(lockTtlMs);
    const report = await s.run();

    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'stuck_transform', batchId: record.loadId }),
    ]);
    expect(report.actions.map((a) => a.kind)).toEqual([
      'cleaned_stage',
      'recorded_interrupted',
      'released_lock',
      'reset_claim',
      'redelivered_object_created',
    ]);
    const load = { ...day, runId: run1, loadId: record.loadId };
    expect(report.actions.filter((a) => a.kind !== 'released_lock')).toEqual([
      { kind: 'cleaned_stage', ...load, detail: 'emptied the stage of its rows' },
      { kind: 'recorded_interrupted', ...load, detail: expect.stringMatching(/^recorded it interrupted: ./) },
      {
        kind: 'reset_claim',
        ...day,
        runId: run1,
        detail: `deleted ${lakeKeys.claim(day.chartDate, day.chartId, run1)}, so that the stage loader may claim the run again`,
      },
      expect.objectContaining({ kind: 'redelivered_object_created', ...day, runId: run1 }),
    ]);
    expect(await new TransformLock(s.store, s.clock).holder()).toBeUndefined();
    const records = await new RunRecords(s.store).list(day);
    expect(records.map((r) => r.status)).toEqual(['interrupted', 'loaded']);
    expect(s.decisions.map((d) => d.outcome)).toEqual(['loaded', 'loaded']);
  });

  it('empties the stage of a run that ended, and gives back a lock past its TTL whose batch ended', async () => {
    const record = await landAndLoad(s);
    const protocol = new BatchProtocol(s.store, s.clock);
    await protocol.startLoad(record, undefined, work(s));
    // dbt stopped and its clean-up ran, but the stage's delete and the lock's release were lost.
    await protocol.finish({ batchId: record.loadId, taskId: 't', succeeded: true }, async () => undefined);
    await s.store.put(
      lakeKeys.transformLock(),
      JSON.stringify({ batchId: record.loadId, acquiredAt: s.clock.now().toISOString() }),
    );
    expect(await stageRows(s.warehouse)).toBeGreaterThan(0);
    s.clock.advance(lockTtlMs + minutes(1));

    const report = await s.run();

    expect(report.findings.map((f) => f.kind)).toEqual(['stale_lock', 'stage_not_cleaned']);
    expect(await stageRows(s.warehouse)).toBe(0);
    expect(await new TransformLock(s.store, s.clock).holder()).toBeUndefined();
    expect(report.freshness).toEqual([
      { chartId: 'global', lastSucceededAt: expect.any(String), stale: false },
    ]);

    const again = await s.run();
    expect(again.findings).toEqual([]);
    expect(again.actions).toEqual([]);

    s.clock.advance(minutes(26 * 60));
    expect((await s.run()).freshness).toEqual([expect.objectContaining({ chartId: 'global', stale: true })]);
  });

  it('never takes or releases a lock within its TTL, whatever its batch', async () => {
    await s.store.put(
      lakeKeys.transformLock(),
      JSON.stringify({ batchId: '20261120T060000000Z-bbbb0001', acquiredAt: s.clock.now().toISOString() }),
    );
    s.clock.advance(lockTtlMs - minutes(1));

    const report = await s.run();

    expect(report.findings).toEqual([]);
    expect(await new TransformLock(s.store, s.clock).holder()).toMatchObject({
      batchId: '20261120T060000000Z-bbbb0001',
    });
  });

  it('loads again a day whose newest load was interrupted', async () => {
    const record = await landAndLoad(s);
    await s.warehouse.cleanStage([record]);
    await new BatchProtocol(s.store, s.clock).recordInterrupted([record], 'interrupted by SIGINT');
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'interrupted', loadId: record.loadId }),
    ]);
    expect(report.actions.map((a) => a.kind)).toEqual(['reset_claim', 'redelivered_object_created']);
    expect((await new RunRecords(s.store).list(day)).map((r) => r.status)).toEqual(['interrupted', 'loaded']);
  });

  it('ends a load that a newer load of its day replaced, and transforms only the newer one', async () => {
    const first = await landAndLoad(s);
    await landDay(s.store, run2, 'verified');
    s.clock.advance(minutes(20));
    await s.run(); // loads run2: its ObjectCreated was "lost" too
    s.published.length = 0;
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings.map((f) => [f.kind, f.runId])).toEqual([
      ['superseded_load', run1],
      ['untransformed', run2],
    ]);
    expect((await new RunRecords(s.store).list(day)).map((r) => [r.runId, r.status])).toEqual([
      [run1, 'interrupted'],
      [run2, 'loaded'],
    ]);
    const runs = await s.warehouse.query<{ run_id: string }>('select distinct run_id from stage.chart_songs');
    expect(runs).toEqual([{ run_id: run2 }]);
    expect(s.published.map((e) => (e.detail as { runId: string }).runId)).toEqual([run2]);
    expect(first.runId).toBe(run1);
  });

  it('requests a backfill batch whose loads are in and whose "Transform Requested" never came', async () => {
    const batchId = '20261120T050000000Z-ba7c0001';
    await landDay(s.store, run1, 'verified');
    const manifest = JSON.parse((await s.store.get(manifestKey))!.toString('utf8')) as object;
    await s.store.put(manifestKey, JSON.stringify({ ...manifest, batchId }));
    s.clock.advance(minutes(20));
    await s.run(); // loaded into the batch, which waits for its request
    s.published.length = 0;
    s.clock.advance(-minutes(20)); // back to when the load joined the batch (the lake's own time)

    const waiting = await s.run();
    expect(waiting.findings).toEqual([]);
    expect(waiting.leftAlone).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ batchId, why: expect.stringContaining('may still be loading days') }),
      ]),
    );

    s.clock.advance(minutes(20));
    const report = await s.run();

    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unrequested_batch', batchId })]);
    expect(s.published).toEqual([
      expect.objectContaining({ detailType: 'Transform Requested', detail: { batchId } }),
    ]);
  });

  it('as a Lambda handler: counts the stale charts every round, 0 included, and refuses an event it does not know', async () => {
    const stale: (readonly string[])[] = [];
    const handler = makeReconciler({
      ...s.deps,
      metrics: { ...noMetrics, staleCharts: (c) => void stale.push(c) },
    });
    const scheduled = {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: s.clock.now().toISOString(),
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/chartflow-dev-reconciler'],
      detail: {},
    };

    const report = await handler(scheduled, localContext('reconciler'));
    expect(report).toMatchObject({ dryRun: false, to: s.clock.now().toISOString().slice(0, 10) });
    expect(stale).toEqual([['global']]);

    await landAndLoad(s);
    const run = (await new RunRecords(s.store).list(day))[0]!;
    await new BatchProtocol(s.store, s.clock).startLoad(run, undefined, work(s));
    await new BatchProtocol(s.store, s.clock).finish(
      { batchId: run.loadId, taskId: 't', succeeded: true },
      (l) => s.warehouse.cleanStage(l),
    );
    await handler({ from: day.chartDate, to: day.chartDate, dryRun: true }, localContext('reconciler'));
    expect(stale).toEqual([['global'], []]);

    await expect(
      handler({ from: day.chartDate, chart: 'global' }, localContext('reconciler')),
    ).rejects.toThrow(/reconciler event: .*chart/);
  });

  it('puts no event again while the warehouse is busy, nor when the load’s own event started it during the quiet wait', async () => {
    const record = await landAndLoad(s);
    s.published.length = 0;
    s.clock.advance(minutes(20));
    const other = '20261120T050000000Z-0the0001';
    await s.store.put(
      lakeKeys.transformLock(),
      JSON.stringify({ batchId: other, acquiredAt: s.clock.now().toISOString() }),
    );

    const busy = await s.run();
    expect(busy.findings).toEqual([]);
    expect(busy.leftAlone).toEqual([
      expect.objectContaining({
        loadId: record.loadId,
        why: expect.stringContaining(`batch ${other} holds the transform lock`),
      }),
    ]);

    await s.store.delete(lakeKeys.transformLock());
    const waits: number[] = [];
    s.clock.onSleep = async (ms) => {
      waits.push(ms);
      // The first copy of "Stage Loaded", handed back by the busy warehouse, comes back meanwhile.
      await new BatchProtocol(s.store, s.clock).startLoad(record, undefined, work(s));
    };
    const raced = await s.run();

    expect(waits).toEqual([70_000]);
    expect(raced.findings.map((f) => f.kind)).toEqual(['untransformed']);
    expect(raced.actions).toEqual([
      expect.objectContaining({
        kind: 'published_stage_loaded',
        detail: expect.stringContaining('put nothing'),
      }),
    ]);
    expect(s.published).toEqual([]);
  });

  it('ends a load that a replay of its own run replaced, and leaves the stage rows, which are the replay’s', async () => {
    const first = await landAndLoad(s);
    await s.store.delete(lakeKeys.claim(day.chartDate, day.chartId, run1)); // a replay resets the claim…
    await s.run(); // …and the day loads again: a second load of run1, whose rows replace the first's
    const rows = await stageRows(s.warehouse);
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings.map((f) => [f.kind, f.loadId])).toEqual([
      ['superseded_load', first.loadId],
      ['untransformed', expect.not.stringMatching(first.loadId)],
    ]);
    expect(report.actions[0]).toMatchObject({
      kind: 'cleaned_stage',
      detail: expect.stringContaining('left the stage'),
    });
    expect(await stageRows(s.warehouse)).toBe(rows);
    expect((await new RunRecords(s.store).list(day)).map((r) => r.status)).toEqual(['interrupted', 'loaded']);
  });

  it('waits longer for a batch that expects days still missing (an ingest on AWS), then requests what it has', async () => {
    const batchId = '20261120T050000000Z-ba7c0002';
    await new TransformBatches(s.store).expect({
      batchId,
      createdAt: s.clock.now().toISOString(),
      days: [day, { chartId: 'global', chartDate: '2026-11-21' }],
    });
    await landDay(s.store, run1, 'verified');
    const manifest = JSON.parse((await s.store.get(manifestKey))!.toString('utf8')) as object;
    await s.store.put(manifestKey, JSON.stringify({ ...manifest, batchId }));
    s.clock.advance(minutes(20));
    await s.run(); // the first day loads into the batch; the second never comes
    s.published.length = 0;

    const waiting = await s.run();
    expect(waiting.findings).toEqual([]);
    expect(waiting.leftAlone).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ batchId, why: expect.stringContaining('days it expects are missing') }),
      ]),
    );

    s.clock.advance(minutes(90));
    const report = await s.run();
    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unrequested_batch', batchId })]);
    expect(s.published).toEqual([
      expect.objectContaining({ detailType: 'Transform Requested', detail: { batchId } }),
    ]);
  });

  it('looks at no stage on a lake that never loaded, so that no warehouse file is made; every chart is stale', async () => {
    const report = await s.run();

    expect(existsSync(path.join(s.home, 'w.duckdb'))).toBe(false);
    expect(report).toEqual({
      from: day.chartDate,
      to: day.chartDate,
      dryRun: false,
      findings: [],
      actions: [],
      leftAlone: [],
      staleAfterHours: freshnessHours,
      freshness: [{ chartId: 'global', lastSucceededAt: null, stale: true }],
    });
  });

  it('reports a repair that failed as its action with the error, and goes on', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(20));
    const failing: ReconcilerDeps = {
      ...s.deps,
      loader: {
        objectCreated: async () => {
          throw new Error('the loader is unreachable');
        },
      },
    };

    const report = await reconcile({ from: day.chartDate, to: day.chartDate }, failing);

    expect(report.findings.map((f) => f.kind)).toEqual(['unloaded']);
    expect(report.actions).toEqual([
      {
        kind: 'redelivered_object_created',
        ...day,
        runId: run1,
        detail: 'the repair failed',
        error: 'the loader is unreachable',
      },
    ]);
  });

  it('leaves a day whose manifest it cannot read alone, saying why, and fails on a store that fails', async () => {
    await landDay(s.store, run1, 'verified');
    await s.store.put(manifestKey, '{"runId": 1}');
    s.clock.advance(minutes(20));

    const report = await s.run();

    expect(report.findings).toEqual([]);
    expect(report.leftAlone).toEqual([
      { ...day, why: expect.stringMatching(/^it cannot be reconciled: manifest .*manifest/) },
    ]);

    const get = async (key: string) => {
      if (key === manifestKey) throw new Error('the store is down');
      return s.store.get(key);
    };
    const broken = new Proxy(s.store, {
      get: (store, name: keyof typeof s.store) =>
        name === 'get' ? get : typeof store[name] === 'function' ? store[name].bind(store) : store[name],
    });
    await expect(
      reconcile({ from: day.chartDate, to: day.chartDate }, { ...s.deps, store: broken }),
    ).rejects.toThrow('the store is down');
  });

  it('ignores keys of the raw prefix that name no chart, or no valid one', async () => {
    await landDay(s.store, run1, 'verified');
    await s.store.put(`raw/chart_songs/date=${day.chartDate}/notes.txt`, 'not a chart');
    for (const o of await s.store.list(`raw/chart_songs/date=${day.chartDate}/chart=global/`))
      await s.store.put(o.key.replace('chart=global', 'chart=Not_A_Chart'), (await s.store.get(o.key))!);
    s.clock.advance(minutes(20));

    const report = await s.run({ dryRun: true });

    expect(report.findings).toEqual([expect.objectContaining({ kind: 'unloaded', ...day })]);
    expect(report.leftAlone).toEqual([]);
  });

  it('looks only at the chart a request names: its days, its stage slices and its freshness', async () => {
    const deps = { ...s.deps, charts: ['global', 'other'] };
    await landDay(s.store, run1, 'verified');
    for (const o of await lakeDataOf(s.store))
      await s.store.put(o.key.replace('chart=global', 'chart=other'), (await s.store.get(o.key))!);
    s.clock.advance(minutes(20));

    const all = await reconcile({ from: day.chartDate, to: day.chartDate, dryRun: true }, deps);
    expect(all.leftAlone.map((l) => l.chartId).concat(all.findings.map((f) => f.chartId))).toEqual(
      expect.arrayContaining(['global', 'other']),
    );
    expect(all.freshness.map((f) => f.chartId)).toEqual(['global', 'other']);

    const one = await reconcile(
      { from: day.chartDate, to: day.chartDate, chartId: 'global', dryRun: true },
      deps,
    );
    expect(one.chartId).toBe('global');
    expect(JSON.stringify(one)).not.toContain('other');
    expect(one.freshness).toEqual([{ chartId: 'global', lastSucceededAt: null, stale: true }]);
    expect(one.findings).toEqual([expect.objectContaining({ kind: 'unloaded', ...day })]);
  });

  it('as a Lambda handler: logs each finding and action and a summary with the failed repairs, with or without metrics', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(20));
    const warn = vi.spyOn(logger, 'warn');
    const info = vi.spyOn(logger, 'info');
    const handler = makeReconciler({
      ...s.deps,
      metrics: undefined,
      loader: {
        objectCreated: async () => {
          throw new Error('the loader is unreachable');
        },
      },
    });
    try {
      const report = await handler({ from: day.chartDate, to: day.chartDate }, localContext('reconciler'));

      expect(warn).toHaveBeenCalledWith('reconciler finding', report.findings[0]);
      expect(info).toHaveBeenCalledWith('reconciler action', report.actions[0]);
      expect(info).toHaveBeenCalledWith('reconciled', {
        from: day.chartDate,
        to: day.chartDate,
        dryRun: false,
        findings: 1,
        actions: 1,
        failedActions: 1,
        leftAlone: 0,
        staleCharts: ['global'],
      });
      // The loader answers again: the repair is done, and no action failed.
      await makeReconciler({
        ...s.deps,
        metrics: undefined,
        loader: { objectCreated: async () => undefined },
      })({ from: day.chartDate, to: day.chartDate }, localContext('reconciler'));
      expect(info).toHaveBeenLastCalledWith(
        'reconciled',
        expect.objectContaining({ actions: 1, failedActions: 0 }),
      );
    } finally {
      warn.mockRestore();
      info.mockRestore();
    }
    await expect(
      handler({ 'detail-type': 'Scheduled Event', detail: {} }, localContext('reconciler')),
    ).rejects.toThrow(/^reconciler scheduled event: /);
  });

  it('puts no "Stage Loaded" again when, during the quiet wait, another batch took the lock or the load was transformed', async () => {
    const record = await landAndLoad(s);
    s.published.length = 0;
    s.clock.advance(minutes(20));
    const other = '20261120T050000000Z-0the0002';
    s.clock.onSleep = async () => {
      await s.store.put(
        lakeKeys.transformLock(),
        JSON.stringify({ batchId: other, acquiredAt: s.clock.now().toISOString() }),
      );
    };

    const busy = await s.run();
    expect(busy.actions).toEqual([
      expect.objectContaining({
        kind: 'published_stage_loaded',
        detail: expect.stringContaining('put nothing'),
      }),
    ]);
    expect(s.published).toEqual([]);

    await s.store.delete(lakeKeys.transformLock());
    s.clock.onSleep = async () => {
      // The first copy of "Stage Loaded" came back meanwhile, and its transform ran to the end.
      const protocol = new BatchProtocol(s.store, s.clock);
      await protocol.startLoad(record, undefined, work(s));
      await protocol.finish({ batchId: record.loadId, taskId: 't', succeeded: true }, (l) =>
        s.warehouse.cleanStage(l),
      );
    };
    const transformed = await s.run();
    expect(transformed.actions).toEqual([
      expect.objectContaining({
        kind: 'published_stage_loaded',
        detail: expect.stringContaining('put nothing'),
      }),
    ]);
    expect(s.published).toEqual([]);
  });

  it('hands the loader a day landed without part markers once past the grace period: the loader reads its files', async () => {
    await landDay(s.store, run1, 'files');
    s.clock.advance(minutes(20));

    const report = await s.run({ dryRun: true });

    expect(report.findings).toEqual([
      {
        kind: 'unloaded',
        ...day,
        runId: run1,
        evidence:
          'its manifest has no part markers (the loader reads its files to decide), and the run was never claimed',
      },
    ]);
  });

  it('counts the grace period from the day’s newest object, not its oldest', async () => {
    await landDay(s.store, run1, 'verified');
    const hourAgo = new Date(Date.now() - minutes(60));
    await utimes(path.join(s.home, 'lake', manifestKey), hourAgo, hourAgo);
    await utimes(path.join(s.home, 'lake', chartCsvKey), hourAgo, hourAgo);

    const report = await s.run({ dryRun: true });

    expect(report.findings).toEqual([]);
    expect(report.leftAlone).toEqual([
      expect.objectContaining({ runId: run1, why: expect.stringContaining('may still be on their way') }),
    ]);
    s.clock.advance(minutes(20));
    expect((await s.run({ dryRun: true })).findings).toEqual([
      {
        kind: 'unloaded',
        ...day,
        runId: run1,
        evidence: `every one of its ${ids.length} tracks is covered and the chart CSV is the run's, and the run was never claimed`,
      },
    ]);
  });

  it('records not_loaded a day whose chart CSV another run replaced, its track messages lost with their process', async () => {
    await landDay(s.store, run1, 'verified');
    await s.store.put(chartCsvKey, chartCsvOf(run2, ids));
    const manifestWritten = new Date(Math.floor(Date.now() / 1000) * 1000 - minutes(10));
    await utimes(path.join(s.home, 'lake', manifestKey), manifestWritten, manifestWritten);
    const deps: ReconcilerDeps = {
      ...s.deps,
      settings: { ...settings, missingTracks: 'lost' },
      metrics: undefined,
    };
    const run = (request: Parameters<typeof reconcile>[0]) =>
      reconcile({ from: day.chartDate, to: day.chartDate, ...request }, deps);
    s.clock.advance(minutes(20));

    const early = await run({ dryRun: true });
    expect(early.findings).toEqual([]);
    expect(early.leftAlone).toEqual([
      {
        ...day,
        runId: run1,
        why: expect.stringMatching(
          /^its chart CSV is not the run’s; its track messages may still arrive until /,
        ),
      },
    ]);

    s.clock.advance(minutes(80));
    const report = await run({});
    const reason =
      'the day never completed: its chart CSV is not the run’s, and their track messages were lost with the process that held them (found by the reconciler)';
    expect(report.findings).toEqual([
      {
        kind: 'never_completed',
        ...day,
        runId: run1,
        evidence: `its chart CSV is not the run’s, and nothing can deliver them any more (manifest written at ${manifestWritten.toISOString()})`,
      },
    ]);
    expect(report.actions).toEqual([
      { kind: 'recorded_not_loaded', ...day, runId: run1, detail: `recorded the run not_loaded: ${reason}` },
    ]);
    const [record] = await new RunRecords(s.store).list(day);
    expect(record).toMatchObject({ runId: run1, status: 'not_loaded', reason });
    expect(record).not.toHaveProperty('deadLettered');
    // A run that ended not_loaded is no successful run: the chart has none.
    expect(report.freshness).toEqual([{ chartId: 'global', lastSucceededAt: null, stale: true }]);
  });

  it('records not_loaded a new run that never completed, though an older run of its day has a record', async () => {
    await landAndLoad(s);
    await landDay(s.store, run2, 'verified');
    const [marker] = (await s.store.list(rawPrefix('song_attributes', day.chartDate, day.chartId))).filter(
      (o) => o.key.includes(`/_done.run=${run2}.`),
    );
    await s.store.delete(marker!.key);
    s.clock.advance(minutes(100));

    const report = await s.run({ dryRun: true });

    expect(report.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'never_completed', runId: run2 })]),
    );
  });

  it('finds nothing of a day whose manifest is gone from the listing after it was read (deleted meanwhile)', async () => {
    await landDay(s.store, run1, 'verified');
    s.clock.advance(minutes(20));
    const list = async (prefix: string) => (await s.store.list(prefix)).filter((o) => o.key !== manifestKey);
    const racing = new Proxy(s.store, {
      get: (store, name: keyof typeof s.store) =>
        name === 'list' ? list : typeof store[name] === 'function' ? store[name].bind(store) : store[name],
    });

    const report = await reconcile(
      { from: day.chartDate, to: day.chartDate, dryRun: true },
      { ...s.deps, store: racing },
    );

    expect(report.findings).toEqual([]);
    expect(report.leftAlone).toEqual([]);
  });

  it('orders its findings by kind, whatever order it found them in', async () => {
    const record = await landAndLoad(s);
    // Recorded interrupted, but its rows were never taken out of the stage.
    await new BatchProtocol(s.store, s.clock).recordInterrupted([record], 'interrupted by SIGINT');
    s.clock.advance(minutes(20));

    const report = await s.run({ dryRun: true });

    expect(report.findings.map((f) => f.kind)).toEqual(['stage_not_cleaned', 'interrupted']);
  });

  it('leaves a day whose missing tracks may still arrive alone up to the very moment they can no longer', async () => {
    await landDay(s.store, run1, 'verified');
    const markers = (await s.store.list(rawPrefix('song_attributes', day.chartDate, day.chartId))).filter(
      (o) => o.key.includes('/_done.'),
    );
    await s.store.delete(markers[1]!.key);
    const written = new Date(Math.floor(Date.now() / 1000) * 1000 - minutes(30));
    for (const o of await lakeDataOf(s.store))
      await utimes(path.join(s.home, 'lake', o.key), written, written);
    const at = (ms: number) => ({
      ...s.deps,
      clock: { now: () => new Date(ms), sleep: async () => undefined },
    });
    const gone = written.getTime() + settings.tracksGoneAfterMs;
    const request = { from: day.chartDate, to: day.chartDate, dryRun: true };

    expect((await reconcile(request, at(gone))).leftAlone).toEqual([
      expect.objectContaining({ runId: run1, why: expect.stringContaining(new Date(gone).toISOString()) }),
    ]);
    expect((await reconcile(request, at(gone + 1))).findings).toEqual([
      expect.objectContaining({ kind: 'never_completed', runId: run1 }),
    ]);
  });

  it('scans the stage slices of the chart a request names only, whatever their day', async () => {
    await landAndLoad(s);
    for (const o of await lakeDataOf(s.store))
      await s.store.put(o.key.replace('chart=global', 'chart=other'), (await s.store.get(o.key))!);
    await s.warehouse.query(
      `insert into stage.chart_songs select * replace ('other' as chart_id) from stage.chart_songs`,
    );
    s.clock.advance(minutes(20));
    const nextDay = { from: '2026-11-21', to: '2026-11-21', dryRun: true };

    const one = await reconcile({ ...nextDay, chartId: 'global' }, s.deps);
    expect(one.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'untransformed', ...day, runId: run1 })]),
    );
    expect(JSON.stringify([one.findings, one.leftAlone])).not.toContain('other');

    const all = await reconcile(nextDay, s.deps);
    expect(all.findings).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'untransformed', ...day, runId: run1 })]),
    );
    expect(JSON.stringify([all.findings, all.leftAlone])).toContain('"chartId":"other"');
  });

  it('reports a failed not_loaded record as a failed recorded_not_loaded action', async () => {
    await landDay(s.store, run1, 'verified');
    const markers = (await s.store.list(rawPrefix('song_attributes', day.chartDate, day.chartId))).filter(
      (o) => o.key.includes('/_done.'),
    );
    await s.store.delete(markers[1]!.key);
    s.clock.advance(minutes(100));
    const put = async (key: string, body: string | Uint8Array) => {
      if (key.startsWith('control/runs/')) throw new Error('the run records are read-only');
      return s.store.put(key, body);
    };
    const readOnly = new Proxy(s.store, {
      get: (store, name: keyof typeof s.store) =>
        name === 'put' ? put : typeof store[name] === 'function' ? store[name].bind(store) : store[name],
    });

    const report = await reconcile(
      { from: day.chartDate, to: day.chartDate },
      { ...s.deps, store: readOnly },
    );

    expect(report.actions).toEqual([
      expect.objectContaining({
        kind: 'recorded_not_loaded',
        ...day,
        runId: run1,
        detail: 'the repair failed',
        error: expect.stringContaining('read-only'),
      }),
    ]);
  });

  it('dates a chart’s last success by its transform’s end (its record’s update when it has none), and calls it stale only past staleAfter', async () => {
    const records = new RunRecords(s.store);
    const succeeded = { ...day, status: 'succeeded' as const, rows: {}, checks: [], timings: {} };
    await records.write({
      ...succeeded,
      runId: run1,
      loadId: run1,
      updatedAt: '2026-11-20T10:00:00.000Z',
      transform: {
        taskId: 't',
        startedAt: '2026-11-20T07:00:00.000Z',
        finishedAt: '2026-11-20T08:00:00.000Z',
      },
    });
    await records.write({ ...succeeded, runId: run2, loadId: run2, updatedAt: '2026-11-20T09:00:00.000Z' });
    const last = '2026-11-20T09:00:00.000Z';
    const at = (ms: number) => ({
      ...s.deps,
      clock: { now: () => new Date(ms), sleep: async () => undefined },
    });
    const request = { from: day.chartDate, to: day.chartDate, dryRun: true };

    expect((await reconcile(request, at(Date.parse(last) + settings.staleAfterMs))).freshness).toEqual([
      { chartId: 'global', lastSucceededAt: last, stale: false },
    ]);
    expect((await reconcile(request, at(Date.parse(last) + settings.staleAfterMs + 1))).freshness).toEqual([
      { chartId: 'global', lastSucceededAt: last, stale: true },
    ]);
  });
});
