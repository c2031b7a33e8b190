import { datasets, lakeKeys, rawPrefix } from '../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { manifestSchema, trackMessageSchema } from '../../shared/records/messages.js';
import type { LocalPipeline } from './runtime.js';

/** The marts a summary counts. */
export const martTables = ['dim_tracks', 'dim_artists', 'fct_chart_entries'] as const;

/** What a run of one day and chart did, as `chartflow run` prints it. */
export interface RunSummary {
  readonly chartId: string;
  readonly chartDate: string;
  readonly runId: string | null;
  readonly loadId: string | null;
  /** The run record's status, or `not_loaded` when the day never completed. */
  readonly status: RunRecord['status'] | 'not_loaded';
  readonly rows: {
    readonly stage: Record<string, number>;
    readonly marts: Record<string, number>;
    /** Rows of this day and chart in `marts.fct_chart_entries`. */
    readonly chartEntriesThisDay: number;
  };
  /** The top of the day's chart, read back from the marts. */
  readonly top: { position: number; trackName: string }[];
  readonly requests: Record<string, number>;
  readonly checks: { readonly passed: number; readonly failed: { name: string; detail?: string }[] };
  readonly deadLettered: { trackId: string; reason: string }[];
  /** Entries of the chart source that were not usable tracks (episodes, local files, removed tracks, bad rows). */
  readonly skipped: { position: number; reason: string }[];
  readonly quarantined: { key: string; reason: string }[];
  /** Invocations that failed for good (an on-failure destination's content). */
  readonly failedInvocations: { functionName: string; error: string }[];
  readonly dbtMessage: string | null;
  /** The Spotify app's access level, as its answers showed it (`unknown` when Spotify was not asked). */
  readonly spotifyAccess: 'extended' | 'development' | 'unknown' | 'none';
  /** Tracks a provider told to come back later, waiting in the queue. */
  readonly backlog: { tracks: number; nextAttemptInMs: number } | null;
  readonly timingsMs: { extract: number; enrich: number; load: number; checks: number; dbt: number };
}

/** Gathers the summary of a day from the lake, the queues, the warehouse and the request counter. */
export const summarizeDay = async (
  pipeline: LocalPipeline,
  target: { chartId: string; chartDate: string; runId?: string; requestsBefore: Record<string, number> },
): Promise<RunSummary> => {
  const { store, warehouse } = pipeline;
  const records = await new RunRecords(store).list(target);
  const ofRun = target.runId ? records.filter((r) => r.runId === target.runId) : records;
  const record = ofRun.at(-1);
  const runId = target.runId ?? record?.runId ?? null;

  const requests: Record<string, number> = {};
  for (const [provider, count] of Object.entries(pipeline.counter.snapshot())) {
    const made = count - (target.requestsBefore[provider] ?? 0);
    if (made > 0) requests[provider] = made;
  }

  const marts: Record<string, number> = {};
  let chartEntriesThisDay = 0;
  let top: { position: number; trackName: string }[] = [];
  try {
    for (const table of martTables) {
      const [row] = await warehouse.query<{ n: number }>(`select count(*) as n from marts.${table}`);
      marts[table] = Number(row?.n ?? 0);
    }
    const [day] = await warehouse.query<{ n: number }>(
      'select count(*) as n from marts.fct_chart_entries where chart_id = :chart_id and chart_date = cast(:chart_date as date)',
      { chart_id: target.chartId, chart_date: target.chartDate },
    );
    chartEntriesThisDay = Number(day?.n ?? 0);
    const leaders = await warehouse.query<{ position: number; track_name: string }>(
      `select f.position, t.track_name from marts.fct_chart_entries f
       join marts.dim_tracks t on t.track_id = f.track_id
       where f.chart_id = :chart_id and f.chart_date = cast(:chart_date as date) and f.position <= 5
       order by f.position`,
      { chart_id: target.chartId, chart_date: target.chartDate },
    );
    top = leaders.map((l) => ({ position: Number(l.position), trackName: l.track_name }));
  } catch {
    // No marts yet: dbt has never succeeded on this warehouse.
  }

  const phases = pipeline.phases.durations();
  return {
    chartId: target.chartId,
    chartDate: target.chartDate,
    runId,
    loadId: record?.loadId ?? null,
    status: record?.status ?? 'not_loaded',
    rows: { stage: record?.rows ?? {}, marts, chartEntriesThisDay },
    top,
    requests,
    checks: {
      passed: record?.checks.filter((c) => c.passed).length ?? 0,
      failed: (record?.checks ?? [])
        .filter((c) => !c.passed)
        .map(({ name, detail }) => ({ name, ...(detail ? { detail } : {}) })),
    },
    deadLettered: runId ? await deadLettered(pipeline, target, runId) : [],
    skipped: runId ? await skippedEntries(pipeline, target, runId) : [],
    quarantined: runId ? await quarantined(pipeline, target, runId) : [],
    failedInvocations: pipeline.invoker.failures.map(({ functionName, error }) => ({ functionName, error })),
    dbtMessage: record?.transform?.message ?? null,
    spotifyAccess: pipeline.hasSpotify ? pipeline.spotifyAccess.level : 'none',
    backlog: pipeline.backlog() ?? null,
    timingsMs: {
      extract: phases.extract ?? 0,
      enrich: phases.enrich ?? 0,
      load: record?.timings.loadMs ?? 0,
      checks: record?.timings.checksMs ?? 0,
      dbt: record?.timings.dbtMs ?? 0,
    },
  };
};

