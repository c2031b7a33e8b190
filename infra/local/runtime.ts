import path from 'node:path';
import { Mutex } from 'async-mutex';
import type { LocalConfig } from '../../shared/config/config.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { FsObjectStore } from '../adapters/embedded/fs-object-store.js';
import { MemoryQueue, type QueueDepth } from '../adapters/embedded/memory-queue.js';
import { DuckDbWarehouse } from '../adapters/embedded/duckdb-warehouse.js';
import { PostgresWarehouse } from '../adapters/postgres/postgres-warehouse.js';
import { LocalDbtRunner } from '../adapters/embedded/local-dbt-runner.js';
import { LocalEventBus } from '../adapters/embedded/local-event-bus.js';
import { RequestCounter } from '../../shared/http/request-counter.js';
import {
  eventSource,
  stageLoadedDetailType,
  transformRequestedDetailType,
  type ChartDay,
  type TransformRequested,
} from '../../shared/records/messages.js';
import type { LoadDecision } from '../../services/stage-loader/load-completed-days.js';
import { newId } from '../../shared/ids.js';
import { makeHandler as makeChartFetch } from '../../services/chart-fetch/handler.js';
import { makeHandler as makeTrackAttributes } from '../../services/track-attributes/handler.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { makeHandler as makeTransform } from '../../services/transform/handler.js';
import { makeHandler as makeStageCleanup } from '../../services/stage-cleanup/handler.js';
import { makeHandler as makeReplay } from '../../services/replay/handler.js';
import type { ReplayResult } from '../../services/replay/replay-day.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/server.js';
import { AsyncInvoker, type RetryPolicy as InvocationRetry } from './async-invoker.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { localContext } from './handler-context.js';
import { PhaseClock } from './phase-clock.js';
import { summarizeBackfill, summarizeDay, type BackfillSummary, type RunSummary } from './run-summary.js';
import { inboxChartsPrefix, lakeKeys } from '../../shared/lake/keys.js';
import { PermanentError } from '../../shared/errors.js';
import { providersFor } from './providers.js';
import type { SpotifyAccess } from '../../shared/spotify/access.js';

/** The track queue and its event source mapping, as serverless.yml sets them on AWS. */
export interface QueueSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

export const defaultQueueSettings: QueueSettings = {
  // A whole chart day in one batch when it comes at once: every provider's batch size (50, 100, 40)
  // then fits it, so a day costs the fewest calls. The window lets the sends of one day gather.
  batchSize: 200,
  batchingWindowMs: 200,
  // It must outlive a batch, pacing by the rate limiters included (200 single lookups of a
  // Development Mode app at 90 per 30 s take about 70 s), or SQS delivers the batch again while it runs.
  visibilityTimeoutMs: 180_000,
  maxReceiveCount: 3,
  maxConcurrency: 2,
};

export interface LocalPipelineOptions {
  readonly config: LocalConfig;
  /** The environment dbt's process starts from (PATH, HOME); the profile's variables are added to it. */
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly queue?: Partial<QueueSettings>;
  /** Options of the in-process sandbox, started when no Spotify credentials are configured. */
  readonly sandbox?: SandboxOptions;
  /** How the provider clients retry 5xx and network errors. */
  readonly retry?: RetryPolicy;
}

/** Hidden longer than this, queued work is a backlog for later, not something a run waits for. */
const backlogAfterMs = 60_000;

const waitingLong = (depth: QueueDepth): boolean =>
  depth.visible === 0 &&
  depth.running === 0 &&
  depth.inFlight > 0 &&
  depth.nextVisibleInMs !== undefined &&
  depth.nextVisibleInMs > backlogAfterMs;

/** EventBridge retries a target for hours; a transform waiting for the warehouse lock needs that patience. */
const transformRetry: InvocationRetry = {
  maxAttempts: 1_000,
  delayMs: (attempt) => Math.min(2_000, 100 * attempt),
};

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

