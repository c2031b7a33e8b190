import type { Clock, ObjectStore } from '../ports/index.js';
import { RetryableError, TransformBusyError, InvalidRecordError } from '../errors.js';
import {
  maxNamedFailures,
  RunRecords,
  type CheckResult,
  type RunBatch,
  type RunRecord,
  type RunStatus,
} from '../lake/run-records.js';
import { TransformBatches, type BatchLoad, type TransformBatch } from '../lake/transform-batches.js';
import { lakeKeys } from '../lake/keys.js';
import { describeProblems, type FileProblem } from '../lake/lake-files.js';
import {
  TransformLock,
  type LockHolder,
  type LockState,
  type TransformLockOptions,
} from '../lake/transform-lock.js';

/**
 * The life of a transform batch, in one place: the only code that takes and gives back the
 * warehouse lock, and the only writer of run records (a load's record is written by the loader
 * through {@link BatchProtocol.recordLoad}, every later status by this module).
 *
 * A batch goes requested → checking → building → cleaning → succeeded | failed. The run records
 * (and `chartflow status`) keep their statuses; the phases map onto them so:
 *
 * | phase      | run record status                     | lock            |
 * |------------|---------------------------------------|-----------------|
 * | requested  | `loaded`                              | free, or waited for |
 * | checking   | `loaded` (not written while it lasts) | held            |
 * | building   | `transforming`                        | held            |
 * | cleaning   | `transforming` (until the outcome)    | held            |
 * | succeeded  | `succeeded`                           | released        |
 * | failed     | `checks_failed` or `transform_failed` | released        |
 *
 * A batch whose dbt could not be placed for now (a {@link RetryableError} from the start) goes back
 * from building to requested: its records say `loaded` again and it keeps the lock, so that the
 * event, delivered again, checks and starts it anew.
 */
export const batchPhases = ['requested', 'checking', 'building', 'cleaning', 'succeeded', 'failed'] as const;
export type BatchPhase = (typeof batchPhases)[number];

const phaseOf: Readonly<Record<RunStatus, BatchPhase>> = {
  loaded: 'requested',
  transforming: 'building',
  succeeded: 'succeeded',
  checks_failed: 'failed',
  transform_failed: 'failed',
  interrupted: 'failed',
  not_loaded: 'failed',
};

/** The phase a run record's status says its batch is in (checking and cleaning are never written). */
export const phaseOfStatus = (status: RunStatus): BatchPhase => phaseOf[status];

/** What the protocol asks of the transform: its checks, the stage, and dbt. */
export interface BatchWork {
  /** Every check on each load of the stage, in the loads' order. */
  readonly check: (loads: readonly BatchLoad[]) => Promise<CheckResult[][]>;
  /** Empties the stage of these loads (invariant 3). */
  readonly cleanStage: (loads: readonly BatchLoad[]) => Promise<void>;
  /** Starts one dbt build for the batch; its end reaches {@link BatchProtocol.finish}. */
  readonly build: (batchId: string) => Promise<void>;
  /** Told what becomes of the batch (its log keys, its metrics); none is told nothing. */
  readonly observer?: BatchObserver;
}

/**
 * Who hears what becomes of a batch: the services' logs and metrics (docs/aws.md, "Metrics and
 * the dashboard"). It is told, never asked: what it does changes nothing of the protocol.
 */
export interface BatchObserver {
  /** The batch's loads are known: before its checks, and before its clean-up. */
  readonly batch?: (batch: TransformBatch) => void;
  /** Its checks ran: how many failed, summed over its loads (0 when they all passed). */
  readonly checked?: (failedChecks: number) => void;
  /** It reached its outcome, announced once: a stop event delivered again is not announced again. */
  readonly ended?: (ended: BatchEnded) => void;
}

/** A batch at its outcome, as {@link BatchObserver.ended} hears it. */
export interface BatchEnded {
  readonly batchId: string;
  readonly status: 'succeeded' | 'checks_failed' | 'transform_failed';
  /** The runs given the outcome, per chart. */
  readonly runsPerChart: Readonly<Record<string, number>>;
  /** How long dbt ran, when it ran: the task's own start and stop, else from its start being asked. */
  readonly dbtSeconds?: number;
}

