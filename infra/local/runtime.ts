import path from 'node:path';
import { Mutex } from 'async-mutex';
import type { LocalConfig } from '../../shared/config/config.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { FsObjectStore } from '../../shared/adapters/embedded/fs-object-store.js';
import { MemoryQueue } from '../../shared/adapters/embedded/memory-queue.js';
import { DuckDbWarehouse } from '../../shared/adapters/embedded/duckdb-warehouse.js';
import { PostgresWarehouse } from '../../shared/adapters/postgres/postgres-warehouse.js';
import { LocalDbtRunner } from '../../shared/adapters/embedded/local-dbt-runner.js';
import { LocalEventBus } from '../../shared/adapters/embedded/local-event-bus.js';
import { EnvSecrets } from '../../shared/adapters/embedded/env-secrets.js';
import { RequestCounter } from '../../shared/http/request-counter.js';
import { SpotifyClient } from '../../shared/spotify/spotify-client.js';
import { PlaylistChartSource } from '../../shared/sources/playlist-chart-source.js';
import { SpotifyAttributeProvider } from '../../shared/sources/spotify-attribute-provider.js';
import { SecretName } from '../../shared/ports/secrets.js';
import { eventSource, stageLoadedDetailType, type ChartDay } from '../../shared/records/messages.js';
import { makeHandler as makeChartFetch } from '../../services/chart-fetch/handler.js';
import { makeHandler as makeTrackAttributes } from '../../services/track-attributes/handler.js';
import { makeHandler as makeStageLoader } from '../../services/stage-loader/handler.js';
import { makeHandler as makeTransform } from '../../services/transform/handler.js';
import { makeHandler as makeStageCleanup } from '../../services/stage-cleanup/handler.js';
import { makeHandler as makeReplay } from '../../services/replay/handler.js';
import type { ReplayResult } from '../../services/replay/replay-day.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/server.js';
import { sandboxPlaylistIds } from '../sandbox/catalog.js';
import { AsyncInvoker, type RetryPolicy as InvocationRetry } from './async-invoker.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { localContext } from './handler-context.js';
import { PhaseClock } from './phase-clock.js';
import { summarizeDay, type RunSummary } from './run-summary.js';

/** The track queue and its event source mapping, as serverless.yml sets them on AWS. */
export interface QueueSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

export const defaultQueueSettings: QueueSettings = {
  batchSize: 50,
  batchingWindowMs: 100,
  // SQS's default. It must outlive a batch, retries and bisection included, or SQS redelivers the batch while it runs.
  visibilityTimeoutMs: 30_000,
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

/** EventBridge retries a target for hours; a transform waiting for the warehouse lock needs that patience. */
const transformRetry: InvocationRetry = {
  maxAttempts: 1_000,
  delayMs: (attempt) => Math.min(2_000, 100 * attempt),
};

/**
 * The pipeline on one machine. It is not a second implementation: it wires the services' own
 * handlers to embedded adapters the way AWS wires them — the schedule (a direct invocation) to
 * chart-fetch, the queue to track-attributes, ObjectCreated on `raw/` to stage-loader, the
 * completion event to transform, the dbt task's stop to stage-cleanup — with the same event shapes.
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
  readonly #chartFetch: ReturnType<typeof makeChartFetch>;
  readonly #replay: ReturnType<typeof makeReplay>;

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
    const mutex = new Mutex();
    const bus = new LocalEventBus(clock);

    this.store = new FsObjectStore({
      root: config.lakeRoot,
      // The bucket notification of serverless.yml: ObjectCreated under raw/ → stage-loader.
      onObjectCreated: (event) => {
        if (event.Records.some((r) => r.s3.object.key.startsWith('raw/'))) {
          this.invoker.invoke('stage-loader', this.#timed('load', 'stage-loader', stageLoader), event);
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
    this.warehouse =
      config.warehouse.kind === 'postgres'
        ? new PostgresWarehouse(config.warehouse.url, this.store)
        : new DuckDbWarehouse({ path: config.duckdbPath, lakeRoot: config.lakeRoot, mutex });
    this.runner = new LocalDbtRunner({
      projectDir: path.join(config.projectRoot, 'dbt'),
      dbt: path.join(config.projectRoot, '.venv', 'bin', 'dbt'),
      target: config.warehouse.kind,
      env: { ...processEnv, ...dbtProfileEnv(config) },
      workDir: path.join(config.home, 'dbt'),
      mutex,
      clock,
      onStopped: (event) =>
        this.invoker.invoke('stage-cleanup', this.#timed('cleanup', 'stage-cleanup', stageCleanup), event),
    });

    const { secrets, apiUrl, accountsUrl, playlists, sourceName, sendAsOf } = spotifySetup(config, sandbox);
    const spotify = new SpotifyClient({
      apiUrl,
      accountsUrl,
      secrets,
      counter: this.counter,
      clock,
      sendAsOf,
      ...(retry ? { retry } : {}),
    });
    this.charts = sandbox ? ['global'] : Object.keys(playlists);
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
      provider: new SpotifyAttributeProvider(spotify),
      clock,
      maxReceiveCount: queueSettings.maxReceiveCount,
    });
    this.#chartFetch = makeChartFetch({
      store: this.store,
      queue: this.queue,
      source: new PlaylistChartSource({ client: spotify, playlists, sourceName }),
      clock,
      charts: this.charts,
    });
    this.#replay = makeReplay({ store: this.store });

    bus.on(eventSource, stageLoadedDetailType, (event) =>
      this.invoker.invoke(
        'transform',
        this.#timed('transform', 'transform', transform),
        event,
        transformRetry,
      ),
    );
    this.queue.subscribe(this.#timed('enrich', 'track-attributes', trackAttributes));
  }

  /** Builds the pipeline; starts the sandbox first when no Spotify credentials are configured. */
  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const sandbox = options.config.spotify ? undefined : await startSandbox(options.sandbox ?? {});
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

  /** Resolves when nothing is left to do: no invocation, no message, no dbt run. */
  async idle(): Promise<void> {
    for (;;) {
      await this.invoker.idle();
      await this.queue.idle();
      await this.runner.idle();
      await this.invoker.idle();
      const depth = this.queue.depth();
      if (this.invoker.pending === 0 && this.runner.pending === 0 && depth.visible + depth.inFlight === 0)
        return;
    }
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
const dbtProfileEnv = (config: LocalConfig): Record<string, string> => {
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

/** Spotify, or the sandbox standing in for it: where to call, with which credentials, for which playlists. */
const spotifySetup = (config: LocalConfig, sandbox: Sandbox | undefined) => {
  if (sandbox) {
    return {
      secrets: new EnvSecrets({ [SecretName.spotify]: JSON.stringify(sandbox.credentials) }),
      apiUrl: sandbox.apiUrl,
      accountsUrl: sandbox.accountsUrl,
      playlists: sandboxPlaylistIds as Record<string, string>,
      sourceName: 'sandbox-playlist',
      sendAsOf: true,
    };
  }
  const spotify = config.spotify!;
  return {
    secrets: new EnvSecrets({
      [SecretName.spotify]: JSON.stringify({
        clientId: spotify.clientId,
        clientSecret: spotify.clientSecret,
      }),
    }),
    apiUrl: spotify.apiUrl,
    accountsUrl: spotify.accountsUrl,
    playlists: config.chartPlaylists,
    sourceName: 'spotify-playlist',
    sendAsOf: false,
  };
};
