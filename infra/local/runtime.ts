import path from 'node:path';
import { Mutex } from 'async-mutex';
import pMap from 'p-map';
import type { LocalConfig } from '../../shared/config/config.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Queue } from '../../shared/ports/queue.js';
import type { TransformRunner } from '../../shared/ports/transform-runner.js';
import { FsObjectStore } from '../adapters/embedded/fs-object-store.js';
import type { MemoryQueue, QueueDepth } from '../adapters/embedded/memory-queue.js';
import { DuckDbWarehouse } from '../adapters/embedded/duckdb-warehouse.js';
import { PostgresWarehouse } from '../adapters/postgres/postgres-warehouse.js';
import { LocalDbtRunner } from '../adapters/embedded/local-dbt-runner.js';
import type { DbtWorker } from '../adapters/embedded/dbt-worker.js';
import { dbtWorkerFor } from './dbt-worker-for.js';
import { RequestCounter } from '../../shared/http/request-counter.js';
import {
  eventSource,
  transformRequestedDetailType,
  type ChartDay,
  type TransformRequested,
} from '../../shared/records/messages.js';
import type { LoadDecision } from '../../services/stage-loader/load-completed-days.js';
import type { ChartFetchResult } from '../../services/chart-fetch/fetch-chart.js';
import { newId } from '../../shared/ids.js';
import type { ReplayResult } from '../../services/replay/replay-day.js';
import type { Sandbox, SandboxOptions } from '../sandbox/server.js';
import { startSandboxThread, type SandboxEndpoints } from '../sandbox/thread.js';
import type { AsyncInvoker } from './async-invoker.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { PhaseClock } from './phase-clock.js';
import {
  summarizeBackfill,
  summarizeDay,
  whyNotLoaded,
  type BackfillSummary,
  type RunSummary,
} from './run-summary.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { PermanentError } from '../../shared/errors.js';
import { providersFor } from './providers.js';
import type { CircuitBreakers } from '../../shared/http/circuit-breaker.js';
import { EnrichProgress } from './enrich-progress.js';
import type { SpotifyAccess } from '../../shared/spotify/access.js';
import type { FunctionName } from '../topology.js';
import { LocalWiring, type LocalQueueSettings, type LocalWiringOptions } from './wiring.js';
import { asLocalTaskEvent, localFunctions, localStackReferences } from './functions.js';
import { relandChart, retryMissing, type RetryMissingResult } from './retry-missing.js';
import { reconcile, type ReconcileRequest } from '../../services/reconciler/reconcile.js';
import type { ReconcileReport } from '../../services/reconciler/report.js';
import { localReconcilerSettings } from '../reconciler-settings.js';
import { localLoaderTrigger } from './loader-trigger.js';
import type { LockHolder, LockProcess } from '../../shared/lake/transform-lock.js';
import { defaultLockWaitMs, LockWaits } from './lock-wait.js';
import {
  describeRecovery,
  localLockOptions,
  recoverInterrupted,
  thisProcess,
  type Recovered,
} from './recovery.js';

/**
 * Wrappers of the ports the pipeline builds, applied before its functions get them: how the chaos
 * suite injects faults at every port (docs/chaos.md). Each one takes the port and answers a port
 * that delegates to it. The wrapped store is the pipeline's own too (`store`: run records, recovery),
 * so that a process modelled as killed writes nothing more; the warehouse and runner are wrapped for
 * the functions only.
 */
export interface PortWrappers {
  readonly store?: (store: ObjectStore) => ObjectStore;
  readonly warehouse?: (warehouse: Warehouse) => Warehouse;
  readonly transformRunner?: (runner: TransformRunner) => TransformRunner;
  /** The track queue's sending side, as chart-fetch gets it. */
  readonly trackQueue?: (queue: Queue) => Queue;
  /** Each queue's consumer, as its event source mapping calls it. */
  readonly consumer?: LocalWiringOptions['consumer'];
  /**
   * The process this pipeline names as the transform lock's holder, and how a holder's liveness is
   * told: its own process and the operating system's answer unless given. The chaos suite models a
   * killed process as an abandoned pipeline whose process is gone.
   */
  readonly process?: {
    readonly self: LockProcess;
    readonly isAlive: (holder: LockHolder) => boolean | undefined;
  };
}

