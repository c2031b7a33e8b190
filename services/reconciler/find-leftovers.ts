import type { StageSlice } from '../../shared/ports/index.js';
import { phaseOfStatus } from '../../shared/transform/batch-protocol.js';
import { claimedAt, publishTransformRequested } from './repairs.js';
import { pastGrace, sliceKey, type Planned, type Scan } from './scan.js';

/** Which days and chart a reconcile looks at. */
export interface Window {
  readonly from: string;
  readonly to: string;
  readonly chartId?: string | undefined;
}

export const inWindow = (window: Window, day: { chartId: string; chartDate: string }): boolean =>
  day.chartDate >= window.from &&
  day.chartDate <= window.to &&
  (window.chartId === undefined || window.chartId === day.chartId);

const batchesRoot = 'control/batches/';
const batchOfKey = (key: string) => /^control\/batches\/batch=([^/]+)\//.exec(key)?.[1];

/**
 * Backfill batches whose loads joined and are `loaded`, with no "Transform Requested" that fixed
 * them, none of whose loads joined within the grace period (a live backfill is still loading days).
 * The batch protocol drops their interrupted members, then "Transform Requested" is put on the bus.
 */
export const findUnrequestedBatches = async (scan: Scan, window: Window): Promise<Planned[]> => {
  const listed = await scan.deps.store.list(batchesRoot);
  const fixed = new Set(listed.filter((o) => o.key.endsWith('/batch.json')).map((o) => batchOfKey(o.key)));
  const open = new Map<string, Date>();
  for (const { key, lastModified } of listed) {
    const id = batchOfKey(key);
    if (id === undefined || fixed.has(id) || !key.includes('/loads/')) continue;
    const newest = open.get(id);
    if (!newest || lastModified > newest) open.set(id, lastModified);
  }
  const planned: Planned[] = [];
  for (const [batchId, lastJoin] of open) {
    const members = await scan.batches.members(batchId);
    if (!members.some((m) => inWindow(window, m))) continue;
    const records = await Promise.all(members.map((m) => scan.records.read(m, m.runId, m.loadId)));
    const waiting = records.filter((r) => r && phaseOfStatus(r.status) === 'requested').length;
    if (waiting === 0) continue;
    if (scan.lock?.holder && !scan.lock.free) {
      scan.leftAlone.push({
        batchId,
        why: `the warehouse is busy (batch ${scan.lock.holder.batchId} holds the transform lock): its request may be waiting for it`,
      });
      continue;
    }
    // A batch that expects days (an ingest on AWS) asks for its transform itself when its last
    // day loads: while one is missing, it may still complete, as long as a day's tracks may arrive.
    const missingDays =
      (await scan.batches.expected(batchId)) !== undefined &&
      !(await scan.batches.hasEveryExpectedDay(batchId));
    const patience = missingDays
      ? Math.max(scan.deps.settings.graceMs, scan.deps.settings.tracksGoneAfterMs)
      : scan.deps.settings.graceMs;
    if (scan.now - lastJoin.getTime() <= patience) {
      scan.leftAlone.push({
        batchId,
        why: missingDays
          ? `a load joined it at ${lastJoin.toISOString()}, and days it expects are missing: they may still load`
          : `a load joined it at ${lastJoin.toISOString()}: its backfill may still be loading days`,
      });
      continue;
    }
    planned.push({
      finding: {
        kind: 'unrequested_batch',
        batchId,
        evidence: `${waiting} of its ${members.length} loads are loaded and wait for it, and no "Transform Requested" fixed it (the last joined at ${lastJoin.toISOString()})`,
      },
      action: 'published_transform_requested',
      repair: async () => {
        await scan.quiet();
        const lock = await scan.protocol.lockState();
        if (lock?.holder && !lock.free) {
          return [
            {
              kind: 'published_transform_requested',
              batchId,
              detail: 'put nothing: the warehouse became busy meanwhile (the next round looks again)',
            },
          ];
        }
        const requestable = await scan.protocol.unrequestedBatches();
        return requestable.includes(batchId) ? publishTransformRequested(scan, batchId) : [];
      },
    });
  }
  return planned;
};

/**
 * Stage rows of runs that have ended (every record final) or that no record names: a clean-up that
 * never came, or a load that died between its COPY and its record. Slices a planned repair already
 * empties, and those of a run whose claim was made within the grace period (a load under way), are
 * left. The slices were read before the run records, so a load that starts after they were read is
 * not among them.
 */
export const findStageLeftovers = async (
  scan: Scan,
  slices: readonly StageSlice[],
  window: Pick<Window, 'chartId'>,
): Promise<Planned[]> => {
  const planned: Planned[] = [];
  for (const slice of slices) {
    if (window.chartId !== undefined && slice.chartId !== window.chartId) continue;
    if (scan.cleanedSlices.has(sliceKey(slice))) continue;
    const records = (await scan.records.list(slice)).filter((r) => r.runId === slice.runId);
    if (records.some((r) => ['requested', 'building'].includes(phaseOfStatus(r.status)))) continue;
    const claimed = await claimedAt(scan, slice);
    if (claimed !== undefined && !pastGrace(scan, claimed)) {
      scan.leftAlone.push({ ...slice, why: `its run was claimed at ${claimed}: its load may be under way` });
      continue;
    }
    const ended = records.at(-1);
    planned.push({
      finding: {
        kind: 'stage_not_cleaned',
        ...slice,
        evidence: ended
          ? `the stage holds its rows, and its newest load ended ${ended.status} at ${ended.updatedAt}`
          : `the stage holds its rows, and no run record names the run${claimed ? ` (claimed at ${claimed})` : ''}`,
      },
      action: 'cleaned_stage',
      repair: async () => {
        await scan.deps.warehouse.cleanStage([slice]);
        return [
          {
            kind: 'cleaned_stage',
            ...slice,
            detail: "emptied the stage of the run's rows",
          },
        ];
      },
    });
  }
  return planned;
};
