import type { Clock, ObjectStore, Warehouse } from '../../shared/ports/index.js';
import type { TransformRequest } from '../../shared/ports/transform-runner.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import { TransformLock } from '../../shared/lake/transform-lock.js';
import { InvalidRecordError } from '../../shared/errors.js';

export interface StageCleanupDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly clock: Clock;
}

/** How a dbt run ended, as its task's stop event tells it. */
export interface TransformOutcome extends TransformRequest {
  readonly taskId: string;
  readonly succeeded: boolean;
  /** dbt's own words (its error), or the container's stop reason. */
  readonly message?: string;
}

/** What the clean-up did, in a few fields whatever the batch's size. */
export interface CleanupResult {
  readonly batchId: string;
  readonly status: Extract<RunRecord['status'], 'succeeded' | 'transform_failed'>;
  readonly loads: number;
}

/**
 * When dbt stops, success or not: empty the stage of the batch's loads (invariant 3), give every
 * load's run record the batch's outcome, and let the next transform have the warehouse. Doing it
 * twice (a redelivered event) is harmless.
 *
 * @throws {InvalidRecordError} if the lake has no such batch; the lock is released all the same.
 */
export const finishTransform = async (
  outcome: TransformOutcome,
  deps: StageCleanupDeps,
): Promise<CleanupResult> => {
  const { store, warehouse, clock } = deps;
  const lock = new TransformLock(store, clock);
  const batch = await new TransformBatches(store).read(outcome.batchId);
  if (!batch) {
    await lock.release(outcome.batchId);
    throw new InvalidRecordError(
      `dbt task ${outcome.taskId} stopped for batch ${outcome.batchId}, which the lake does not have`,
    );
  }
  await warehouse.cleanStage(batch.loads);
  const now = clock.now();
  const status = outcome.succeeded ? 'succeeded' : 'transform_failed';
  await new RunRecords(store).update(batch.loads, (previous, load): RunRecord => {
    const startedAt = previous?.transform?.startedAt ?? now.toISOString();
    return {
      ...load,
      rows: previous?.rows ?? {},
      checks: previous?.checks ?? [],
      status,
      timings: { ...previous?.timings, dbtMs: now.getTime() - Date.parse(startedAt) },
      batch: previous?.batch ?? {
        batchId: batch.batchId,
        loads: batch.loads.length,
        failedLoads: 0,
        failed: [],
      },
      transform: {
        taskId: outcome.taskId,
        startedAt,
        finishedAt: now.toISOString(),
        ...(outcome.message ? { message: outcome.message } : {}),
      },
      updatedAt: now.toISOString(),
    };
  });
  await lock.release(outcome.batchId);
  return { batchId: batch.batchId, status, loads: batch.loads.length };
};
