import { datasets, lakeKeys } from '../../shared/lake/keys.js';
import { isAttributesCsv, listDay } from '../../shared/lake/layouts.js';
import { RunRecords, type RunRecord } from '../../shared/lake/run-records.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { manifestSchema, trackMessageSchema } from '../../shared/records/messages.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { SpotifyAccess } from '../../shared/spotify/access.js';
import type { OpenBreaker } from '../../shared/http/circuit-breaker.js';
import type { QueuedMessage } from '../adapters/embedded/memory-queue.js';
import type { FailedInvocation } from './async-invoker.js';
import type { PhaseClock } from './phase-clock.js';
import { MissingBacklog, retryableFrom } from '../../shared/lake/backlog.js';
import {
  addMissing,
  missingOf,
  noneMissing,
  type MissingCounts,
} from '../../shared/records/missing-reasons.js';
import { keyedParts, readPartManifest } from '../../shared/lake/part-markers.js';
import pMap from 'p-map';

/** How many days of a backfill its summary reads at once. */
const summaryConcurrency = 8;

/**
 * What a summary reads of the pipeline it summarizes: the lake, the warehouse, the track queue's
 * dead letters, the failed invocations, the request counter, the phases' times, the Spotify access
 * level. The backlog is read from the lake. The local pipeline is one (infra/local/runtime.ts).
 */
export interface SummarySource {
  // RunRecords reads through the whole port.
  readonly store: ObjectStore;
  readonly warehouse: Pick<Warehouse, 'query'>;
  readonly deadLetters: { peek(): readonly QueuedMessage[] };
  readonly invoker: { readonly failures: readonly FailedInvocation[] };
  readonly counter: { snapshot(): Record<string, number> };
  readonly phases: Pick<PhaseClock, 'durations' | 'busy'>;
  readonly hasSpotify: boolean;
  readonly spotifyAccess: Pick<SpotifyAccess, 'level'>;
  /** The provider endpoints switched off by their breakers (shared/http/circuit-breaker.ts). */
  readonly breakers: { opened(): OpenBreaker[] };
}

export type { MissingCounts };

/** Tracks of the day (or the days) in the persistent backlog: `chartflow retry-missing` asks them again. */
export interface BacklogCount {
  readonly tracks: number;
  /** When every one of them waits for a quota: when the last quota ends; else `null` (ask at once). */
  readonly until: string | null;
}

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
  /** Why the run is `not_loaded` or `interrupted`, as its record says. */
  readonly reason: string | null;
  /** The lake files its load was refused for: not what their manifests say. */
  readonly damagedFiles: readonly { key: string; kind: string; detail: string }[];
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
  readonly missing: MissingCounts;
  /** The day's tracks in the persistent backlog, or `null` when none. */
  readonly backlog: BacklogCount | null;
  /** Provider endpoints switched off for the rest of the run, with why and their last error. */
  readonly openBreakers: OpenBreaker[];
  readonly timingsMs: { extract: number; enrich: number; load: number; checks: number; dbt: number };
}

