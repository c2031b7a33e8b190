import {
  claimSchema,
  eventSource,
  stageLoadedDetailType,
  transformRequestedDetailType,
  type ChartDay,
  type StageLoaded,
  type TransformRequested,
} from '../../shared/records/messages.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { parseJsonOrThrow } from '../../shared/parse.js';
import type { BatchLoad } from '../../shared/lake/transform-batches.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import type { Action } from './report.js';
import { objectInfo, type Scan } from './scan.js';

/**
 * The repairs, each through the owner of its protocol (docs/reliability.md, "The reconciler"): the
 * stage loader loads (it is handed its ObjectCreated again), transform transforms (it is sent its
 * event again), and the batch protocol writes run records and gives the lock back.
 */

/** When the run's claim was made, or `undefined` when the run is not claimed. */
export const claimedAt = async (
  scan: Scan,
  run: ChartDay & { runId: string },
): Promise<string | undefined> => {
  const key = lakeKeys.claim(run.chartDate, run.chartId, run.runId);
  const body = await scan.deps.store.get(key);
  return body === undefined
    ? undefined
    : parseJsonOrThrow(claimSchema, body.toString('utf8'), `claim ${key}`).claimedAt;
};

/** Hands the stage loader the ObjectCreated of the day's manifest again: it decides, claims and loads. */
export const redeliverManifest = async (
  scan: Scan,
  day: ChartDay & { runId?: string },
): Promise<Action[]> => {
  const key = lakeKeys.manifest(day.chartDate, day.chartId);
  const info = await objectInfo(scan.deps.store, key);
  const subject = {
    chartId: day.chartId,
    chartDate: day.chartDate,
    ...(day.runId ? { runId: day.runId } : {}),
  };
  if (!info) {
    return [
      {
        kind: 'redelivered_object_created',
        ...subject,
        detail: `nothing to deliver: ${key} is gone`,
        error: `${key} is not in the lake`,
      },
    ];
  }
  await scan.deps.loader.objectCreated(info);
  return [
    {
      kind: 'redelivered_object_created',
      ...subject,
      detail: `handed the stage loader an ObjectCreated event for ${key}`,
    },
  ];
};

/**
 * Loads a day again from the lake, as `replay` does for one run: its claim is given back (only the
 * claim of the run the manifest names, so that the loader may claim it again), then the manifest's
 * ObjectCreated is delivered again.
 */
export const reloadDay = async (scan: Scan, load: ChartDay & { runId: string }): Promise<Action[]> => {
  const key = lakeKeys.claim(load.chartDate, load.chartId, load.runId);
  const actions: Action[] = [];
  if ((await objectInfo(scan.deps.store, key)) !== undefined) {
    await scan.deps.store.delete(key);
    actions.push({
      kind: 'reset_claim',
      chartId: load.chartId,
      chartDate: load.chartDate,
      runId: load.runId,
      detail: `deleted ${key}, so that the stage loader may claim the run again`,
    });
  }
  return [...actions, ...(await redeliverManifest(scan, load))];
};

/**
 * Ends loads that nothing will carry on: their stage rows go (invariant 3), and the batch protocol
 * records them `interrupted` with why. The stage first: a record that says `interrupted` promises
 * that its rows are gone. The stage holds a run's rows once (a slice is a run's), so rows that a
 * newer load of the same run put there (a replay) are that load's, and stay.
 */
export const interruptLoads = async (
  scan: Scan,
  loads: readonly BatchLoad[],
  reason: string,
): Promise<Action[]> => {
  const owned = await Promise.all(loads.map((load) => sliceOfNewerLoad(scan, load)));
  await scan.deps.warehouse.cleanStage(loads.filter((_, i) => !owned[i]));
  await scan.protocol.recordInterrupted(loads, reason);
  const subject = (load: BatchLoad) => ({
    chartId: load.chartId,
    chartDate: load.chartDate,
    runId: load.runId,
    loadId: load.loadId,
  });
  return loads.flatMap((load, i): Action[] => [
    {
      kind: 'cleaned_stage',
      ...subject(load),
      detail: owned[i]
        ? 'left the stage: a newer load of the same run holds its rows'
        : 'emptied the stage of its rows',
    },
    { kind: 'recorded_interrupted', ...subject(load), detail: `recorded it interrupted: ${reason}` },
  ]);
};

/** Whether a newer load of the load's own run came since (a replay): the run's stage rows are its. */
const sliceOfNewerLoad = async (scan: Scan, load: BatchLoad): Promise<boolean> =>
  (await scan.records.list(load)).some((r) => r.runId === load.runId && r.loadId > load.loadId);

/** Puts "Stage Loaded" on the bus again, as the stage loader announced the load: transform takes it from there. */
export const publishStageLoaded = async (
  scan: Scan,
  record: RunRecord,
  backfillBatchId: string | undefined,
): Promise<Action[]> => {
  const { runId, loadId, chartId, chartDate, rows } = record;
  const detail: StageLoaded = {
    runId,
    loadId,
    chartId,
    chartDate,
    rows,
    ...(backfillBatchId ? { batchId: backfillBatchId } : {}),
  };
  await scan.deps.bus.publish({ source: eventSource, detailType: stageLoadedDetailType, detail });
  return [
    {
      kind: 'published_stage_loaded',
      runId,
      loadId,
      chartId,
      chartDate,
      detail: `put "Stage Loaded" for load ${loadId} on the bus again`,
    },
  ];
};

/** Puts "Transform Requested" for a batch on the bus again: transform fixes and transforms it. */
export const publishTransformRequested = async (scan: Scan, batchId: string): Promise<Action[]> => {
  const detail: TransformRequested = { batchId };
  await scan.deps.bus.publish({ source: eventSource, detailType: transformRequestedDetailType, detail });
  return [
    {
      kind: 'published_transform_requested',
      batchId,
      detail: `put "Transform Requested" for batch ${batchId} on the bus`,
    },
  ];
};
