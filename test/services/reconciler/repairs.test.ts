import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import {
  claimedAt,
  publishStageLoaded,
  publishTransformRequested,
  redeliverManifest,
  reloadDay,
} from '../../../services/reconciler/repairs.js';
import {
  defaultReconcilerSettings,
  holdsLiveLock,
  newScan,
  objectInfo,
  pastGrace,
  sliceKey,
  stillUntransformed,
  type ReconcilerDeps,
} from '../../../services/reconciler/scan.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import type { RunRecord } from '../../../shared/lake/run-records.js';
import { lockTtlMs } from '../../../shared/lake/transform-lock.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { ObjectInfo, Warehouse } from '../../../shared/ports/index.js';
import { day, landDay, manifestKey, run1 } from '../../support/landed-days.js';

/** The reconciler's scan on the folder store, with a bus and a loader trigger that keep what they are given. */
const setUp = async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-repairs-'));
  const store = new FsObjectStore({ root: path.join(home, 'lake') });
  const published: BusEvent[] = [];
  const delivered: ObjectInfo[] = [];
  const deps: ReconcilerDeps = {
    store,
    warehouse: {} as Warehouse,
    bus: { publish: async (event) => void published.push(event) },
    clock: { now: () => new Date(), sleep: async () => undefined },
    loader: { objectCreated: async (info) => void delivered.push(info) },
    charts: ['global'],
    settings: { ...defaultReconcilerSettings, tracksGoneAfterMs: 0, missingTracks: 'lost', quietLockMs: 0 },
  };
  return { home, store, published, delivered, deps };
};

