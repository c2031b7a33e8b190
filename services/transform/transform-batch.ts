import type { Clock, ObjectStore, TransformRunner, Warehouse } from '../../shared/ports/index.js';
import {
  maxNamedFailures,
  RunRecords,
  type RunBatch,
  type RunRecord,
} from '../../shared/lake/run-records.js';
import type { BatchLoad, TransformBatch } from '../../shared/lake/transform-batches.js';
import type { TransformLock } from '../../shared/lake/transform-lock.js';
import { RetryableError, TransformBusyError } from '../../shared/errors.js';
import { runChecks } from './checks.js';

export interface TransformDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly runner: TransformRunner;
  readonly clock: Clock;
}

/** What a transform invocation did, in a few fields whatever the batch's size. */
export type TransformResult =
  | {
      /** A backfill's load: its batch's "Transform Requested" transforms it with the others. */
      readonly outcome: 'deferred';
      readonly batchId: string;
      readonly loadId: string;
    }
  | {
      /** Already transformed or under way (a redelivered event): nothing was done again. */
      readonly outcome: 'already_handled' | 'empty';
      readonly batchId: string;
    }
  | {
      readonly outcome: 'checks_failed' | 'transforming' | 'transform_failed';
      readonly batchId: string;
      readonly loads: number;
      /** Loads that failed their checks (the whole batch then fails them). */
      readonly failedLoads: number;
    };

/**
 * Takes the warehouse for a batch (invariant 5): one transform at a time. A busy warehouse is a
 * retryable error, so the event is delivered again later.
 */
export const acquireWarehouse = async (lock: TransformLock, batchId: string): Promise<void> => {
  if (await lock.acquire(batchId)) return;
  const holder = await lock.holder();
  throw new TransformBusyError(
    `another transform (batch ${holder?.batchId ?? 'unknown'}) holds the warehouse`,
  );
};

/**
 * Whether a batch's loads were already taken through the transform (a redelivered event): each
 * record is past `loaded`. While dbt runs (`transforming`) the batch keeps the lock; otherwise it
 * gives it back, since taking it again was this redelivery's doing.
 */
export const alreadyHandled = async (
  batch: TransformBatch,
  deps: TransformDeps,
  lock: TransformLock,
): Promise<boolean> => {
  const records = await Promise.all(
    batch.loads.map((l) => new RunRecords(deps.store).read(l, l.runId, l.loadId)),
  );
  const ofBatch = records.filter((r) => r?.batch?.batchId === batch.batchId && r.status !== 'loaded');
  if (ofBatch.length < batch.loads.length) return false;
  if (!ofBatch.some((r) => r!.status === 'transforming')) await lock.release(batch.batchId);
  return true;
};

/**
 * Checks every load of a batch on the stage, then starts one dbt build for all of them; the lock
 * is held. One outcome for the whole batch: if any load fails its checks, none is transformed, the
 * stage loses every load of the batch, and every run record says `checks_failed` and names the
 * loads that failed. Passing checks start dbt, whose end (success or not) reaches the stage clean-up.
 */
export const checkAndStart = async (
  batch: TransformBatch,
  deps: TransformDeps,
  lock: TransformLock,
): Promise<TransformResult> => {
  const { store, warehouse, runner, clock } = deps;
  const records = new RunRecords(store);
  const { batchId, loads } = batch;

  const started = clock.now().getTime();
  const checks = await runChecks(warehouse, loads);
  const checksMs = clock.now().getTime() - started;
  const checksOf = new Map(loads.map((load, i) => [load.loadId, checks[i]!]));
  const failed = loads.filter((_, i) => checks[i]!.some((c) => !c.passed));
  const runBatch: RunBatch = {
    batchId,
    loads: loads.length,
    failedLoads: failed.length,
    failed: failed.slice(0, maxNamedFailures).map((load) => ({
      chartId: load.chartId,
      chartDate: load.chartDate,
      checks: checksOf
        .get(load.loadId)!
        .filter((c) => !c.passed)
        .map((c) => c.name),
    })),
  };
  const next = (previous: RunRecord | undefined, load: BatchLoad, patch: Partial<RunRecord>): RunRecord => {
    const base = previous ?? { ...load, status: 'loaded', rows: {}, checks: [], timings: {} };
    return {
      ...base,
      checks: checksOf.get(load.loadId)!,
      timings: { ...base.timings, checksMs },
      batch: runBatch,
      ...patch,
      updatedAt: clock.now().toISOString(),
    } as RunRecord;
  };

  if (failed.length > 0) {
    await warehouse.cleanStage(loads);
    await records.update(loads, (previous, load) => next(previous, load, { status: 'checks_failed' }));
    await lock.release(batchId);
    return { outcome: 'checks_failed', batchId, loads: loads.length, failedLoads: failed.length };
  }

  // Recorded before dbt starts: its clean-up may finish before `start` returns, and must not be overwritten.
  const startedAt = clock.now().toISOString();
  await records.update(loads, (previous, load) =>
    next(previous, load, { status: 'transforming', transform: { taskId: 'starting', startedAt } }),
  );
  try {
    await runner.start({ batchId });
    return { outcome: 'transforming', batchId, loads: loads.length, failedLoads: 0 };
  } catch (error) {
    if (error instanceof RetryableError) {
      // dbt could not be placed for now (Fargate capacity, an ENI, throttling): the loads stay in the
      // stage and the batch keeps the warehouse. Its records go back to `loaded`, so that the event,
      // delivered again, checks and starts the batch anew instead of taking it for already handled.
      await records.update(loads, (previous, load) => {
        const { transform: _transform, ...rest } = next(previous, load, { status: 'loaded' });
        return rest as RunRecord;
      });
      throw error;
    }
    // dbt never started, so no clean-up event will come: clean up here.
    await warehouse.cleanStage(loads);
    const now = clock.now().toISOString();
    await records.update(loads, (previous, load) =>
      next(previous, load, {
        status: 'transform_failed',
        transform: {
          taskId: 'not-started',
          startedAt,
          finishedAt: now,
          message: `dbt could not be started: ${(error as Error).message}`,
        },
      }),
    );
    await lock.release(batchId);
    return { outcome: 'transform_failed', batchId, loads: loads.length, failedLoads: 0 };
  }
};
