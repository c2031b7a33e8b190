import type { ChartDay, Manifest } from '../../shared/records/messages.js';
import { phaseOfStatus } from '../../shared/transform/batch-protocol.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import type { BatchLoad } from '../../shared/lake/transform-batches.js';
import { lockTtlMs } from '../../shared/lake/transform-lock.js';
import { readManifest } from '../../shared/lake/manifests.js';
import {
  claimedAt,
  interruptLoads,
  publishStageLoaded,
  publishTransformRequested,
  reloadDay,
} from './repairs.js';
import { holdsLiveLock, pastGrace, sliceKey, stillUntransformed, type Planned, type Scan } from './scan.js';
import type { Action } from './report.js';

const loadOf = ({ runId, loadId, chartId, chartDate }: RunRecord): BatchLoad => ({
  runId,
  loadId,
  chartId,
  chartDate,
});

const ttlHours = lockTtlMs / 3_600_000;

/**
 * The transform lock, first: held by a holder that is dead or silent past its TTL. If its batch's
 * loads are still `transforming`, the batch is stuck (its clean-up never came); otherwise the lock
 * alone is left over, and is given back.
 */
export const findStaleLock = async (scan: Scan): Promise<Planned[]> => {
  const { lock } = scan;
  if (!lock?.free) return [];
  const batchId = lock.holder?.batchId;
  const why = lock.holder
    ? `the transform lock of batch ${batchId} was taken at ${lock.holder.acquiredAt}, and its holder is dead or silent past the ${ttlHours} h TTL`
    : 'the transform lock cannot be read';
  const batch = batchId === undefined ? undefined : await scan.batches.read(batchId);
  if (batchId !== undefined && batch) {
    const records = await Promise.all(batch.loads.map((l) => scan.records.read(l, l.runId, l.loadId)));
    if (records.some((r) => r && phaseOfStatus(r.status) === 'building')) {
      return [stuckTransform(scan, batchId, batch.loads, why)];
    }
  }
  return [
    {
      finding: { kind: 'stale_lock', ...(batchId ? { batchId } : {}), evidence: why },
      action: 'released_lock',
      repair: async () => releaseLock(scan, batchId),
    },
  ];
};

const releaseLock = async (scan: Scan, batchId: string | undefined): Promise<Action[]> => {
  const released = await scan.protocol.releaseStaleLock(batchId);
  return [
    {
      kind: 'released_lock',
      ...(batchId ? { batchId } : {}),
      detail: released
        ? 'gave the transform lock back'
        : 'left the transform lock: it changed since it was read (taken over, or released)',
    },
  ];
};

/**
 * A batch whose loads say `transforming` and that no live lock protects: dbt ended (or never ran)
 * and its clean-up never came. Whether dbt built is not known, so its loads are ended as
 * `interrupted` (stage emptied), the lock it holds given back, and each day loaded again, so that
 * the marts end as an uninterrupted run leaves them (as the local recovery does after a kill).
 */
export const stuckTransform = (
  scan: Scan,
  batchId: string,
  loads: readonly BatchLoad[],
  evidence: string,
): Planned => {
  scan.stuckBatches.add(batchId);
  for (const load of loads) scan.cleanedSlices.add(sliceKey(load));
  return {
    finding: { kind: 'stuck_transform', batchId, ...subjectOf(loads), evidence },
    action: 'recorded_interrupted',
    repair: async () => {
      const actions = await interruptLoads(scan, loads, `its clean-up never came (${evidence})`);
      if (scan.lock?.holder?.batchId === batchId) actions.push(...(await releaseLock(scan, batchId)));
      for (const load of loads)
        if (await isNewestLoad(scan, load)) actions.push(...(await reloadDay(scan, load)));
      return actions;
    },
  };
};

/** A batch of one names its day; a batch of many only itself. */
const subjectOf = (loads: readonly BatchLoad[]) =>
  loads.length === 1
    ? {
        chartId: loads[0]!.chartId,
        chartDate: loads[0]!.chartDate,
        runId: loads[0]!.runId,
        loadId: loads[0]!.loadId,
      }
    : {};

/** Whether a load is its day's newest (a later load replaces it), and its run the manifest's. */
const isNewestLoad = async (scan: Scan, load: BatchLoad): Promise<boolean> => {
  const [records, manifest] = await Promise.all([
    scan.records.list(load),
    readManifest(scan.deps.store, load),
  ]);
  const newest = records.filter((r) => r.loadId !== r.runId || r.status !== 'not_loaded').at(-1);
  return newest?.loadId === load.loadId && manifest?.runId === load.runId;
};

/** What a day's loads need: each one `loaded` or `transforming` that nothing carries on, and an interrupted day. */
export const findDayLoads = async (
  scan: Scan,
  day: ChartDay,
  records: readonly RunRecord[],
  manifest: Manifest | undefined,
): Promise<Planned[]> => {
  const newest = records.filter((r) => r.loadId !== r.runId || r.status !== 'not_loaded').at(-1);
  const planned: Planned[] = [];
  for (const record of records) {
    const phase = phaseOfStatus(record.status);
    if (phase !== 'requested' && phase !== 'building') continue;
    const found = await findLoad(scan, record, record === newest, manifest);
    if (found) planned.push(found);
  }
  if (newest?.status === 'interrupted') {
    const found = await findInterrupted(scan, day, newest);
    if (found) planned.push(found);
  }
  return planned;
};