describe('the reconciler’s repairs and what its scan tells', () => {
  let s: Awaited<ReturnType<typeof setUp>>;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => rm(s.home, { recursive: true, force: true }));

  const run = { ...day, runId: run1 };
  const claimKey = lakeKeys.claim(day.chartDate, day.chartId, run1);

  it('reads when a run was claimed, nothing for a run never claimed, and refuses a claim it cannot read', async () => {
    const scan = await newScan(s.deps);
    expect(await claimedAt(scan, run)).toBeUndefined();

    const when = '2026-11-20T06:30:00.000Z';
    await s.store.put(claimKey, JSON.stringify({ runId: run1, loadId: run1, claimedAt: when }));
    expect(await claimedAt(scan, run)).toBe(when);

    await s.store.put(claimKey, JSON.stringify({ runId: run1 }));
    await expect(claimedAt(scan, run)).rejects.toThrow(`claim ${claimKey}: `);
  });

  it('hands the loader the manifest’s ObjectCreated, and says so naming the run', async () => {
    await landDay(s.store, run1, 'verified');
    const scan = await newScan(s.deps);

    expect(await redeliverManifest(scan, run)).toEqual([
      {
        kind: 'redelivered_object_created',
        ...run,
        detail: `handed the stage loader an ObjectCreated event for ${manifestKey}`,
      },
    ]);
    expect(s.delivered.map((o) => o.key)).toEqual([manifestKey]);
  });

  it('delivers nothing for a day whose manifest is gone, and reports it as a failed repair', async () => {
    const scan = await newScan(s.deps);

    expect(await redeliverManifest(scan, day)).toEqual([
      {
        kind: 'redelivered_object_created',
        ...day,
        detail: `nothing to deliver: ${manifestKey} is gone`,
        error: `${manifestKey} is not in the lake`,
      },
    ]);
    expect(s.delivered).toEqual([]);
  });

  it('gives back the run’s claim before loading the day again, and resets no claim that is not there', async () => {
    await landDay(s.store, run1, 'verified');
    const scan = await newScan(s.deps);
    const redelivered = {
      kind: 'redelivered_object_created',
      ...run,
      detail: `handed the stage loader an ObjectCreated event for ${manifestKey}`,
    };

    expect(await reloadDay(scan, run)).toEqual([redelivered]);

    await s.store.put(
      claimKey,
      JSON.stringify({ runId: run1, loadId: run1, claimedAt: new Date().toISOString() }),
    );
    expect(await reloadDay(scan, run)).toEqual([
      {
        kind: 'reset_claim',
        ...run,
        detail: `deleted ${claimKey}, so that the stage loader may claim the run again`,
      },
      redelivered,
    ]);
    expect(await s.store.get(claimKey)).toBeUndefined();
    expect(s.delivered).toHaveLength(2);
  });

  it('puts "Stage Loaded" again as the loader announced it, with the backfill batch when there is one', async () => {
    const scan = await newScan(s.deps);
    const record: RunRecord = {
      ...run,
      loadId: run1,
      status: 'loaded',
      rows: { chart_songs: 4 },
      checks: [],
      timings: {},
      updatedAt: '2026-11-20T06:40:00.000Z',
    };
    const action = {
      kind: 'published_stage_loaded',
      ...run,
      loadId: run1,
      detail: `put "Stage Loaded" for load ${run1} on the bus again`,
    };

    expect(await publishStageLoaded(scan, record, undefined)).toEqual([action]);
    expect(await publishStageLoaded(scan, record, 'b-1')).toEqual([action]);
    expect(s.published).toEqual([
      {
        source: 'chartflow',
        detailType: 'Stage Loaded',
        detail: { ...run, loadId: run1, rows: { chart_songs: 4 } },
      },
      {
        source: 'chartflow',
        detailType: 'Stage Loaded',
        detail: { ...run, loadId: run1, rows: { chart_songs: 4 }, batchId: 'b-1' },
      },
    ]);
  });

  it('puts "Transform Requested" for a batch, and says so', async () => {
    const scan = await newScan(s.deps);

    expect(await publishTransformRequested(scan, 'b-1')).toEqual([
      {
        kind: 'published_transform_requested',
        batchId: 'b-1',
        detail: 'put "Transform Requested" for batch b-1 on the bus',
      },
    ]);
    expect(s.published).toEqual([
      { source: 'chartflow', detailType: 'Transform Requested', detail: { batchId: 'b-1' } },
    ]);
  });

  it('takes only a batch holding the lock within its TTL for a live holder', async () => {
    expect(holdsLiveLock(await newScan(s.deps), 'b-1')).toBe(false);
    expect(holdsLiveLock(await newScan(s.deps), undefined)).toBe(false);

    const lock = (acquiredAt: number) =>
      s.store.put(
        lakeKeys.transformLock(),
        JSON.stringify({ batchId: 'b-1', acquiredAt: new Date(acquiredAt).toISOString() }),
      );
    await lock(Date.now());
    const live = await newScan(s.deps);
    expect(holdsLiveLock(live, 'b-1')).toBe(true);
    expect(holdsLiveLock(live, 'b-2')).toBe(false);
    expect(holdsLiveLock(live, undefined)).toBe(false);

    await lock(Date.now() - lockTtlMs - 60_000);
    expect(holdsLiveLock(await newScan(s.deps), 'b-1')).toBe(false);
  });

  it('finds the listing entry of exactly the key asked for', async () => {
    await s.store.put(`${claimKey}.bak`, 'x');
    expect(await objectInfo(s.store, claimKey)).toBeUndefined();
    await s.store.put(claimKey, 'x');
    expect(await objectInfo(s.store, claimKey)).toMatchObject({ key: claimKey });
  });

  it('tells the stage slices of two runs, charts or days apart', () => {
    const slice = { runId: run1, chartId: 'global', chartDate: '2026-11-20' };
    const keys = new Set(
      [
        slice,
        { ...slice, runId: 'r2' },
        { ...slice, chartId: 'other' },
        { ...slice, chartDate: '2026-11-21' },
      ].map(sliceKey),
    );
    expect(keys.size).toBe(4);
    expect(sliceKey({ ...slice })).toBe(sliceKey(slice));
  });

  it('takes a time for past the grace period only once the whole period has gone by', async () => {
    const now = Date.parse('2026-11-20T12:00:00.000Z');
    const scan = await newScan({
      ...s.deps,
      clock: { now: () => new Date(now), sleep: async () => undefined },
    });
    const { graceMs } = defaultReconcilerSettings;

    expect(pastGrace(scan, new Date(now - graceMs))).toBe(false);
    expect(pastGrace(scan, new Date(now - graceMs - 1).toISOString())).toBe(true);
  });

  it('takes an unreadable lock for nobody’s, and puts no event again for a load that has no record', async () => {
    await s.store.put(lakeKeys.transformLock(), 'not a lock');
    const scan = await newScan(s.deps);

    expect(holdsLiveLock(scan, 'b-1')).toBe(false);
    expect(await stillUntransformed(scan, { ...run, loadId: run1 })).toBe(false);
  });
});
