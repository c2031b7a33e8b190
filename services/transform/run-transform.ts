import type { Clock, ObjectStore, TransformRunner, Warehouse } from '../../shared/ports/index.js';
import type { StageLoaded } from '../../shared/records/messages.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { TransformLock } from '../../shared/lake/transform-lock.js';
import { TransformBusyError } from '../../shared/errors.js';
import { runChecks } from './checks.js';

export interface TransformDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly runner: TransformRunner;
  readonly clock: Clock;
}

/**
 * Checks a loaded day on the stage, then starts dbt. Failed checks clean the stage and record which
 * checks failed; passing checks start dbt, whose end (success or not) reaches the stage clean-up.
 * Only one transform runs against the warehouse at a time: a busy warehouse is a retryable error,
 * so the event is delivered again later.
 */
export const runTransform = async (loaded: StageLoaded, deps: TransformDeps): Promise<RunRecord> => {
  const { store, warehouse, runner, clock } = deps;
  const lock = new TransformLock(store, clock);
  if (!(await lock.acquire(loaded.loadId))) {
    const holder = await lock.holder();
    throw new TransformBusyError(
      `another transform (load ${holder?.loadId ?? 'unknown'}) holds the warehouse`,
    );
  }
  const records = new RunRecords(store);
  const previous = await records.read(loaded, loaded.runId, loaded.loadId);
  const base: RunRecord = previous ?? {
    ...loaded,
    status: 'loaded',
    checks: [],
    timings: {},
    updatedAt: clock.now().toISOString(),
  };

  const started = clock.now().getTime();
  const checks = await runChecks(warehouse, loaded);
  const timings = { ...base.timings, checksMs: clock.now().getTime() - started };
  if (checks.some((c) => !c.passed)) {
    await warehouse.cleanStage(loaded);
    const record: RunRecord = {
      ...base,
      status: 'checks_failed',
      checks,
      timings,
      updatedAt: clock.now().toISOString(),
    };
    await records.write(record);
    await lock.release(loaded.loadId);
    return record;
  }

  // Recorded before dbt starts: its clean-up may finish before `start` returns, and must not be overwritten.
  const transforming: RunRecord = {
    ...base,
    status: 'transforming',
    checks,
    timings,
    transform: { taskId: 'starting', startedAt: clock.now().toISOString() },
    updatedAt: clock.now().toISOString(),
  };
  await records.write(transforming);
  try {
    await runner.start(loaded);
    return transforming;
  } catch (error) {
    // dbt never started, so no clean-up event will come: clean up here.
    await warehouse.cleanStage(loaded);
    const record: RunRecord = {
      ...base,
      status: 'transform_failed',
      checks,
      timings,
      transform: {
        taskId: 'not-started',
        startedAt: clock.now().toISOString(),
        finishedAt: clock.now().toISOString(),
        message: `dbt could not be started: ${(error as Error).message}`,
      },
      updatedAt: clock.now().toISOString(),
    };
    await records.write(record);
    await lock.release(loaded.loadId);
    return record;
  }
};