/**
 * The pipeline on one machine. It is not a second implementation: it wires the services' own
 * handlers to embedded adapters the way AWS wires them — the schedule (a direct invocation) and
 * ObjectCreated on `inbox/charts/` to chart-fetch, the queue to track-attributes, ObjectCreated on
 * `raw/` to stage-loader, the completion event to transform, the dbt task's stop to stage-cleanup —
 * with the same event shapes.
 */
export class LocalPipeline {
  readonly counter = new RequestCounter();
  readonly phases = new PhaseClock();
  readonly clock: Clock;
  readonly invoker: AsyncInvoker;
  readonly store: FsObjectStore;
  readonly queue: MemoryQueue;
  readonly deadLetters: MemoryQueue;
  readonly warehouse: Warehouse & { close?: () => Promise<void> };
  readonly runner: LocalDbtRunner;
  readonly charts: readonly string[];
  /** What the Spotify app may call, as learned from its answers. */
  readonly spotifyAccess: SpotifyAccess;
  readonly hasSpotify: boolean;
  readonly #chartFetch: ReturnType<typeof makeChartFetch>;
  readonly #replay: ReturnType<typeof makeReplay>;
  /** The day and run each inbox file became, by inbox key, until `ingest` collects it. */
  readonly #inboxLanded = new Map<string, ChartDay & { runId: string }>();
  readonly #bus: LocalEventBus;
  /** Runs loaded so far, and who waits for which: how a backfill knows a day is in. */
  readonly #loadedRuns = new Set<string>();
  readonly #loadWaiters = new Map<string, () => void>();

  private constructor(
    readonly config: LocalConfig,
    processEnv: Readonly<Record<string, string | undefined>>,
    queueSettings: QueueSettings,
    readonly sandbox: Sandbox | undefined,
    clock: Clock,
    retry: RetryPolicy | undefined,
  ) {
    this.clock = clock;
    this.invoker = new AsyncInvoker(clock);
    const bus = new LocalEventBus(clock);
    this.#bus = bus;

    this.store = new FsObjectStore({
      root: config.lakeRoot,
      // The bucket notification of serverless.yml: ObjectCreated under raw/ → stage-loader.
      onObjectCreated: (event) => {
        if (event.Records.some((r) => r.s3.object.key.startsWith('raw/'))) {
          this.invoker.invoke(
            'stage-loader',
            async (created: typeof event) => {
              const decisions = await this.#timed('load', 'stage-loader', stageLoader)(created);
              for (const decision of decisions) this.#loaded(decision);
            },
            event,
          );
        }
        // The inbox notification: ObjectCreated under inbox/charts/ → chart-fetch, which lands the file.
        if (event.Records.some((r) => r.s3.object.key.startsWith(inboxChartsPrefix))) {
          this.invoker.invoke(
            'chart-fetch',
            async (created: typeof event) => {
              for (const result of await this.#timed('extract', 'chart-fetch', this.#chartFetch)(created)) {
                if (!('inboxKey' in result)) continue;
                const { chartId, chartDate, runId } = result;
                this.#inboxLanded.set(result.inboxKey, { chartId, chartDate, runId });
              }
            },
            event,
          );
        }
      },
    });
    this.deadLetters = new MemoryQueue({ name: 'chartflow-tracks-dlq' });
    this.queue = new MemoryQueue({
      name: 'chartflow-tracks',
      batchSize: queueSettings.batchSize,
      batchingWindowMs: queueSettings.batchingWindowMs,
      visibilityTimeoutMs: queueSettings.visibilityTimeoutMs,
      maxReceiveCount: queueSettings.maxReceiveCount,
      deadLetterQueue: this.deadLetters,
      maxConcurrency: queueSettings.maxConcurrency,
    });
    const duckdb =
      config.warehouse.kind === 'duckdb'
        ? new DuckDbWarehouse({ path: config.duckdbPath, lakeRoot: config.lakeRoot, mutex: new Mutex() })
        : undefined;
    this.warehouse =
      config.warehouse.kind === 'postgres'
        ? new PostgresWarehouse(config.warehouse.url, this.store)
        : duckdb!;
    this.runner = new LocalDbtRunner({
      projectDir: path.join(config.projectRoot, 'dbt'),
      dbt: path.join(config.projectRoot, '.venv', 'bin', 'dbt'),
      target: config.warehouse.kind,
      env: { ...processEnv, ...dbtProfileEnv(config) },
      workDir: path.join(config.home, 'dbt'),
      // dbt is another process: it gets the DuckDB file to itself while it runs.
      ...(duckdb ? { exclusive: <T>(work: () => Promise<T>) => duckdb.exclusive(work) } : {}),
      clock,
      onStopped: (event) =>
        this.invoker.invoke('stage-cleanup', this.#timed('cleanup', 'stage-cleanup', stageCleanup), event),
    });

    const providers = providersFor({
      config,
      sandbox,
      store: this.store,
      counter: this.counter,
      clock,
      ...(retry ? { retry } : {}),
    });
    this.spotifyAccess = providers.access;
    this.hasSpotify = providers.hasSpotify;
    this.charts = providers.charts;
    const stageLoader = makeStageLoader({ store: this.store, warehouse: this.warehouse, bus, clock });
    const transform = makeTransform({
      store: this.store,
      warehouse: this.warehouse,
      runner: this.runner,
      clock,
    });
    const stageCleanup = makeStageCleanup({ store: this.store, warehouse: this.warehouse, clock });
    const trackAttributes = makeTrackAttributes({
      store: this.store,
      provider: providers.enricher,
      queue: this.queue,
      clock,
      maxReceiveCount: queueSettings.maxReceiveCount,
    });
    this.#chartFetch = makeChartFetch({
      store: this.store,
      queue: this.queue,
      source: providers.chartSource,
      clock,
      charts: this.charts,
    });
    this.#replay = makeReplay({ store: this.store });