/** Gathers the summary of a day from the lake, the queues, the warehouse and the request counter. */
export const summarizeDay = async (
  pipeline: SummarySource,
  target: { chartId: string; chartDate: string; runId?: string; requestsBefore: Record<string, number> },
): Promise<RunSummary> => {
  const { store, warehouse } = pipeline;
  const records = await new RunRecords(store).list(target);
  const ofRun = target.runId ? records.filter((r) => r.runId === target.runId) : records;
  const record = ofRun.at(-1);
  const runId = target.runId ?? record?.runId ?? null;

  const requests = requestsSince(pipeline, target.requestsBefore);
  const { marts } = await martCounts(warehouse);
  let chartEntriesThisDay = 0;
  let top: { position: number; trackName: string }[] = [];
  try {
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
  const attributes = runId ? await attributesOfRun(pipeline.store, target, runId) : undefined;
  return {
    chartId: target.chartId,
    chartDate: target.chartDate,
    runId,
    // A not_loaded record is keyed by its run (it has no load): the day has no load id.
    loadId: record && record.status !== 'not_loaded' ? record.loadId : null,
    status: record?.status ?? 'not_loaded',
    reason: record?.reason ?? null,
    damagedFiles: record?.damagedFiles ?? [],
    rows: { stage: record?.rows ?? {}, marts, chartEntriesThisDay },
    top,
    requests,
    checks: checksOf(record),
    deadLettered: runId && attributes ? deadLettered(pipeline, attributes, runId) : [],
    skipped: runId ? await skippedEntries(pipeline, target, runId) : [],
    quarantined: runId ? await quarantined(pipeline, target, runId) : [],
    failedInvocations: pipeline.invoker.failures.map(({ functionName, error }) => ({ functionName, error })),
    dbtMessage: record?.transform?.message ?? null,
    spotifyAccess: pipeline.hasSpotify ? pipeline.spotifyAccess.level : 'none',
    missing: attributes?.missing ?? noneMissing(),
    backlog: await backlogOf(pipeline, [target]),
    openBreakers: pipeline.breakers.opened(),
    timingsMs: {
      extract: phases.extract ?? 0,
      enrich: phases.enrich ?? 0,
      load: record?.timings.loadMs ?? 0,
      checks: record?.timings.checksMs ?? 0,
      dbt: record?.timings.dbtMs ?? 0,
    },
  };
};

/** One day of a backfill batch: what its load held and how it ended (its batch's outcome). */
export interface BackfillDay {
  readonly chartId: string;
  readonly chartDate: string;
  readonly runId: string | null;
  readonly loadId: string | null;
  readonly status: RunRecord['status'] | 'not_loaded';
  /** Rows the day's load put into the stage, per table. */
  readonly rows: Record<string, number>;
  /** Rows of this day and chart in `marts.fct_chart_entries` after the batch. */
  readonly chartEntries: number;
  readonly checks: RunSummary['checks'];
  readonly deadLettered: RunSummary['deadLettered'];
  readonly skipped: RunSummary['skipped'];
  readonly quarantined: RunSummary['quarantined'];
  readonly missing: RunSummary['missing'];
}

/** What a backfill in one batch did: every day's load, then one transform of them all. */
export interface BackfillSummary {
  readonly batchId: string;
  /** The batch's outcome, which every loaded day shares; `not_loaded` when no day loaded. */
  readonly status: RunRecord['status'] | 'not_loaded';
  /** Days loaded and transformed together. */
  readonly loads: number;
  /** Loads that failed their checks, which fails the batch; the first are named in `failedChecks`. */
  readonly failedLoads: number;
  readonly failedChecks: { chartId: string; chartDate: string; checks: string[] }[];
  readonly days: BackfillDay[];
  /** Rows loaded into the stage, per table, all days together. */
  readonly rows: Record<string, number>;
  readonly marts: Record<string, number>;
  readonly requests: Record<string, number>;
  readonly spotifyAccess: RunSummary['spotifyAccess'];
  readonly dbtMessage: string | null;
  readonly failedInvocations: RunSummary['failedInvocations'];
  readonly backlog: RunSummary['backlog'];
  readonly openBreakers: RunSummary['openBreakers'];
  /**
   * Wall time: `total`, and `load` from the first fetch to the last load. The days overlap, so each
   * of fetch, enrich and load is given as its span (first start to last end) and as `busyMs`, the
   * time its invocations took, added up. Checks and dbt ran once, for the whole batch.
   */
  readonly timingsMs: {
    total: number;
    load: number;
    fetch: number;
    enrich: number;
    stageLoad: number;
    checks: number;
    dbt: number;
  };
  readonly busyMs: { fetch: number; enrich: number; stageLoad: number };
}

/** Gathers the summary of a backfill batch: every day's record from the lake, the marts once. */
export const summarizeBackfill = async (
  pipeline: SummarySource,
  target: {
    batchId: string;
    days: readonly { chartId: string; chartDate: string; runId: string | null }[];
    requestsBefore: Record<string, number>;
    wallMs: { load: number; total: number };
  },
): Promise<BackfillSummary> => {
  const { store, warehouse } = pipeline;
  const runRecords = new RunRecords(store);
  const records: (RunRecord | undefined)[] = [];
  // Each day reads a few objects of its own: days are read side by side, a few at a time, and kept
  // in the order given.
  const days = await pMap(
    target.days,
    async (day, index): Promise<BackfillDay> => {
      const record = day.runId
        ? (await runRecords.list(day)).filter((r) => r.runId === day.runId).at(-1)
        : undefined;
      records[index] = record;
      const attributes = day.runId ? await attributesOfRun(pipeline.store, day, day.runId) : undefined;
      return {
        chartId: day.chartId,
        chartDate: day.chartDate,
        runId: day.runId,
        loadId: record && record.status !== 'not_loaded' ? record.loadId : null,
        status: record?.status ?? 'not_loaded',
        rows: record?.rows ?? {},
        chartEntries: 0,
        checks: checksOf(record),
        deadLettered: day.runId && attributes ? deadLettered(pipeline, attributes, day.runId) : [],
        skipped: day.runId ? await skippedEntries(pipeline, day, day.runId) : [],
        quarantined: day.runId ? await quarantined(pipeline, day, day.runId) : [],
        missing: attributes?.missing ?? noneMissing(),
      };
    },
    { concurrency: summaryConcurrency },
  );
  const ofBatch = records.filter((r): r is RunRecord => r?.batch?.batchId === target.batchId);

  const { marts } = await martCounts(warehouse);
  const entries = new Map<string, number>();
  try {
    const rows = await warehouse.query<{ chart_id: string; chart_date: string; n: number }>(
      'select chart_id, chart_date, count(*) as n from marts.fct_chart_entries group by chart_id, chart_date',
    );
    for (const r of rows) entries.set(`${r.chart_id}|${r.chart_date}`, Number(r.n));
  } catch {
    // No marts yet: dbt has never succeeded on this warehouse.
  }

  const rows: Record<string, number> = {};
  for (const day of days)
    for (const [table, n] of Object.entries(day.rows)) rows[table] = (rows[table] ?? 0) + n;
  const first = ofBatch[0];
  const phases = pipeline.phases.durations();
  const busy = pipeline.phases.busy();
  return {
    batchId: target.batchId,
    status: first?.status ?? 'not_loaded',
    loads: ofBatch.length,
    failedLoads: first?.batch?.failedLoads ?? 0,
    failedChecks: first?.batch?.failed ?? [],
    days: days.map((d) => ({ ...d, chartEntries: entries.get(`${d.chartId}|${d.chartDate}`) ?? 0 })),
    rows,
    marts,
    requests: requestsSince(pipeline, target.requestsBefore),
    spotifyAccess: pipeline.hasSpotify ? pipeline.spotifyAccess.level : 'none',
    dbtMessage: first?.transform?.message ?? null,
    failedInvocations: pipeline.invoker.failures.map(({ functionName, error }) => ({ functionName, error })),
    backlog: await backlogOf(pipeline, target.days),
    openBreakers: pipeline.breakers.opened(),
    timingsMs: {
      total: Math.round(target.wallMs.total),
      load: Math.round(target.wallMs.load),
      fetch: phases.extract ?? 0,
      enrich: phases.enrich ?? 0,
      stageLoad: phases.load ?? 0,
      checks: first?.timings.checksMs ?? 0,
      dbt: first?.timings.dbtMs ?? 0,
    },
    busyMs: { fetch: busy.extract ?? 0, enrich: busy.enrich ?? 0, stageLoad: busy.load ?? 0 },
  };
};

/**
 * Why a run did not load, in a sentence for its `not_loaded` record: chart-fetch's failure when it
 * failed for good, else what kept the day from completing (tracks dead-lettered, invocations that
 * failed for good).
 */
export const whyNotLoaded = async (
  pipeline: SummarySource,
  day: { chartId: string; chartDate: string; runId: string | null },
  failure?: unknown,
): Promise<{ readonly reason: string; readonly deadLettered: number }> => {
  if (failure !== undefined) {
    return {
      reason: `chart-fetch failed for good: ${failure instanceof Error ? failure.message : String(failure)}`,
      deadLettered: 0,
    };
  }
  const dead = day.runId
    ? deadLettered(pipeline, await attributesOfRun(pipeline.store, day, day.runId), day.runId)
    : [];
  const failed = [...new Set(pipeline.invoker.failures.map((f) => `${f.functionName}: ${f.error}`))];
  const causes = [
    dead.length ? `${dead.length} track(s) dead-lettered` : undefined,
    failed.length ? `failed for good: ${failed.slice(-3).join('; ')}` : undefined,
  ].filter((cause): cause is string => cause !== undefined);
  return {
    reason: `the day never completed: ${causes.join('; ') || 'not every track got its attributes'}`,
    deadLettered: dead.length,
  };
};

const checksOf = (record: RunRecord | undefined): RunSummary['checks'] => ({
  passed: record?.checks.filter((c) => c.passed).length ?? 0,
  failed: (record?.checks ?? [])
    .filter((c) => !c.passed)
    .map(({ name, detail }) => ({ name, ...(detail ? { detail } : {}) })),
});

const requestsSince = (pipeline: SummarySource, before: Record<string, number>): Record<string, number> => {
  const requests: Record<string, number> = {};
  for (const [provider, count] of Object.entries(pipeline.counter.snapshot())) {
    const made = count - (before[provider] ?? 0);
    if (made > 0) requests[provider] = made;
  }
  return requests;
};

/** Rows of each mart the summaries count; empty when dbt has never succeeded on this warehouse. */
const martCounts = async (
  warehouse: SummarySource['warehouse'],
): Promise<{ marts: Record<string, number> }> => {
  const marts: Record<string, number> = {};
  try {
    for (const table of martTables) {
      const [row] = await warehouse.query<{ n: number }>(`select count(*) as n from marts.${table}`);
      marts[table] = Number(row?.n ?? 0);
    }
  } catch {
    // No marts yet.
  }
  return { marts };
};

/** What a run's attribute rows lack, and the tracks a row says were dead-lettered (with the reason). */
export interface RunAttributes {
  readonly missing: MissingCounts;
  readonly deadLettered: readonly { readonly trackId: string; readonly reason: string }[];
}

/**
 * What the run's attribute rows in the lake lack. A part the run marked, whose CSVs are still the
 * ones its marker describes, is counted from the marker (`PartManifest.missing`), without reading
 * its CSV; every other attributes CSV of the day (of a marker written before the counts were kept,
 * changed since, or of no marker) is read for its rows of the run, as all were before. A file that
 * is no CSV any more (damaged: the loader refused the day, and the summary says so) is passed over,
 * not thrown on: the summary tells what it can.
 */
export const attributesOfRun = async (
  store: ObjectStore,
  day: { chartId: string; chartDate: string },
  runId: string,
): Promise<RunAttributes> => {
  // Either layout: `tables/` since it has one, beside the raw answers before (shared/lake/layouts.ts).
  const listing = (await listDay(store, day)).attributes;
  let missing = noneMissing();
  const counted = new Set<string>();
  for (const part of keyedParts(listing, day, runId).parts) {
    const manifest = await readPartManifest(store, part.markerKey).catch(() => undefined);
    if (manifest?.missing === undefined) continue;
    missing = addMissing(missing, manifest.missing);
    counted.add(part.attributesKey);
  }
  const deadLettered: { trackId: string; reason: string }[] = [];
  for (const { key } of listing) {
    if (!isAttributesCsv(day, key) || counted.has(key)) continue;
    const body = await store.get(key);
    let rows;
    try {
      rows = fromStageCsv('song_attributes', body?.toString('utf8') ?? '', key).filter(
        (r) => r.run_id === runId,
      );
    } catch {
      continue;
    }
    missing = addMissing(missing, missingOf(rows));
    for (const row of rows) {
      if (row.enrichment_status === 'dead_lettered') {
        deadLettered.push({ trackId: row.track_id!, reason: row.missing_reason ?? 'no reason recorded' });
      }
    }
  }
  return { missing, deadLettered };
};

/**
 * Tracks of the run in the dead-letter queue, with the reason their last delivery recorded in the
 * lake (rows of the run that say so), else how many deliveries the queue made.
 */
const deadLettered = (
  pipeline: SummarySource,
  attributes: RunAttributes,
  runId: string,
): { trackId: string; reason: string }[] => {
  const reasons = new Map(attributes.deadLettered.map((d) => [d.trackId, d.reason]));
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
  pipeline: SummarySource,
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
  pipeline: SummarySource,
  day: { chartId: string; chartDate: string },
  runId: string,
): Promise<{ position: number; reason: string }[]> => {
  const body = await pipeline.store.get(lakeKeys.manifest(day.chartDate, day.chartId));
  const manifest = body ? manifestSchema.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
  return manifest?.success && manifest.data.runId === runId ? manifest.data.skipped : [];
};

/** The days' tracks in the persistent backlog, and until when they wait if all wait for a quota. */
const backlogOf = async (
  pipeline: SummarySource,
  days: readonly { chartId: string; chartDate: string }[],
): Promise<BacklogCount | null> => {
  const backlog = new MissingBacklog(pipeline.store);
  const entries = (await Promise.all(days.map((day) => backlog.list(day)))).flat();
  if (entries.length === 0) return null;
  const froms = entries.map(retryableFrom);
  const until = froms.every((f) => f !== undefined) ? froms.sort().at(-1)! : null;
  return { tracks: entries.length, until };
};
