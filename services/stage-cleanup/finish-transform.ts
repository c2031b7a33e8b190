import type { Clock, ObjectStore, Warehouse } from '../../shared/ports/index.js';
import type { TransformRequest } from '../../shared/ports/transform-runner.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { TransformLock } from '../../shared/lake/transform-lock.js';

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

/**
 * When dbt stops, success or not: empty the run's stage rows (invariant 3), record the outcome,
 * and let the next transform have the warehouse. Doing it twice (a redelivered event) is harmless.
 */
export const finishTransform = async (
  outcome: TransformOutcome,
  deps: StageCleanupDeps,
): Promise<RunRecord> => {
  const { store, warehouse, clock } = deps;
  await warehouse.cleanStage(outcome);
  const records = new RunRecords(store);
  const now = clock.now();
  const previous = await records.read(outcome, outcome.runId, outcome.loadId);
  const startedAt = previous?.transform?.startedAt ?? now.toISOString();
  const record: RunRecord = {
    runId: outcome.runId,
    loadId: outcome.loadId,
    chartId: outcome.chartId,
    chartDate: outcome.chartDate,
    rows: previous?.rows ?? {},
    checks: previous?.checks ?? [],
    status: outcome.succeeded ? 'succeeded' : 'transform_failed',
    timings: { ...previous?.timings, dbtMs: now.getTime() - Date.parse(startedAt) },
    transform: {
      taskId: outcome.taskId,
      startedAt,
      finishedAt: now.toISOString(),
      ...(outcome.message ? { message: outcome.message } : {}),
    },
    updatedAt: now.toISOString(),
  };
  await records.write(record);
  await new TransformLock(store, clock).release(outcome.loadId);
  return record;
};
