import type { Clock, ObjectStore, Warehouse } from '../../shared/ports/index.js';
import { noMetrics, type Metrics } from '../../shared/ports/metrics.js';
import { batchObserver } from '../../shared/transform/batch-observer.js';
import {
  BatchProtocol,
  type BuildOutcome,
  type FinishResult,
} from '../../shared/transform/batch-protocol.js';

export interface StageCleanupDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly clock: Clock;
  /** Where dbt's duration and the runs' outcomes go (none on one machine). */
  readonly metrics?: Metrics;
}

/** How a dbt run ended, as its task's stop event tells it. */
export type TransformOutcome = BuildOutcome;

/** What the clean-up did, in a few fields whatever the batch's size. */
export type CleanupResult = FinishResult;

/**
 * When dbt stops, success or not: the batch protocol empties the stage of the batch's loads
 * (invariant 3), gives every load's run record the batch's outcome, and lets the next transform
 * have the warehouse. Doing it twice (a redelivered event) is harmless, and emits its figures
 * (dbt's duration, the runs' outcomes) once.
 *
 * @throws {InvalidRecordError} if the lake has no such batch; the lock is released all the same.
 */
export const finishTransform = (outcome: TransformOutcome, deps: StageCleanupDeps): Promise<CleanupResult> =>
  new BatchProtocol(deps.store, deps.clock).finish(
    outcome,
    (loads) => deps.warehouse.cleanStage(loads),
    batchObserver(deps.metrics ?? noMetrics),
  );