/** Tracks of the run in the dead-letter queue, with the reason their last delivery recorded in the lake. */
const deadLettered = async (
  pipeline: LocalPipeline,
  day: { chartId: string; chartDate: string },
  runId: string,
): Promise<{ trackId: string; reason: string }[]> => {
  const reasons = new Map<string, string>();
  for (const { key } of await pipeline.store.list(rawPrefix(datasets[1], day.chartDate, day.chartId))) {
    if (!key.endsWith('.song_attributes.csv')) continue;
    const body = await pipeline.store.get(key);
    for (const row of fromStageCsv('song_attributes', body?.toString('utf8') ?? '', key)) {
      if (row.run_id === runId && row.enrichment_status === 'dead_lettered') {
        reasons.set(row.track_id!, row.missing_reason ?? 'no reason recorded');
      }
    }
  }
  for (const message of pipeline.deadLetters.peek()) {
    const parsed = trackMessageSchema.safeParse(JSON.parse(message.body));
    if (parsed.success && parsed.data.runId === runId && !reasons.has(parsed.data.trackId)) {
      reasons.set(parsed.data.trackId, `dead-lettered after ${message.receiveCount} deliveries`);
    }
  }
  return [...reasons].map(([trackId, reason]) => ({ trackId, reason }));
};

/** Records of the run kept in quarantine, with their reasons. */
const quarantined = async (
  pipeline: LocalPipeline,
  day: { chartId: string; chartDate: string },
  runId: string,
): Promise<{ key: string; reason: string }[]> => {
  const found: { key: string; reason: string }[] = [];
  for (const dataset of datasets) {
    const prefix = `quarantine/${dataset}/date=${day.chartDate}/chart=${day.chartId}/${runId}-`;
    for (const { key } of await pipeline.store.list(prefix)) {
      const body = JSON.parse((await pipeline.store.get(key))?.toString('utf8') ?? '{}') as {
        reason?: unknown;
      };
      found.push({ key, reason: typeof body.reason === 'string' ? body.reason : 'no reason recorded' });
    }
  }
  return found;
};

/** What the chart source skipped, as the run's manifest recorded it. */
const skippedEntries = async (
  pipeline: LocalPipeline,
  day: { chartId: string; chartDate: string },
  runId: string,
): Promise<{ position: number; reason: string }[]> => {
  const body = await pipeline.store.get(lakeKeys.manifest(day.chartDate, day.chartId));
  const manifest = body ? manifestSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
  return manifest?.success && manifest.data.runId === runId ? manifest.data.skipped : [];
};
