import type { Clock, ObjectStore, TransformRunner, Warehouse } from '../../shared/ports/index.js';
import { noMetrics, type Metrics } from '../../shared/ports/metrics.js';
import type { BatchWork, StartResult } from '../../shared/transform/batch-protocol.js';
import { batchObserver } from '../../shared/transform/batch-observer.js';
import type { TransformLockOptions } from '../../shared/lake/transform-lock.js';
import { runChecks } from './checks.js';
import { readManifest } from '../../shared/lake/manifests.js';

export interface TransformDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly runner: TransformRunner;
  readonly clock: Clock;
  /** Locally: who takes the lock, how to tell its holder lives, who is told of waits (none on AWS: the TTL). */
  readonly lock?: TransformLockOptions;
  /** Where the checks failed and the outcomes of dbt that never started go (none on one machine). */
  readonly metrics?: Metrics;
}

/** What a transform invocation did, in a few fields whatever the batch's size. */
export type TransformResult = StartResult;

/**
 * What the batch protocol asks of the transform: this service's checks on the stage, the stage's
 * clean-up, and one dbt build. The protocol decides when each runs, and records what came of it;
 * the batch's ids go on the log lines, its figures to the metrics.
 */
export const transformWork = ({ store, warehouse, runner, metrics }: TransformDeps): BatchWork => ({
  check: (loads) => runChecks(warehouse, loads, (slice) => readManifest(store, slice)),
  cleanStage: (loads) => warehouse.cleanStage(loads),
  build: async (batchId) => {
    await runner.start({ batchId });
  },
  observer: batchObserver(metrics ?? noMetrics),
});