/** Track-queue settings a test tunes, in local milliseconds; the rest are the topology's, scaled. */
export type TrackQueueOverrides = Partial<LocalQueueSettings>;

export interface LocalPipelineOptions {
  readonly config: LocalConfig;
  /** The environment dbt's process starts from (PATH, HOME); the profile's variables are added to it. */
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly queue?: TrackQueueOverrides;
  /** Options of the sandbox, started when no Spotify credentials are configured. */
  readonly sandbox?: SandboxOptions;
  /**
   * Runs the sandbox on a worker thread of its own (infra/sandbox/thread.ts), so that building and
   * sending its answers takes the machine's other core: what the CLI and the bench do. Its options
   * must then be plain data (no clock); `pipeline.sandbox`, the in-process sandbox that tests
   * inspect, is then undefined.
   */
  readonly sandboxThread?: boolean;
  /** How the provider clients retry 5xx and network errors. */
  readonly retry?: RetryPolicy;
  /**
   * How long a command waits for a lock held by someone else (the command's `--wait`) before it
   * gives up (`LockWaitTimeoutError`, exit 2); a minute unless told.
   */
  readonly waitMs?: number;
  /** Where the pipeline says what a user should know (a lock waited for, a recovery): stderr in the CLI. */
  readonly note?: (text: string) => void;
  /** Whether to put right what an interrupted run left before anything else (docs/reliability.md); yes unless told. */
  readonly recover?: boolean;
  /** Wrappers of the ports it builds (the chaos suite's faults); none unless given. */
  readonly wrap?: PortWrappers;
  /**
   * The dbt worker to build with, already started by a command that will transform, so that dbt's
   * import (most of its start) runs while the pipeline starts and the day is fetched (the CLI
   * starts it as soon as it holds the home's lock). The pipeline closes it. Unless given, the
   * pipeline makes one, which starts when a run or backfill begins, or at its first build.
   */
  readonly dbt?: DbtWorker;
}

/** What {@link LocalPipeline.interrupt} did. */
export interface Interrupted {
  /** dbt runs stopped. */
  readonly dbtStopped: number;
  readonly recovered: Recovered;
}

/** Hidden longer than this, queued work is a backlog for later, not something a run waits for. */
const backlogAfterMs = 60_000;

const waitingLong = (depth: QueueDepth): boolean =>
  depth.visible === 0 &&
  depth.running === 0 &&
  depth.inFlight > 0 &&
  depth.nextVisibleInMs !== undefined &&
  depth.nextVisibleInMs > backlogAfterMs;

/** A queue holds nothing a run waits for: empty, or only a backlog hidden for long. */
const queueDone = (depth: QueueDepth): boolean => depth.visible + depth.inFlight === 0 || waitingLong(depth);

/** Days of a backfill between their fetch and their load at once: enough to keep every stage busy. */
export const defaultBackfillConcurrency = 4;

/** What a backfill reports as it goes. */
export interface BackfillProgress {
  /** A day is loaded into the stage (or will not be: `status` says which). */
  readonly onDay?: (
    day: ChartDay & { index: number; total: number; status: 'loaded' | 'not_loaded' },
  ) => void;
  /** Every day is in: the batch's one transform starts. */
  readonly onTransform?: (loads: number) => void;
}

/** The configured warehouse; DuckDB's also when it is DuckDB, whose file dbt needs to itself. */
const warehouseFor = (config: LocalConfig, store: FsObjectStore) => {
  if (config.warehouse.kind === 'postgres') {
    return { warehouse: new PostgresWarehouse(config.warehouse.url, store), duckdb: undefined };
  }
  const duckdb = new DuckDbWarehouse({
    path: config.duckdbPath,
    lakeRoot: config.lakeRoot,
    mutex: new Mutex(),
  });
  return { warehouse: duckdb, duckdb };
};

