import type { StageLoaded, TransformRequested } from '../../shared/records/messages.js';
import {
  TransformBatches,
  type BatchLoad,
  type TransformBatch,
} from '../../shared/lake/transform-batches.js';
import { TransformLock } from '../../shared/lake/transform-lock.js';
import {
  acquireWarehouse,
  alreadyHandled,
  checkAndStart,
  type TransformDeps,
  type TransformResult,
} from './transform-batch.js';

export type { TransformDeps, TransformResult } from './transform-batch.js';

const loadOf = ({ runId, loadId, chartId, chartDate }: StageLoaded): BatchLoad => ({
  runId,
  loadId,
  chartId,
  chartDate,
});

/**
 * On "Stage Loaded". A day loaded on its own is transformed on its own: a batch of one, named by its
 * load id. A backfill's load waits for its batch's "Transform Requested", unless that batch was
 * already fixed without it (a day that completed late): then it is transformed on its own too.
 */
export const runTransform = async (loaded: StageLoaded, deps: TransformDeps): Promise<TransformResult> => {
  const batches = new TransformBatches(deps.store);
  const load = loadOf(loaded);
  const includes = (batch: TransformBatch | undefined) =>
    batch === undefined || batch.loads.some((l) => l.loadId === load.loadId);
  if (loaded.batchId && includes(await batches.read(loaded.batchId))) {
    return { outcome: 'deferred', batchId: loaded.batchId, loadId: load.loadId };
  }

  const lock = new TransformLock(deps.store, deps.clock);
  const batch: TransformBatch = {
    batchId: load.loadId,
    createdAt: deps.clock.now().toISOString(),
    loads: [load],
  };
  await acquireWarehouse(lock, batch.batchId);
  // A late load seen just as its batch was fixed may have made it in after all: the batch holds the
  // lock from before it is fixed until its clean-up, so what it holds now is final.
  if (loaded.batchId && includes(await batches.read(loaded.batchId))) {
    await lock.release(batch.batchId);
    return { outcome: 'deferred', batchId: loaded.batchId, loadId: load.loadId };
  }
  if (await alreadyHandled(batch, deps, lock)) return { outcome: 'already_handled', batchId: batch.batchId };
  await batches.write(batch);
  return checkAndStart(batch, deps, lock);
};

/**
 * On "Transform Requested" (a backfill, once its days are loaded): fixes the batch as the loads that
 * joined it, then checks them all and starts one dbt build for all of them.
 */
export const runRequestedTransform = async (
  request: TransformRequested,
  deps: TransformDeps,
): Promise<TransformResult> => {
  const { batchId } = request;
  const batches = new TransformBatches(deps.store);
  const lock = new TransformLock(deps.store, deps.clock);
  await acquireWarehouse(lock, batchId);
  const fixed = await batches.read(batchId);
  if (fixed && (await alreadyHandled(fixed, deps, lock))) return { outcome: 'already_handled', batchId };

  // Fixed first, then listed again: a load that joined in between saw no fixed batch and deferred
  // to it, so it must be in; one that joins after the second look sees itself left out and runs alone.
  let loads = await batches.members(batchId);
  if (loads.length === 0) {
    await lock.release(batchId);
    return { outcome: 'empty', batchId };
  }
  let batch: TransformBatch;
  for (;;) {
    batch = { batchId, createdAt: deps.clock.now().toISOString(), loads };
    await batches.write(batch);
    const again = await batches.members(batchId);
    if (again.length === loads.length) break;
    loads = again;
  }
  return checkAndStart(batch, deps, lock);
};