const findLoad = async (
  scan: Scan,
  record: RunRecord,
  newest: boolean,
  manifest: Manifest | undefined,
): Promise<Planned | undefined> => {
  const subject = {
    chartId: record.chartId,
    chartDate: record.chartDate,
    runId: record.runId,
    loadId: record.loadId,
  };
  const batchId = record.batch?.batchId;
  if (!pastGrace(scan, record.updatedAt)) {
    scan.leftAlone.push({
      ...subject,
      why: `it is ${record.status} since ${record.updatedAt}, within the grace period`,
    });
    return undefined;
  }
  if (record.status === 'transforming' && holdsLiveLock(scan, batchId)) {
    scan.leftAlone.push({
      ...subject,
      batchId: batchId!,
      why: 'dbt may still be building it: its batch holds the transform lock within its TTL',
    });
    return undefined;
  }
  if (!newest) return superseded(scan, record);
  if (record.status === 'loaded' && scan.lock?.holder && !scan.lock.free) {
    scan.leftAlone.push({
      ...subject,
      why: `the warehouse is busy (batch ${scan.lock.holder.batchId} holds the transform lock): its event may be waiting for it`,
    });
    return undefined;
  }
  if (record.status === 'transforming') {
    const id = batchId ?? record.loadId;
    if (scan.stuckBatches.has(id)) return undefined;
    const loads = (await scan.batches.read(id))?.loads ?? [loadOf(record)];
    return stuckTransform(
      scan,
      id,
      loads,
      `load ${record.loadId} is transforming since ${record.updatedAt}, and no live holder of the transform lock is building it`,
    );
  }
  return untransformed(scan, record, manifest);
};

/** A load `loaded` or `transforming` that a newer load of its day replaced: ended, never transformed. */
const superseded = (scan: Scan, record: RunRecord): Planned => {
  scan.cleanedSlices.add(sliceKey(record));
  return {
    finding: {
      kind: 'superseded_load',
      chartId: record.chartId,
      chartDate: record.chartDate,
      runId: record.runId,
      loadId: record.loadId,
      evidence: `it is ${record.status} since ${record.updatedAt}, and a newer load of the day replaced it`,
    },
    action: 'recorded_interrupted',
    repair: () =>
      interruptLoads(scan, [loadOf(record)], 'a newer load of its day replaced it before it was transformed'),
  };
};

/**
 * The day's newest load says `loaded`: "Stage Loaded" (or its batch's "Transform Requested") never
 * reached transform. A load waiting for a backfill batch that was never fixed is the batch's finding.
 */
const untransformed = async (
  scan: Scan,
  record: RunRecord,
  manifest: Manifest | undefined,
): Promise<Planned | undefined> => {
  const backfill = manifest?.runId === record.runId ? manifest.batchId : undefined;
  const fixed = backfill === undefined ? undefined : await scan.batches.read(backfill);
  if (backfill !== undefined && !fixed) return undefined;
  const inBatch = fixed?.loads.some((l) => l.loadId === record.loadId) === true;
  const subject = {
    chartId: record.chartId,
    chartDate: record.chartDate,
    runId: record.runId,
    loadId: record.loadId,
  };
  return {
    finding: {
      kind: 'untransformed',
      ...subject,
      ...(inBatch ? { batchId: backfill! } : {}),
      evidence: `it is loaded since ${record.updatedAt}, and no transform took it`,
    },
    action: inBatch ? 'published_transform_requested' : 'published_stage_loaded',
    repair: async () => {
      if (!(await stillUntransformed(scan, record))) return [startedMeanwhile(record)];
      return inBatch
        ? publishTransformRequested(scan, backfill!)
        : publishStageLoaded(scan, record, backfill);
    },
  };
};

/** The day's newest load was interrupted and never loaded again: load it again (unless a load is under way). */
const findInterrupted = async (
  scan: Scan,
  day: ChartDay,
  record: RunRecord,
): Promise<Planned | undefined> => {
  const subject = { ...day, runId: record.runId, loadId: record.loadId };
  const claimed = await claimedAt(scan, record);
  if (claimed !== undefined && !pastGrace(scan, claimed)) {
    scan.leftAlone.push({ ...subject, why: `its run was claimed again at ${claimed}: a load is under way` });
    return undefined;
  }
  return {
    finding: {
      kind: 'interrupted',
      ...subject,
      evidence: `its newest load was interrupted (${record.reason ?? 'no reason given'}), and the day was not loaded since`,
    },
    action: 'redelivered_object_created',
    repair: () => reloadDay(scan, record),
  };
};

/** What an event put again would have done, done meanwhile by its own: nothing is put. */
const startedMeanwhile = (record: RunRecord): Action => ({
  kind: 'published_stage_loaded',
  chartId: record.chartId,
  chartDate: record.chartDate,
  runId: record.runId,
  loadId: record.loadId,
  detail:
    'put nothing: its transform started meanwhile, or the warehouse became busy (the next round looks again)',
});