/** What a transform invocation did, in a few fields whatever the batch's size. */
export type StartResult =
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

/** How a dbt run ended, as its task's stop event tells it. */
export interface BuildOutcome {
  readonly batchId: string;
  readonly taskId: string;
  readonly succeeded: boolean;
  /** dbt's own words (its error), or the container's stop reason. */
  readonly message?: string;
  /** When the task started and stopped (ISO 8601), when its stop event says so. */
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

/** What the clean-up did, in a few fields whatever the batch's size. */
export interface FinishResult {
  readonly batchId: string;
  readonly status: Extract<RunRecord['status'], 'succeeded' | 'transform_failed'>;
  readonly loads: number;
}

/** A load as the loader records it: which slice of the stage, how many rows, how long it took. */
export interface RecordedLoad extends BatchLoad {
  readonly rows: Readonly<Record<string, number>>;
  readonly loadMs: number;
  /** What landing the day took, from its manifests (`RunRecord.landing`), when they kept it. */
  readonly landing?: RunRecord['landing'];
}

/** What a hold on the warehouse ends with: the result, and whether the batch keeps the lock. */
interface HoldEnd<T> {
  readonly result: T;
  readonly keepLock: boolean;
}

/** The transform batches' life: see the module's TSDoc. */
export class BatchProtocol {
  readonly #records: RunRecords;
  readonly #batches: TransformBatches;
  readonly #lock: TransformLock;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    lock: TransformLockOptions = {},
  ) {
    this.#records = new RunRecords(store);
    this.#batches = new TransformBatches(store);
    this.#lock = new TransformLock(store, clock, lock);
  }