    // Two rules, one target, as on EventBridge: a day loaded, and a backfill's batch to transform.
    for (const detailType of [stageLoadedDetailType, transformRequestedDetailType]) {
      bus.on(eventSource, detailType, (event) =>
        this.invoker.invoke(
          'transform',
          this.#timed('transform', 'transform', transform),
          event,
          transformRetry,
        ),
      );
    }
    this.queue.subscribe(this.#timed('enrich', 'track-attributes', trackAttributes));
  }

  /** Builds the pipeline; starts the sandbox first when no Spotify credentials are configured. */
  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const sandbox =
      options.config.mode === 'sandbox'
        ? await startSandbox({
            accessMode: options.config.sandboxAccess === 'development' ? 'development' : 'extended',
            ...options.sandbox,
          })
        : undefined;
    return new LocalPipeline(
      options.config,
      options.processEnv,
      { ...defaultQueueSettings, ...options.queue },
      sandbox,
      options.clock ?? systemClock,
      options.retry,
    );
  }

  /** Runs one day of one chart end to end and waits until its transform has finished. */
  async run(day: ChartDay): Promise<RunSummary> {
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    const [fetched] = await this.#timed('extract', 'chart-fetch', this.#chartFetch)(day);
    await this.idle();
    return summarizeDay(this, { ...day, runId: fetched!.runId, requestsBefore });
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
    const batchId = newId(this.clock);
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    const started = performance.now();
    const runs: (string | undefined)[] = new Array<string | undefined>(days.length);
    let next = 0;
    let settled = 0;
    const worker = async () => {
      for (let index = next++; index < days.length; index = next++) {
        const day = days[index]!;
        const runId = await this.#fetchForBatch(day, batchId);
        runs[index] = runId;
        const loaded = runId !== undefined && (await this.#settled(runId));
        settled += 1;
        progress.onDay?.({
          ...day,
          index: settled,
          total: days.length,
          status: loaded ? 'loaded' : 'not_loaded',
        });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    await this.idle();
    const loadMs = performance.now() - started;

    const loads = runs.filter((r) => r !== undefined && this.#loadedRuns.has(r)).length;
    if (loads > 0) {
      progress.onTransform?.(loads);
      const request: TransformRequested = { batchId };
      await this.#bus.publish({
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
    const fetch = this.#timed('extract', 'chart-fetch', this.#chartFetch);
    try {
      const [fetched] = await fetch({ ...day, batchId });
      return fetched?.runId;
    } catch (error) {
      this.invoker.failures.push({
        functionName: 'chart-fetch',
        attempts: 1,
        error: (error as Error).message,
        event: { ...day, batchId },
      });
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
          const quiet =
            this.invoker.pending === 0 &&
            depth.running === 0 &&
            (depth.visible + depth.inFlight === 0 || waitingLong(depth));
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

  /** Replays a day's raw prefix and waits until the reload and transform have finished. */
  async replay(request: {
    chartDate: string;
    chartId?: string;
  }): Promise<{ replay: ReplayResult; days: RunSummary[] }> {
    const requestsBefore = this.counter.snapshot();
    this.phases.reset();
    const replay = await this.#replay(request, localContext('replay'));
    await this.idle();
    const charts = request.chartId ? [request.chartId] : await this.#chartsOn(request.chartDate);
    const days = await Promise.all(
      charts.map((chartId) => summarizeDay(this, { chartId, chartDate: request.chartDate, requestsBefore })),
    );
    return { replay, days };
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
      const summary = await summarizeDay(this, { ...landed, requestsBefore });
      onDay(summary);
      summaries.push(summary);
    }
    return summaries;
  }

  /** Resolves when nothing is left to do: no invocation, no message, no dbt run. */
  async idle(): Promise<void> {
    for (;;) {
      await this.invoker.idle();
      await this.#queueSettled();
      await this.runner.idle();
      await this.invoker.idle();
      const depth = this.queue.depth();
      const queueDone = depth.visible + depth.inFlight === 0 || waitingLong(depth);
      if (this.invoker.pending === 0 && this.runner.pending === 0 && queueDone) return;
    }
  }

  /** Tracks a provider told to come back much later: they wait in the queue, and the run says so. */
  backlog(): { tracks: number; nextAttemptInMs: number } | undefined {
    const depth = this.queue.depth();
    return waitingLong(depth)
      ? { tracks: depth.inFlight, nextAttemptInMs: depth.nextVisibleInMs ?? 0 }
      : undefined;
  }

  /** The queue is empty, or holds only a backlog hidden for long: a run does not wait hours for it. */
  async #queueSettled(): Promise<void> {
    let settled = false;
    await Promise.race([
      this.queue.idle().then(() => (settled = true)),
      (async () => {
        while (!settled && !waitingLong(this.queue.depth())) await this.clock.sleep(100);
      })(),
    ]);
    settled = true;
  }

  async close(): Promise<void> {
    this.queue.stop();
    this.deadLetters.stop();
    await this.warehouse.close?.();
    await this.sandbox?.close();
  }

  async #chartsOn(chartDate: string): Promise<string[]> {
    const objects = await this.store.list(`raw/chart_songs/date=${chartDate}/`);
    return [
      ...new Set(objects.map((o) => /chart=([^/]+)\//.exec(o.key)?.[1]).filter((c): c is string => !!c)),
    ];
  }

  /** Invokes a handler as Lambda would, timing it as a phase of the run. */
  #timed<E, R>(
    phase: string,
    functionName: string,
    handler: (event: E, context: ReturnType<typeof localContext>) => Promise<R>,
  ) {
    return async (event: E): Promise<R> => {
      const started = performance.now();
      try {
        return await handler(event, localContext(functionName));
      } finally {
        this.phases.record(phase, started, performance.now());
      }
    };
  }
}

/** The dbt profile's variables for the configured warehouse. */
export const dbtProfileEnv = (config: LocalConfig): Record<string, string> => {
  if (config.warehouse.kind === 'duckdb') return { CHARTFLOW_DUCKDB_PATH: config.duckdbPath };
  const url = new URL(config.warehouse.url);
  return {
    CHARTFLOW_PG_HOST: url.hostname,
    CHARTFLOW_PG_PORT: url.port || '5432',
    CHARTFLOW_PG_USER: decodeURIComponent(url.username || 'postgres'),
    CHARTFLOW_PG_PASSWORD: decodeURIComponent(url.password),
    CHARTFLOW_PG_DATABASE: url.pathname.replace(/^\//, '') || 'postgres',
  };
};