/** dbt as a local process, whose stop event reaches the wiring as ECS's would. */
const dbtRunnerFor = (
  config: LocalConfig,
  worker: DbtWorker,
  duckdb: DuckDbWarehouse | undefined,
  clock: Clock,
  wiring: LocalWiring,
) =>
  new LocalDbtRunner({
    projectDir: path.join(config.projectRoot, 'dbt'),
    worker,
    target: config.warehouse.kind,
    workDir: path.join(config.home, 'dbt'),
    // dbt is another process: it gets the DuckDB file to itself while it runs.
    ...(duckdb ? { exclusive: <T>(work: () => Promise<T>) => duckdb.exclusive(work) } : {}),
    clock,
    onStopped: (event) => wiring.serviceEvent(asLocalTaskEvent(event)),
  });

/**
 * The sandbox when no Spotify credentials are configured: on a thread of its own when asked
 * (`sandboxThread`), in process otherwise; its server (fastify) is loaded only then.
 */
const startSandboxFor = async (
  options: LocalPipelineOptions,
): Promise<{ sandbox?: Sandbox; endpoints?: SandboxEndpoints }> => {
  if (options.config.mode !== 'sandbox') return {};
  const sandboxOptions: SandboxOptions = {
    accessMode: options.config.sandboxAccess === 'development' ? 'development' : 'extended',
    ...options.sandbox,
  };
  if (options.sandboxThread) return { endpoints: await startSandboxThread(sandboxOptions) };
  const { startSandbox } = await import('../sandbox/server.js');
  const sandbox = await startSandbox(sandboxOptions);
  return { sandbox, endpoints: sandbox };
};

/** The phase of a run each function's time counts towards, in the run summary. */
const phaseOf: Partial<Record<FunctionName, string>> = {
  chartFetch: 'extract',
  trackAttributes: 'enrich',
  stageLoader: 'load',
  transform: 'transform',
  stageCleanup: 'cleanup',
};

/**
 * The pipeline on one machine, as a facade: run a day, backfill, replay, ingest files, wait until
 * idle, close. It is not a second implementation: the services' own handlers run on embedded
 * adapters, connected by the topology (infra/topology.ts, through infra/local/wiring.ts) exactly as
 * AWS connects them, with the same event shapes.
 */
export class LocalPipeline {
  readonly counter = new RequestCounter();
  readonly phases = new PhaseClock();
  readonly clock: Clock;
  /** Asynchronous invocations; `failures` is their on-failure destination. */
  readonly invoker: AsyncInvoker;
  readonly store: ObjectStore;
  /** The track queue, and its dead-letter queue. */
  readonly queue: MemoryQueue;
  readonly deadLetters: MemoryQueue;
  /** Completion events on their way to transform. */
  readonly transformQueue: MemoryQueue;
  readonly warehouse: Warehouse & { close?: () => Promise<void> };
  readonly runner: LocalDbtRunner;
  readonly charts: readonly string[];
  /** What the Spotify app may call, as learned from its answers. */
  readonly spotifyAccess: SpotifyAccess;
  readonly hasSpotify: boolean;
  /** The provider endpoints' breakers, shared by every client of the process. */
  readonly breakers: CircuitBreakers;
  #progress: EnrichProgress | undefined;
  readonly #wiring: LocalWiring;
  /** The lake itself, unwrapped: the bucket and region its events name. */
  readonly #lake: FsObjectStore;
  /** The day and run each inbox file became, by inbox key, until `ingest` collects it. */
  readonly #inboxLanded = new Map<string, ChartDay & { runId: string }>();
  /** Runs loaded so far, and who waits for which: how a backfill knows a day is in. */
  readonly #loadedRuns = new Set<string>();
  readonly #loadWaiters = new Map<string, () => void>();
  readonly #self: LockProcess;
  readonly #isAlive: ((holder: LockHolder) => boolean | undefined) | undefined;
  readonly #note: (text: string) => void;
  readonly #lockWaits: LockWaits;
  /** Set by close(): a wait still polling (one that gave up on a lock) stops, so the process can exit. */
  #closed = false;