  /**
   * A load is in the stage (requested): its record says `loaded`. A backfill's load joins its
   * batch, unless the batch was already fixed (a replay, a day that completed late): then it is a
   * batch of its own. Returns the batch the load waits for, if any.
   */
  async recordLoad(load: RecordedLoad, backfillBatchId?: string): Promise<{ batchId?: string }> {
    const { rows, loadMs, landing, ...slice } = load;
    await this.#records.write({
      ...slice,
      status: 'loaded',
      rows: { ...rows },
      checks: [],
      timings: { loadMs },
      ...(landing ? { landing } : {}),
      updatedAt: this.clock.now().toISOString(),
    });
    if (!backfillBatchId || (await this.#batches.read(backfillBatchId))) return {};
    await this.#batches.join(backfillBatchId, slice);
    return { batchId: backfillBatchId };
  }

  /**
   * On "Stage Loaded". A day loaded on its own is transformed on its own: a batch of one, named by
   * its load id. A backfill's load waits for its batch's "Transform Requested", unless that batch
   * was already fixed without it (a day that completed late): then it is transformed on its own too.
   *
   * @throws {TransformBusyError} while another batch holds the warehouse
   */
  async startLoad(
    load: BatchLoad,
    backfillBatchId: string | undefined,
    work: BatchWork,
  ): Promise<StartResult> {
    const deferred = async () =>
      backfillBatchId !== undefined && includes(await this.#batches.read(backfillBatchId), load);
    if (await deferred()) return { outcome: 'deferred', batchId: backfillBatchId!, loadId: load.loadId };

    const batch: TransformBatch = {
      batchId: load.loadId,
      createdAt: this.clock.now().toISOString(),
      loads: [load],
    };
    return this.#holding(batch.batchId, async () => {
      // A late load seen just as its batch was fixed may have made it in after all: the batch holds
      // the lock from before it is fixed until its clean-up, so what it holds now is final.
      if (await deferred()) {
        return {
          result: { outcome: 'deferred', batchId: backfillBatchId!, loadId: load.loadId },
          keepLock: false,
        };
      }
      const handled = await this.#alreadyHandled(batch);
      if (handled) return handled;
      await this.#batches.write(batch);
      return this.#checkAndBuild(batch, work);
    });
  }

  /**
   * On "Transform Requested" (a backfill, once its days are loaded): fixes the batch as the loads
   * that joined it, then checks them all and starts one dbt build for all of them.
   *
   * @throws {TransformBusyError} while another batch holds the warehouse
   */
  async startRequested(batchId: string, work: BatchWork): Promise<StartResult> {
    return this.#holding(batchId, async () => {
      const fixed = await this.#batches.read(batchId);
      const handled = fixed && (await this.#alreadyHandled(fixed));
      if (handled) return handled;

      // Fixed first, then listed again: a load that joined in between saw no fixed batch and
      // deferred to it, so it must be in; one that joins after the second look sees itself left
      // out and runs alone.
      let loads = await this.#batches.members(batchId);
      if (loads.length === 0) return { result: { outcome: 'empty', batchId }, keepLock: false };
      let batch: TransformBatch;
      for (;;) {
        batch = { batchId, createdAt: this.clock.now().toISOString(), loads };
        await this.#batches.write(batch);
        const again = await this.#batches.members(batchId);
        if (again.length === loads.length) break;
        loads = again;
      }
      return this.#checkAndBuild(batch, work);
    });
  }

  /**
   * When dbt stops, success or not (cleaning → succeeded | failed): empty the stage of the batch's
   * loads (invariant 3), give every load's run record the batch's outcome, and let the next
   * transform have the warehouse. Doing it twice (a redelivered event) is harmless.
   *
   * @throws {InvalidRecordError} if the lake has no such batch; the lock is released all the same.
   */
  async finish(
    outcome: BuildOutcome,
    cleanStage: BatchWork['cleanStage'],
    observer: BatchObserver = {},
  ): Promise<FinishResult> {
    const batch = await this.#batches.read(outcome.batchId);
    if (!batch) {
      await this.#release(outcome.batchId);
      throw new InvalidRecordError(
        `dbt task ${outcome.taskId} stopped for batch ${outcome.batchId}, which the lake does not have`,
      );
    }
    observer.batch?.(batch);
    await cleanStage(batch.loads);
    const status = outcome.succeeded ? 'succeeded' : 'transform_failed';
    const recorded = await this.#recordOutcome(batch, outcome, status);
    // Told as soon as the outcome is recorded: a failure after it (the release) is retried, and the
    // retry finds the outcome recorded, so it would never be told.
    if (recorded.first) {
      observer.ended?.({
        batchId: batch.batchId,
        status,
        runsPerChart: runsPerChart(batch.loads),
        dbtSeconds: dbtSecondsOf(outcome) ?? recorded.dbtMs / 1000,
      });
    }
    await this.#release(outcome.batchId);
    return { batchId: batch.batchId, status, loads: batch.loads.length };
  }

  /**
   * The loads a batch never finished: every run record still `loaded` or `transforming` (requested,
   * building). Meant for when no transform runs (recovery on start, an interrupt): then nothing
   * will ever finish them.
   */
  async unfinished(): Promise<BatchLoad[]> {
    return (await this.#allRecords())
      .filter((r) => ['requested', 'building'].includes(phaseOfStatus(r.status)))
      .map(({ runId, loadId, chartId, chartDate }) => ({ runId, loadId, chartId, chartDate }));
  }

  /**
   * The days whose newest load was interrupted and never loaded again since: what the next run
   * completes (docs/reliability.md, "Interrupted runs").
   */
  async interruptedDays(): Promise<{ chartId: string; chartDate: string }[]> {
    const newest = new Map<string, RunRecord>();
    for (const record of await this.#allRecords()) {
      const day = `${record.chartId}/${record.chartDate}`;
      if (!newest.has(day)) newest.set(day, record);
    }
    return [...newest.values()]
      .filter((r) => r.status === 'interrupted')
      .map(({ chartId, chartDate }) => ({ chartId, chartDate }));
  }

  /** Gives loads whose batch was stopped part-way the status `interrupted`, and says why. */
  async recordInterrupted(loads: readonly BatchLoad[], reason: string): Promise<void> {
    const now = this.clock.now().toISOString();
    await this.#records.update(loads, (previous, load): RunRecord => {
      const base: RunRecord = previous ?? {
        ...load,
        // Stryker disable next-line StringLiteral: the record returned below always replaces the base's status with 'interrupted'
        status: 'loaded',
        rows: {},
        checks: [],
        timings: {},
        updatedAt: now,
      };
      const transform = base.transform && { ...base.transform, finishedAt: now };
      return { ...base, status: 'interrupted', reason, ...(transform ? { transform } : {}), updatedAt: now };
    });
  }

  /**
   * Backfill batches a stop left unrequested (loads joined them; no "Transform Requested" fixed
   * them), after recovery reloaded their days. Their interrupted members leave them (their stage
   * rows are gone; the reloads joined instead); returns those with loads still waiting, to request.
   */
  async unrequestedBatches(): Promise<string[]> {
    const keys = (await this.store.list(batchesRoot)).map(({ key }) => key);
    const fixed = new Set(keys.filter((k) => k.endsWith('/batch.json')).map(batchOfKey));
    const open = [
      ...new Set(
        // Stryker disable next-line MethodExpression,StringLiteral: without this filter (or with '' for '/loads/', which every key includes) the ids also come from batch.json and expected.json: a fixed batch's are filtered out below, and a batch with no member file has no members, so it is never waiting and has no member to delete
        keys.filter((k) => k.includes('/loads/')).map(batchOfKey),
      ),
    ].filter((id): id is string => id !== undefined && !fixed.has(id));
    const waiting: string[] = [];
    for (const id of open) {
      const members = await this.#batches.members(id);
      const records = await this.#readAll(members);
      const gone = members.filter((_, i) => records[i]?.status === 'interrupted');
      for (const m of gone)
        await this.store.delete(lakeKeys.batchMember(id, m.chartDate, m.chartId, m.loadId));
      if (records.some((r) => r?.status === 'loaded')) waiting.push(id);
    }
    return waiting;
  }

  /** Who holds the warehouse and may not be disturbed (alive, or within the TTL); `undefined` if nobody. */
  liveHolder(): Promise<LockHolder | undefined> {
    return this.#lock.liveHolder();
  }

  /** Gives back the lock of a holder whose process is gone; returns who held it, if it did. */
  releaseDeadLock(): Promise<LockHolder | undefined> {
    return this.#lock.releaseDead();
  }

  /** The transform lock as it stands (its holder, and whether it may be taken), or `undefined` if free. */
  lockState(): Promise<LockState | undefined> {
    return this.#lock.inspect();
  }

  /**
   * Gives back a lock whose holder is dead or silent past its TTL, only if `batchId` (when named)
   * holds it and it is still the version read: the reconciler's repair of a batch whose clean-up
   * never came, or of a lock left by one. A lock within its TTL is never touched.
   */
  releaseStaleLock(batchId?: string): Promise<boolean> {
    return this.#lock.releaseStale(batchId);
  }

  /**
   * Holds the warehouse for a batch (invariant 5) while `body` runs, and gives it back if `body`
   * says so. A body that throws keeps it, as a batch whose records say `loaded` or `transforming`
   * must: its event comes again, or its clean-up does. The one place the lock is taken.
   */
  async #holding(batchId: string, body: () => Promise<HoldEnd<StartResult>>): Promise<StartResult> {
    if (!(await this.#lock.acquire(batchId))) {
      const holder = await this.#lock.holder();
      throw new TransformBusyError(
        `another transform (batch ${holder?.batchId ?? 'unknown'}) holds the warehouse`,
      );
    }
    const { result, keepLock } = await body();
    if (!keepLock) await this.#release(batchId);
    return result;
  }

  /** The one place the lock is given back. */
  async #release(batchId: string): Promise<void> {
    await this.#lock.release(batchId);
  }

  /**
   * Whether a batch's loads were already taken through the transform (a redelivered event): each
   * record is past `loaded`. While dbt runs (building) the batch keeps the lock; otherwise it gives
   * it back, since taking it again was this redelivery's doing.
   */
  async #alreadyHandled(batch: TransformBatch): Promise<HoldEnd<StartResult> | undefined> {
    const records = await this.#readAll(batch.loads);
    const ofBatch = records.filter(
      (r) => r?.batch?.batchId === batch.batchId && phaseOfStatus(r.status) !== 'requested',
    );
    if (ofBatch.length < batch.loads.length) return undefined;
    return {
      result: { outcome: 'already_handled', batchId: batch.batchId },
      keepLock: ofBatch.some((r) => phaseOfStatus(r!.status) === 'building'),
    };
  }

  /**
   * checking → building, or → failed: checks every load of a batch on the stage, then starts one
   * dbt build for all of them. One outcome for the whole batch: if any load fails its checks, none
   * is transformed, the stage loses every load of the batch, and every run record says
   * `checks_failed` and names the loads that failed.
   */
  async #checkAndBuild(batch: TransformBatch, work: BatchWork): Promise<HoldEnd<StartResult>> {
    const { batchId, loads } = batch;
    const { observer = {} } = work;
    observer.batch?.(batch);
    const started = this.clock.now().getTime();
    const checks = await work.check(loads);
    const checksMs = this.clock.now().getTime() - started;
    const checksOf = new Map(loads.map((load, i) => [load.loadId, checks[i]!]));
    const failed = loads.filter((_, i) => checks[i]!.some((c) => !c.passed));
    // Told once the checks' outcome is recorded, so that an event retried before then counts them once.
    const checked = () => observer.checked?.(checks.flat().filter((c) => !c.passed).length);
    const ended = (status: BatchEnded['status']) =>
      observer.ended?.({ batchId, status, runsPerChart: runsPerChart(loads) });
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
    const write = (patch: (previous: RunRecord) => Partial<RunRecord>) =>
      this.#records.update(loads, (previous, load) => {
        // Stryker disable next-line StringLiteral,ArrayDeclaration: every patch sets the status and the checks are set from checksOf below, so the base's status and checks never reach the record
        const base = previous ?? { ...load, status: 'loaded', rows: {}, checks: [], timings: {} };
        const { transform: _transform, ...rest } = base as RunRecord;
        return {
          ...rest,
          checks: checksOf.get(load.loadId)!,
          timings: { ...base.timings, checksMs },
          batch: runBatch,
          ...patch(base as RunRecord),
          updatedAt: this.clock.now().toISOString(),
        } as RunRecord;
      });
    const counts = { batchId, loads: loads.length };

    if (failed.length > 0) {
      await work.cleanStage(loads);
      await write((previous) => ({ status: 'checks_failed', ...keepTransform(previous) }));
      checked();
      ended('checks_failed');
      return { result: { outcome: 'checks_failed', ...counts, failedLoads: failed.length }, keepLock: false };
    }

    // Recorded before dbt starts: its clean-up may finish before `build` returns, and must not be overwritten.
    const startedAt = this.clock.now().toISOString();
    await write(() => ({ status: 'transforming', transform: { taskId: 'starting', startedAt } }));
    checked();
    try {
      await work.build(batchId);
      return { result: { outcome: 'transforming', ...counts, failedLoads: 0 }, keepLock: true };
    } catch (error) {
      if (error instanceof RetryableError) {
        // dbt could not be placed for now (Fargate capacity, an ENI, throttling): building → requested.
        await write(() => ({ status: 'loaded' }));
        throw error;
      }
      // dbt never started, so no clean-up event will come: clean up here.
      await work.cleanStage(loads);
      await write(() => ({
        status: 'transform_failed',
        transform: {
          taskId: 'not-started',
          startedAt,
          finishedAt: this.clock.now().toISOString(),
          message: `dbt could not be started: ${(error as Error).message}`,
        },
      }));
      ended('transform_failed');
      return { result: { outcome: 'transform_failed', ...counts, failedLoads: 0 }, keepLock: false };
    }
  }

  /**
   * cleaning → succeeded | failed: every load's record gets the batch's outcome. Says whether this
   * is the first time (a load's record did not have it from this task yet), and dbt's time as the
   * records count it.
   */
  async #recordOutcome(
    batch: TransformBatch,
    outcome: BuildOutcome,
    status: FinishResult['status'],
  ): Promise<{ first: boolean; dbtMs: number }> {
    const now = this.clock.now();
    let first = false;
    const records = await this.#records.update(batch.loads, (previous, load): RunRecord => {
      const startedAt = previous?.transform?.startedAt ?? now.toISOString();
      const had = previous?.transform;
      if (previous?.status !== status || had?.taskId !== outcome.taskId || had.finishedAt === undefined)
        first = true;
      return {
        ...load,
        rows: previous?.rows ?? {},
        checks: previous?.checks ?? [],
        ...(previous?.landing ? { landing: previous.landing } : {}),
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
    return { first, dbtMs: Math.max(0, ...records.map((r) => r.timings.dbtMs ?? 0)) };
  }

  /** Every run record, newest day first and within a day newest load first. */
  #allRecords(): Promise<RunRecord[]> {
    return this.#records.latest({
      limit: Number.MAX_SAFE_INTEGER,
      today: this.clock.now().toISOString().slice(0, 10),
    });
  }

  #readAll(loads: readonly BatchLoad[]): Promise<(RunRecord | undefined)[]> {
    return Promise.all(loads.map((l) => this.#records.read(l, l.runId, l.loadId)));
  }

  /**
   * A run that never reached the stage (chart-fetch failed for good, the day never completed): its
   * record says `not_loaded`, with the reason in a sentence, so that `chartflow status` shows it. It
   * has no load, so the record is keyed by the run itself (load id = run id): recording it again
   * rewrites the same record, and a load that still comes later writes its own, newer one.
   */
  async recordNotLoaded(
    run: { chartId: string; chartDate: string; runId: string },
    reason: string,
    { deadLettered }: { deadLettered?: number } = {},
  ) {
    return this.#writeNotLoaded({ ...run, loadId: run.runId }, reason, [], deadLettered);
  }

  /**
   * A load the stage loader refused, before anything was staged: files of the day are not what
   * their manifests say (damaged, cut, gone). Its record says `not_loaded`, naming each file and how
   * it differs; it is keyed by the refused load, so that it is the day's newest record.
   */
  async recordRefused(load: BatchLoad, problems: readonly FileProblem[]) {
    return this.#writeNotLoaded(load, refusalReason(problems), problems);
  }

  async #writeNotLoaded(
    load: BatchLoad,
    reason: string,
    // Stryker disable next-line ArrayDeclaration: both callers pass the problems (recordNotLoaded an empty list), so the default is never used
    problems: readonly FileProblem[] = [],
    deadLettered?: number,
  ) {
    const record: RunRecord = {
      chartId: load.chartId,
      chartDate: load.chartDate,
      runId: load.runId,
      loadId: load.loadId,
      status: 'not_loaded',
      rows: {},
      checks: [],
      timings: {},
      reason,
      ...(deadLettered !== undefined ? { deadLettered } : {}),
      ...(problems.length > 0
        ? { damagedFiles: problems.map(({ key, kind, detail }) => ({ key, kind, detail })) }
        : {}),
      updatedAt: this.clock.now().toISOString(),
    };
    await this.#records.write(record);
    return record;
  }
}

