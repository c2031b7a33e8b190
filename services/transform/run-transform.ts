import type { StageLoaded, TransformRequested } from '../../shared/records/messages.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import { transformWork, type TransformDeps, type TransformResult } from './transform-batch.js';

export type { TransformDeps, TransformResult } from './transform-batch.js';

/**
 * On "Stage Loaded". A day loaded on its own is transformed on its own: a batch of one, named by its
 * load id. A backfill's load waits for its batch's "Transform Requested", unless that batch was
 * already fixed without it (a day that completed late): then it is transformed on its own too.
 *
 * @throws {TransformBusyError} while another batch holds the warehouse
 */
export const runTransform = (loaded: StageLoaded, deps: TransformDeps): Promise<TransformResult> => {
  const { runId, loadId, chartId, chartDate, batchId } = loaded;
  return new BatchProtocol(deps.store, deps.clock, deps.lock).startLoad(
    { runId, loadId, chartId, chartDate },
    batchId,
    transformWork(deps),
  );
};

/**
 * On "Transform Requested" (a backfill, once its days are loaded): fixes the batch as the loads that
 * joined it, then checks them all and starts one dbt build for all of them.
 *
 * @throws {TransformBusyError} while another batch holds the warehouse
 */
export const runRequestedTransform = (
  request: TransformRequested,
  deps: TransformDeps,
): Promise<TransformResult> =>
  new BatchProtocol(deps.store, deps.clock, deps.lock).startRequested(request.batchId, transformWork(deps));