  private constructor(
    readonly config: LocalConfig,
    dbt: DbtWorker,
    trackQueue: TrackQueueOverrides,
    /** The sandbox when it runs in process, for tests to inspect (its stats, faults, catalog). */
    readonly sandbox: Sandbox | undefined,
    /** The sandbox in use, in process or on a thread: where the providers' clients go. */
    readonly sandboxEndpoints: SandboxEndpoints | undefined,
    clock: Clock,
    retry: RetryPolicy | undefined,
    local: { readonly waitMs: number; readonly note: (text: string) => void },
    wrap: PortWrappers,
  ) {
    this.clock = clock;
    this.#note = local.note;
    this.#self = wrap.process?.self ?? thisProcess();
    this.#isAlive = wrap.process?.isAlive;
    const wiring = new LocalWiring({
      clock,
      references: localStackReferences,
      overrides: { trackQueue },
      ...(wrap.consumer ? { consumer: wrap.consumer } : {}),
    });
    this.#wiring = wiring;
    this.invoker = wiring.invoker;
    this.queue = wiring.queues.trackQueue;
    this.deadLetters = wiring.deadLetters.trackQueue;
    this.transformQueue = wiring.queues.transformQueue;

    const lake = new FsObjectStore({ root: config.lakeRoot, onObjectCreated: wiring.objectCreated });
    this.#lake = lake;
    this.store = wrap.store?.(lake) ?? lake;
    const { warehouse, duckdb } = warehouseFor(config, lake);
    this.warehouse = warehouse;
    this.runner = dbtRunnerFor(config, dbt, duckdb, clock, wiring);

    const store = this.store;
    const providers = providersFor({
      config,
      sandbox: sandboxEndpoints,
      store,
      counter: this.counter,
      clock,
      ...(retry ? { retry } : {}),
    });
    this.#lockWaits = new LockWaits({
      clock,
      waitMs: local.waitMs,
      note: local.note,
      self: this.#self,
      liveHolder: () => new BatchProtocol(this.store, clock, this.#lockOptions()).liveHolder(),
    });
    this.spotifyAccess = providers.access;
    this.hasSpotify = providers.hasSpotify;
    this.breakers = providers.breakers;
    this.charts = providers.charts;
    wiring.connect(
      localFunctions(
        {
          store,
          warehouse: wrap.warehouse?.(this.warehouse) ?? this.warehouse,
          runner: wrap.transformRunner?.(this.runner) ?? this.runner,
          bus: wiring.bus,
          queues: {
            ...wiring.queues,
            trackQueue: wrap.trackQueue?.(wiring.queues.trackQueue) ?? wiring.queues.trackQueue,
          },
          providers,
          clock,
          lock: this.#lockOptions({ onBusy: this.#lockWaits.busy }),
        },
        {
          phaseOf,
          phases: this.phases,
          onResult: {
            chartFetch: (results) => this.#landed(results as ChartFetchResult[]),
            stageLoader: (decisions) => {
              for (const decision of decisions as LoadDecision[]) this.#loaded(decision);
            },
          },
        },
      ),
    );
  }

  /** Builds the pipeline; starts the sandbox first when no Spotify credentials are configured. */
  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const dbt = options.dbt ?? dbtWorkerFor(options.config, options.processEnv);
    const { sandbox, endpoints } = await startSandboxFor(options).catch(async (error: unknown) => {
      await dbt.close();
      throw error;
    });
    const pipeline = new LocalPipeline(
      options.config,
      dbt,
      options.queue ?? {},
      sandbox,
      endpoints,
      options.clock ?? systemClock,
      options.retry,
      { waitMs: options.waitMs ?? defaultLockWaitMs, note: options.note ?? (() => undefined) },
      options.wrap ?? {},
    );
    if (options.recover === false) return pipeline;
    try {
      await pipeline.#recover();
    } catch (error) {
      await pipeline.close();
      throw error;
    }
    return pipeline;
  }

  /** The transform lock's local options: this process holds it, and a dead holder's lock is taken over. */
  #lockOptions(extra: Parameters<typeof localLockOptions>[2] = {}) {
    return localLockOptions(this.#self, this.#note, {
      ...extra,
      ...(this.#isAlive ? { isAlive: this.#isAlive } : {}),
    });
  }

  /**
   * Puts right what an interrupted run left (infra/local/recovery.ts), then loads its days again
   * from the lake, as `replay` does, so that the marts end as an uninterrupted run leaves them.
   */
  async #recover(): Promise<void> {
    const { store, warehouse, clock } = this;
    const recovered = await recoverInterrupted(
      { store, warehouse, clock, lock: this.#lockOptions() },
      'interrupted: a later run found its batch unfinished and its process gone',
    );
    const told = describeRecovery(recovered);
    if (told) this.#note(told);
    if (recovered.days.length === 0) return;
    for (const day of recovered.days) await this.replay(day);
    for (const batchId of await new BatchProtocol(store, clock).unrequestedBatches()) {
      await this.#wiring.bus.publish({
        source: eventSource,
        detailType: transformRequestedDetailType,
        detail: { batchId } satisfies TransformRequested,
      });
      await this.idle();
    }
  }

  /**
   * Stops the run cleanly (Ctrl-C): stops dbt (the signal goes to its process group) and every
   * delivery, then empties the stage, records the unfinished runs `interrupted` and gives back the
   * lock, as recovery does for a process that is gone. The next run loads those days again.
   */
  async interrupt(signal: NodeJS.Signals): Promise<Interrupted> {
    const dbtStopped = await this.runner.stop(signal);
    this.#wiring.stop();
    const { store, warehouse, clock } = this;
    const recovered = await recoverInterrupted(
      { store, warehouse, clock, lock: this.#lockOptions({ selfGone: true }) },
      `interrupted by ${signal}`,
    );
    return { dbtStopped, recovered };
  }

  /**
   * Sends a line of progress to `note` while tracks are enriched (the CLI's stderr), at most once a
   * second and when it changed: "chartflow: enriching 183/200, spotify GET /v1/tracks open after 5 failures".
   */
  reportProgress(note: (line: string) => void): void {
    this.#progress = new EnrichProgress({ store: this.store, breakers: this.breakers, note });
  }

  /** Runs one day of one chart end to end, as the schedule would, and waits until its transform has finished. */
  async run(day: ChartDay): Promise<RunSummary> {
    this.runner.warm();
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    let fetched: ChartFetchResult | undefined;
    try {
      [fetched] = (await this.#wiring.schedule(day)) as ChartFetchResult[];
    } catch (error) {
      await this.#recordNotLoaded(day, undefined, error);
      throw error;
    }
    if (fetched) this.#progress?.watch(day, fetched.runId);
    await this.idle();
    this.#progress?.settle();
    await this.#recordNotLoaded(day, fetched!.runId);
    return summarizeDay(this, { ...day, runId: fetched!.runId, requestsBefore });
  }

  /**
   * Records a run that ended without its load as `not_loaded`, with why (run-summary.ts,
   * `whyNotLoaded`), so that `chartflow status` shows it: chart-fetch failed for good (`failure`,
   * and no run id yet: one is made for the record), or the day never completed. A loaded run is
   * left alone.
   */
  async #recordNotLoaded(day: ChartDay, runId: string | undefined, failure?: unknown): Promise<void> {
    if (runId !== undefined && this.#loadedRuns.has(runId)) return;
    const { reason, deadLettered } = await whyNotLoaded(this, { ...day, runId: runId ?? null }, failure);
    await new BatchProtocol(this.store, this.clock).recordNotLoaded(
      { ...day, runId: runId ?? newId(this.clock) },
      reason,
      { deadLettered },
    );
  }

  /**
   * Backfills days in one transform batch: fetches, enriches and loads every day first (a few days
   * under way at once), then asks for one transform of them all, and waits until it has finished.
   * Each day joins the batch through its manifest, so its load waits for the batch instead of
   * starting its own dbt build.
   */
  async backfill(
    days: readonly ChartDay[],
    progress: BackfillProgress = {},
    concurrency = defaultBackfillConcurrency,
  ): Promise<BackfillSummary> {
    this.runner.warm();
    const batchId = newId(this.clock);
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    const started = performance.now();
    let settled = 0;
    const runs = await pMap(
      days,
      async (day) => {
        const runId = await this.#fetchForBatch(day, batchId);
        if (runId) this.#progress?.watch(day, runId);
        const loaded = runId !== undefined && (await this.#settled(runId));
        settled += 1;
        progress.onDay?.({
          ...day,
          index: settled,
          total: days.length,
          status: loaded ? 'loaded' : 'not_loaded',
        });
        return runId;
      },
      { concurrency: Math.max(1, concurrency) },
    );
    await this.idle();
    this.#progress?.settle();
    const loadMs = performance.now() - started;
    for (const [i, runId] of runs.entries())
      if (runId !== undefined) await this.#recordNotLoaded(days[i]!, runId);

    const loads = runs.filter((r) => r !== undefined && this.#loadedRuns.has(r)).length;
    if (loads > 0) {
      progress.onTransform?.(loads);
      const request: TransformRequested = { batchId };
      await this.#wiring.bus.publish({
        source: eventSource,
        detailType: transformRequestedDetailType,
        detail: request,
      });
      await this.idle();
    }
    return summarizeBackfill(this, {
      batchId,
      days: days.map((day, i) => ({ ...day, runId: runs[i] ?? null })),
      requestsBefore,
      wallMs: { load: loadMs, total: performance.now() - started },
    });
  }

  /** Fetches a day for a batch; `undefined` when chart-fetch failed for good (the summary says why). */
  async #fetchForBatch(day: ChartDay, batchId: string): Promise<string | undefined> {
    try {
      const [fetched] = (await this.#wiring.schedule({ ...day, batchId })) as ChartFetchResult[];
      return fetched?.runId;
    } catch (error) {
      // The schedule kept the failure in the invoker's failures, which the summary reports.
      await this.#recordNotLoaded(day, undefined, error);
      return undefined;
    }
  }

  /**
   * Resolves `true` when the run is loaded, or `false` once nothing under way could load it any
   * more (no invocation, no message being worked on: a track waiting out a long rate limit, a
   * failed invocation). A day stuck that way thus never holds up the others.
   */
  async #settled(runId: string): Promise<boolean> {
    if (this.#loadedRuns.has(runId)) return true;
    let loaded = false;
    await Promise.race([
      new Promise<void>((resolve) => this.#loadWaiters.set(runId, resolve)).then(() => (loaded = true)),
      (async () => {
        for (;;) {
          await this.clock.sleep(250);
          if (loaded || this.#loadedRuns.has(runId)) return;
          const depth = this.queue.depth();
          const quiet = this.invoker.pending === 0 && depth.running === 0 && queueDone(depth);
          if (quiet) return;
        }
      })(),
    ]);
    this.#loadWaiters.delete(runId);
    return this.#loadedRuns.has(runId);
  }

  #loaded(decision: LoadDecision): void {
    if (decision.outcome !== 'loaded') return;
    this.#loadedRuns.add(decision.runId);
    this.#loadWaiters.get(decision.runId)?.();
  }

  #landed(results: readonly ChartFetchResult[]): void {
    for (const result of results) {
      if (!('inboxKey' in result) || typeof result.inboxKey !== 'string') continue;
      const { chartId, chartDate, runId } = result;
      this.#inboxLanded.set(result.inboxKey, { chartId, chartDate, runId });
    }
  }

  /** Replays a day's raw prefix and waits until the reload and transform have finished. */
  async replay(request: {
    chartDate: string;
    chartId?: string;
  }): Promise<{ replay: ReplayResult; days: RunSummary[] }> {
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    const replay = (await this.#wiring.invoke('replay', request)) as ReplayResult;
    await this.idle();
    const charts = request.chartId ? [request.chartId] : await this.#chartsOn(request.chartDate);
    const days = await Promise.all(
      charts.map((chartId) => summarizeDay(this, { chartId, chartDate: request.chartDate, requestsBefore })),
    );
    return { replay, days };
  }

  /**
   * Finds what lost events and interrupted runs left inconsistent in the window, and repairs it
   * (services/reconciler, docs/reliability.md, "The reconciler"): lost ObjectCreated events go to
   * the stage loader through the wiring's bucket notifications, events go on its bus; then waits
   * until the loads and transforms the repairs started have finished. A dry run changes nothing.
   */
  async reconcile(request: ReconcileRequest): Promise<ReconcileReport> {
    const { store, warehouse, clock } = this;
    const report = await reconcile(request, {
      store,
      warehouse,
      bus: this.#wiring.bus,
      clock,
      loader: localLoaderTrigger(this.#wiring.objectCreated, this.#lake),
      charts: this.charts,
      settings: localReconcilerSettings,
      lock: this.#lockOptions(),
    });
    await this.idle();
    return report;
  }

  /**
   * Asks again for what the lake's backlog says is missing (infra/local/retry-missing.ts): each
   * affected day runs again from the chart the lake holds, and waits until its transform has finished.
   */
  async retryMissing(
    filter: { chartDate?: string; chartId?: string } = {},
    note?: (line: string) => void,
  ): Promise<RetryMissingResult> {
    const rerun = async (day: ChartDay): Promise<RunSummary> => {
      const requestsBefore = this.counter.snapshot();
      this.phases.reset();
      const runId = await relandChart(day, { store: this.store, queue: this.queue, clock: this.clock });
      await this.idle();
      return summarizeDay(this, { ...day, runId, requestsBefore });
    };
    return retryMissing({ store: this.store, clock: this.clock, rerun, ...(note ? { note } : {}) }, filter);
  }

  /**
   * Drops chart files into the lake's inbox one at a time, as a user uploading them would, and
   * after each waits until its day has run end to end: the inbox notification starts chart-fetch,
   * and the rest follows as on any day. `name` is the name in the inbox, which says the chart and the day.
   *
   * @throws {PermanentError} if chart-fetch could not land a file; the files before it have run.
   */
  async ingest(
    files: readonly { readonly name: string; readonly body: Uint8Array }[],
    onDay: (summary: RunSummary) => void = () => undefined,
  ): Promise<RunSummary[]> {
    const summaries: RunSummary[] = [];
    for (const file of files) {
      const key = lakeKeys.inboxChart(file.name);
      const requestsBefore = this.counter.snapshot();
      const failuresBefore = this.invoker.failures.length;
      this.phases.reset();
      await this.store.put(key, file.body);
      await this.idle();
      const landed = this.#inboxLanded.get(key);
      this.#inboxLanded.delete(key);
      if (!landed) {
        const failure = this.invoker.failures
          .slice(failuresBefore)
          .find((f) => f.functionName === 'chart-fetch');
        throw new PermanentError(`chart-fetch did not land ${key}: ${failure?.error ?? 'it never ran'}`);
      }
      await this.#recordNotLoaded(landed, landed.runId);
      const summary = await summarizeDay(this, { ...landed, requestsBefore });
      onDay(summary);
      summaries.push(summary);
    }
    return summaries;
  }

  /**
   * Resolves when nothing is left to do: no invocation, no message in either queue, no dbt run.
   *
   * @throws {LockWaitTimeoutError} when a transform waited `waitMs` for a lock another process holds
   */
  async idle(): Promise<void> {
    await Promise.race([this.#quiet(), this.#lockWaits.failed]);
  }

  async #quiet(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      await this.invoker.idle();
      await this.#queueSettled(this.queue);
      await this.#queueSettled(this.transformQueue);
      await this.runner.idle();
      await this.invoker.idle();
      const quiet =
        this.invoker.pending === 0 &&
        this.runner.pending === 0 &&
        queueDone(this.queue.depth()) &&
        queueDone(this.transformQueue.depth()) &&
        this.transformQueue.depth().running === 0;
      if (quiet) return;
    }
  }

  /** The queue is empty, or holds only a backlog hidden for long: a run does not wait hours for it. */
  async #queueSettled(queue: MemoryQueue): Promise<void> {
    let settled = false;
    await Promise.race([
      queue.idle().then(() => (settled = true)),
      (async () => {
        while (!settled && !this.#closed && !waitingLong(queue.depth())) await this.clock.sleep(100);
      })(),
    ]);
    settled = true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#lockWaits.stop();
    this.#wiring.stop();
    await this.runner.close();
    await this.warehouse.close?.();
    await this.sandboxEndpoints?.close();
  }

  async #chartsOn(chartDate: string): Promise<string[]> {
    const objects = await this.store.list(`raw/chart_songs/date=${chartDate}/`);
    return [
      ...new Set(objects.map((o) => /chart=([^/]+)\//.exec(o.key)?.[1]).filter((c): c is string => !!c)),
    ];
  }
}