/** Why a load was refused, in the sentence its record and the run summary's headline carry. */
export const refusalReason = (problems: readonly FileProblem[]): string =>
  `refused: ${problems.length === 1 ? 'a lake file is' : `${problems.length} lake files are`} not what ` +
  `the manifests say (${describeProblems(problems)}); nothing was staged and no file was changed ` +
  `(chartflow verify lists the lake's damaged files)`;

// Stryker disable next-line StringLiteral: listing the whole lake instead finds the same batches: batchOfKey gives no id for a key outside control/batches/, and those keys are filtered out
const batchesRoot = 'control/batches/';
const batchOfKey = (key: string): string | undefined => /^control\/batches\/batch=([^/]+)\//.exec(key)?.[1];

/** How many of the loads are of each chart. */
const runsPerChart = (loads: readonly BatchLoad[]): Record<string, number> => {
  const runs: Record<string, number> = {};
  for (const { chartId } of loads) runs[chartId] = (runs[chartId] ?? 0) + 1;
  return runs;
};

/** dbt's time from its task's own start and stop, when the stop event gave both. */
const dbtSecondsOf = ({ startedAt, stoppedAt }: BuildOutcome): number | undefined => {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: without this guard a missing time parses as NaN, and the Number.isFinite check below returns undefined as this does (the condition made always true is not equivalent, and the tests of dbt's time kill it, but a directive cannot tell it from the others)
  if (startedAt === undefined || stoppedAt === undefined) return undefined;
  const ms = Date.parse(stoppedAt) - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
};

const includes = (batch: TransformBatch | undefined, load: BatchLoad) =>
  batch === undefined || batch.loads.some((l) => l.loadId === load.loadId);

// A record that failed its checks keeps any transform it had: only the outcome is new.
const keepTransform = (previous: RunRecord): Partial<RunRecord> =>
  previous.transform ? { transform: previous.transform } : {};
