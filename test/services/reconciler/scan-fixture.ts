import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { defaultReconcilerSettings, newScan, type Scan } from '../../../services/reconciler/scan.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { RunRecords, type RunRecord, type RunStatus } from '../../../shared/lake/run-records.js';
import { TransformBatches, type BatchLoad } from '../../../shared/lake/transform-batches.js';
import type { BusEvent } from '../../../shared/ports/event-bus.js';
import type { ObjectInfo, StageSlice, Warehouse } from '../../../shared/ports/index.js';

/** The scans the reconciler's finders work on, on a folder store: a day, its runs and loads, a batch. */
export const minutes = (n: number) => n * 60_000;
export const grace = defaultReconcilerSettings.graceMs;
export const day = { chartId: 'global', chartDate: '2026-11-20' };
export const run1 = '20261120T060000000Z-aaaa0001';
export const run2 = '20261120T070000000Z-aaaa0002';
export const load1 = '20261120T061000000Z-1oad0001';
export const load2 = '20261120T071000000Z-1oad0002';
export const batchId = '20261120T050000000Z-ba7c0001';
export const otherBatch = '20261120T040000000Z-0the0001';
/** run1's load of the day. */
export const first: BatchLoad = { ...day, runId: run1, loadId: load1 };
/** run2's load of the next day. */
export const second: BatchLoad = { chartId: 'global', chartDate: '2026-11-21', runId: run2, loadId: load2 };

/**
 * A scan on a folder store, with a warehouse that keeps the slices it is told to clean, a bus that
 * keeps what is put on it and a loader trigger that keeps what it is handed; "now" is fixed.
 */
export const setUp = async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-finders-'));
  const root = path.join(home, 'lake');
  const store = new FsObjectStore({ root });
  // Whole seconds: the folder store reads back file times set to the second exactly.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const cleaned: StageSlice[][] = [];
  const published: BusEvent[] = [];
  const delivered: ObjectInfo[] = [];
  const deps = {
    store,
    warehouse: {
      cleanStage: async (slices: readonly StageSlice[]) => void cleaned.push([...slices]),
    } as unknown as Warehouse,
    bus: { publish: async (event: BusEvent) => void published.push(event) },
    clock: { now: () => new Date(now), sleep: async () => undefined },
    loader: { objectCreated: async (info: ObjectInfo) => void delivered.push(info) },
    charts: ['global'],
    settings: {
      ...defaultReconcilerSettings,
      tracksGoneAfterMs: minutes(90),
      missingTracks: 'dead_lettered' as const,
      quietLockMs: 0,
    },
  };
  const scan = async (over: Partial<Scan> = {}): Promise<Scan> => ({ ...(await newScan(deps)), ...over });
  const iso = (msAgo: number) => new Date(now - msAgo).toISOString();
  const record = async (
    load: BatchLoad,
    status: RunStatus,
    msAgo = minutes(30),
    more: Partial<RunRecord> = {},
  ): Promise<RunRecord> => {
    const written: RunRecord = {
      ...load,
      status,
      rows: { chart_songs: 4 },
      checks: [],
      timings: {},
      updatedAt: iso(msAgo),
      ...more,
    };
    await new RunRecords(store).write(written);
    return written;
  };
  const records = () => new RunRecords(store).list(day);
  const touch = async (key: string, msAgo: number) => {
    const when = new Date(now - msAgo);
    await utimes(path.join(root, key), when, when);
  };
  /** A load joins a batch, its member object written `msAgo` before now. */
  const join = async (id: string, load: BatchLoad, msAgo: number) => {
    await new TransformBatches(store).join(id, load);
    await touch(lakeKeys.batchMember(id, load.chartDate, load.chartId, load.loadId), msAgo);
  };
  /** A batch fixed with these loads (its "Transform Requested" came). */
  const fix = (id: string, loads: BatchLoad[]) =>
    new TransformBatches(store).write({ batchId: id, createdAt: iso(minutes(30)), loads });
  const claim = (run: string, msAgo: number) =>
    store.put(
      lakeKeys.claim(day.chartDate, day.chartId, run),
      JSON.stringify({ runId: run, loadId: load1, claimedAt: iso(msAgo) }),
    );
  const lock = (holder: string, msAgo: number) =>
    store.put(lakeKeys.transformLock(), JSON.stringify({ batchId: holder, acquiredAt: iso(msAgo) }));
  /** The day's manifest, naming a run (and its backfill batch). */
  const manifest = async (runId: string, backfill?: string) => {
    const written = {
      runId,
      ...day,
      source: 't',
      extractedAt: iso(minutes(60)),
      trackIds: [],
      skipped: [],
      ...(backfill ? { batchId: backfill } : {}),
    };
    await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(written));
    return written;
  };
  return {
    store,
    now,
    cleaned,
    published,
    delivered,
    scan,
    iso,
    record,
    records,
    join,
    fix,
    touch,
    claim,
    lock,
    manifest,
    close: () => rm(home, { recursive: true, force: true }),
  };
};
export type Setup = Awaited<ReturnType<typeof setUp>>;
