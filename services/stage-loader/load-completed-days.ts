import type { Clock, EventBus, ObjectStore, Warehouse } from '../../shared/ports/index.js';
import { noMetrics, type Metrics } from '../../shared/ports/metrics.js';
import { addLogKeys, withLogKeys } from '../../shared/log-keys.js';
import { lakeKeys, parseRawKey } from '../../shared/lake/keys.js';
import {
  chartCsvOfManifest,
  chartCsvSuperseded,
  keysOf,
  listDay,
  listedPartCsvs,
} from '../../shared/lake/layouts.js';
import { readManifest } from '../../shared/lake/manifests.js';
import {
  keyedParts,
  readPartManifest,
  type PartFiles,
  type PartManifest,
} from '../../shared/lake/part-markers.js';
import type { RunRecord } from '../../shared/lake/run-records.js';
import { checkFiles, type FileProblem, type LakeFile } from '../../shared/lake/lake-files.js';
import type { ObjectInfo } from '../../shared/ports/object-store.js';
import { stageTableNames, type StageTableName } from '../../shared/records/stage-tables.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import { TransformBatches } from '../../shared/lake/transform-batches.js';
import {
  eventSource,
  stageLoadedDetailType,
  transformRequestedDetailType,
  type ChartDay,
  type Claim,
  type Manifest,
  type StageLoaded,
  type TransformRequested,
} from '../../shared/records/messages.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { newId } from '../../shared/ids.js';
import pRetry from 'p-retry';

export interface StageLoaderDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly bus: EventBus;
  readonly clock: Clock;
  /** Where a load's rows per dataset, its quarantined items and a refusal go (none on one machine). */
  readonly metrics?: Metrics;
}

/** What the loader made of one day and chart. */
export type LoadDecision =
  | { readonly outcome: 'incomplete'; readonly day: ChartDay; readonly missing: number | null }
  | { readonly outcome: 'already_claimed'; readonly day: ChartDay; readonly runId: string }
  | {
      readonly outcome: 'loaded';
      readonly day: ChartDay;
      readonly runId: string;
      readonly loadId: string;
      readonly rows: Readonly<Record<string, number>>;
    }
  | {
      /** Files of the day are not what their manifests say: nothing was staged (docs/reliability.md). */
      readonly outcome: 'refused';
      readonly day: ChartDay;
      readonly runId: string;
      readonly loadId: string;
      readonly problems: readonly FileProblem[];
    };

/** The days and charts that a batch of created keys touch; keys outside `raw/` touch none. */
export const daysOfKeys = (keys: readonly string[]): ChartDay[] => {
  const days = new Map<string, ChartDay>();
  for (const key of keys) {
    const parsed = parseRawKey(key);
    if (parsed) days.set(`${parsed.date}|${parsed.chart}`, { chartDate: parsed.date, chartId: parsed.chart });
  }
  return [...days.values()];
};

/**
 * Runs on every object created under `raw/` (the CSVs, under `tables/`, fire nothing: the day's
 * manifest and the parts' markers, written after them, do). For each day and chart it touches: if both datasets of
 * the manifest's run are complete (decided from keys, `shared/lake/part-markers.ts`), claim the load
 * (create-if-absent, so exactly one caller wins however many events arrive), hold every file it
 * COPYs to its manifest (size and SHA-256), COPY both into the stage in one transaction, and
 * announce it. A day whose files are not what their manifests say is refused: its run is recorded
 * `not_loaded` naming each file, nothing is staged and no file is touched. Each day's log lines
 * carry its chart, date and run; a recorded load emits its rows per dataset and its quarantined
 * items, a refused one its outcome, once: a retried event finds the load claimed.
 */
export const loadCompletedDays = async (
  keys: readonly string[],
  deps: StageLoaderDeps,
): Promise<LoadDecision[]> => {
  const decisions: LoadDecision[] = [];
  for (const day of daysOfKeys(keys)) {
    decisions.push(await withLogKeys({ ...day }, () => loadIfComplete(day, deps)));
  }
  return decisions;
};

const loadIfComplete = async (day: ChartDay, deps: StageLoaderDeps): Promise<LoadDecision> => {
  const { store, clock } = deps;
  const manifest = await readManifest(store, day);
  if (!manifest) return { outcome: 'incomplete', day, missing: null };
  const { runId } = manifest;
  addLogKeys({ runId });
  const decided =
    manifest.chartCsvMd5 === undefined
      ? await completenessFromFiles(store, day, manifest)
      : await completenessFromKeys(store, day, manifest, manifest.chartCsvMd5);
  const { missing, chartIsTheRuns, damaged } = decided;
  if (decided.claimed === true) return { outcome: 'already_claimed', day, runId };
  if (damaged.length === 0 && (missing > 0 || !chartIsTheRuns))
    return { outcome: 'incomplete', day, missing };

  const loadId = newId(clock);
  const claim: Claim = { runId, loadId, claimedAt: clock.now().toISOString() };
  const claimKey = lakeKeys.claim(day.chartDate, day.chartId, runId);
  if (!(await store.createIfAbsent(claimKey, JSON.stringify(claim), { contentType: 'application/json' }))) {
    return { outcome: 'already_claimed', day, runId };
  }
  const protocol = new BatchProtocol(store, clock);
  const load = { runId, loadId, ...day };
  let loaded: Refused | Recorded;
  try {
    loaded = await loadClaimed({ day, manifest, decided, load, protocol }, deps);
  } catch (error) {
    // Nothing says this load happened (no run record of it): undo it and give the claim back, so
    // that a retry of the event loads the day (docs/architecture.md, invariant 2).
    await giveBack(load, claimKey, deps);
    throw error;
  }
  const metrics = deps.metrics ?? noMetrics;
  if (loaded.outcome === 'refused') {
    metrics.runOutcome('not_loaded', day.chartId, 1);
    return loaded;
  }
  // Emitted once the load is recorded, before it is announced: a failed announcement is retried
  // with the load claimed, so these are never emitted twice.
  for (const [dataset, rows] of Object.entries(loaded.rows)) metrics.rowsLoaded(dataset, rows);
  if (loaded.landing) metrics.quarantined(loaded.landing.quarantined);
  const detail: StageLoaded = { runId, loadId, ...day, rows: loaded.rows, ...loaded.batch };
  await deps.bus.publish({ source: eventSource, detailType: stageLoadedDetailType, detail });
  if (loaded.batch.batchId) await requestIfEveryDayLoaded(loaded.batch.batchId, deps);
  return { outcome: 'loaded', day, runId, loadId, rows: loaded.rows };
};

/**
 * A batch whose days were declared up front (`chartflow ingest --target aws`) is transformed once
 * every one of them is loaded: the loader that finds them all asks for it. Two loaders finishing at
 * once may both ask; the transform handles a batch once (BatchProtocol.startRequested).
 */
const requestIfEveryDayLoaded = async (batchId: string, { store, bus }: StageLoaderDeps): Promise<void> => {
  if (!(await new TransformBatches(store).hasEveryExpectedDay(batchId))) return;
  const detail: TransformRequested = { batchId };
  await bus.publish({ source: eventSource, detailType: transformRequestedDetailType, detail });
};

type Refused = Extract<LoadDecision, { outcome: 'refused' }>;

/** A load in the stage, and recorded (joined to its backfill's batch, if any). */
interface Recorded {
  readonly outcome: 'recorded';
  readonly rows: Extract<LoadDecision, { outcome: 'loaded' }>['rows'];
  readonly batch: { readonly batchId?: string };
  readonly landing?: RunRecord['landing'];
}

/** What {@link loadClaimed} is given: the day, its manifest, what the keys said, and the claimed load. */
interface ClaimedLoad {
  readonly day: ChartDay;
  readonly manifest: Manifest;
  readonly decided: Completeness;
  readonly load: { readonly runId: string; readonly loadId: string } & ChartDay;
  readonly protocol: BatchProtocol;
}

/** Verifies, COPYs and records a claimed load, or refuses it. */
const loadClaimed = async (
  { day, manifest, decided, load, protocol }: ClaimedLoad,
  { store, warehouse, clock }: StageLoaderDeps,
): Promise<Refused | Recorded> => {
  const { files, damaged } = decided;
  const { runId } = load;
  // The claim stays when a load is refused: events of this run find it taken; a replay resets it
  // and checks again. Held before COPY: the chart CSV to the day's manifest, each part's CSVs to the part's.
  if (damaged.length > 0) return refuse(protocol, load, damaged);
  const expected = await expectedFiles(store, manifest, files);
  const problems = await checkFiles(store, expected.files);
  if (problems.length > 0) return refuse(protocol, load, problems);

  const started = clock.now().getTime();
  await warehouse.ensureStage();
  const rows = await warehouse.loadStage({ runId, ...day, files });
  const counted = rowsProblems(expected.rows, rows);
  if (counted.length > 0) {
    await warehouse.cleanStage([{ runId, ...day }]);
    return refuse(protocol, load, counted);
  }
  const loadMs = clock.now().getTime() - started;
  // A backfill's load joins its batch before it is announced, so that the batch's transform finds it.
  const batch = await protocol.recordLoad(
    { ...load, rows, loadMs, ...(expected.landing ? { landing: expected.landing } : {}) },
    manifest.batchId,
  );
  // Stryker disable next-line StringLiteral: the one caller only compares the outcome with 'refused', so any other text means recorded
  return { outcome: 'recorded', rows, batch, ...(expected.landing ? { landing: expected.landing } : {}) };
};

/**
 * Undoes a claimed load that failed before anything recorded it: its rows leave the stage (a COPY
 * is one transaction, but its answer may have been lost after it committed) and the claim is
 * deleted. Each step is tried a few times, since what failed the load may be failing still.
 */
const giveBack = async (
  load: { readonly runId: string } & ChartDay,
  claimKey: string,
  { store, warehouse }: StageLoaderDeps,
): Promise<void> => {
  const { runId, chartId, chartDate } = load;
  const persist = (step: () => Promise<unknown>) =>
    pRetry(step, { retries: 4, minTimeout: 50, maxTimeout: 1_000 }).catch(() => undefined);
  await persist(() => warehouse.cleanStage([{ runId, chartId, chartDate }]));
  await persist(() => store.delete(claimKey));
};

const refuse = async (
  protocol: BatchProtocol,
  load: { runId: string; loadId: string } & ChartDay,
  problems: readonly FileProblem[],
): Promise<Refused> => {
  await protocol.recordRefused(load, problems);
  const { runId, loadId, ...day } = load;
  return { outcome: 'refused', day, runId, loadId, problems };
};

/** The files a load COPYs as their manifests describe them, and the rows each table should get. */
interface ExpectedFiles {
  /** The loaded files their manifests list; files of a day or part written before checksums are not. */
  readonly files: readonly LakeFile[];
  /** Rows per stage table, where every file of the table is listed. */
  readonly rows: Partial<Record<StageTableName, number>>;
  /** What landing the day took, summed over its manifests (RunRecord.landing), when they kept it. */
  readonly landing?: RunRecord['landing'];
}

const expectedFiles = async (
  store: ObjectStore,
  manifest: Manifest,
  files: Completeness['files'],
): Promise<ExpectedFiles> => {
  // A day written before manifests had checksums has no part manifests either: it loads unverified.
  if (manifest.files === undefined) return { files: [], rows: {} };
  const listed = new Map(manifest.files.map((f) => [f.key, f]));
  const markers = files.markers.filter((key): key is string => key !== undefined);
  const parts = await Promise.all(markers.map((key) => readPartManifest(store, key)));
  for (const partManifest of parts) {
    // Stryker disable next-line ArrayDeclaration: a string in place of [] only sets an entry under the key undefined, which no lookup asks for (the files looked up are keys, strings)
    for (const file of partManifest?.files ?? []) listed.set(file.key, file);
  }
  const rows: Partial<Record<StageTableName, number>> = {};
  const found: LakeFile[] = [];
  for (const table of stageTableNames) {
    const entries = files[table].map((key) => listed.get(key));
    found.push(...entries.filter((e): e is LakeFile => e !== undefined));
    if (entries.every((e) => e !== undefined && e.rows !== null)) {
      // Stryker disable next-line OptionalChaining: every entry is defined here, as the every() just above checked
      rows[table] = entries.reduce((sum, e) => sum + (e?.rows ?? 0), 0);
    }
  }
  return {
    files: found,
    rows,
    // Every attributes file of the day has its part's manifest, or the parts are not all known.
    ...landingOf(manifest, files.song_attributes.length === markers.length ? parts : undefined),
  };
};

/**
 * What landing the day took: the chart's requests and quarantined entries, and every part's. The
 * requests are known only when the manifest and every part kept theirs (a part without a marker,
 * or a manifest written before, leaves them unknown rather than short).
 */
const landingOf = (
  manifest: Manifest,
  parts: readonly (PartManifest | undefined)[] | undefined,
): { landing?: RunRecord['landing'] } => {
  if (manifest.quarantined === undefined) return {};
  // Stryker disable next-line ArrayDeclaration: a string in place of [] adds its quarantined, undefined, as 0: the sum of no part
  const quarantined = (parts ?? []).reduce(
    (sum, part) => sum + (part?.quarantined ?? 0),
    manifest.quarantined,
  );
  const complete = parts !== undefined && parts.every((part) => part?.requests !== undefined);
  if (!complete || manifest.requests === undefined) return { landing: { quarantined } };
  const requests: Record<string, number> = { ...manifest.requests };
  for (const part of parts) {
    for (const [provider, made] of Object.entries(part!.requests!))
      requests[provider] = (requests[provider] ?? 0) + made;
  }
  return { landing: { requests, quarantined } };
};

/** Tables whose COPY loaded other than the rows their files' manifests count. */
const rowsProblems = (
  expected: Partial<Record<StageTableName, number>>,
  loaded: Readonly<Record<StageTableName, number>>,
): FileProblem[] =>
  stageTableNames
    .filter((table) => expected[table] !== undefined && expected[table] !== loaded[table])
    .map((table) => ({
      key: `stage.${table}`,
      kind: 'checksum' as const,
      detail: `COPY loaded ${loaded[table]} rows, the manifests count ${expected[table]}`,
    }));

/** Whether a day's run is complete, and the files its load COPYs. */
interface Completeness {
  readonly files: StageFiles;
  /** How many of the manifest's tracks no part of the run covers yet. */
  readonly missing: number;
  /** Whether the chart CSV in the lake is the run's (a re-run may be halfway through rewriting it). */
  readonly chartIsTheRuns: boolean;
  /**
   * Files the manifests list that the lake no longer holds as written: gone, or changed under their
   * manifest (a part's files are written once; a chart CSV only by a later run, whose rows say so).
   */
  readonly damaged: readonly FileProblem[];
  /** The run's load is claimed already: nothing was checked. */
  readonly claimed?: boolean;
}

/** The files a load COPYs per stage table, and the markers (part manifests) of the parts among them. */
type StageFiles = Record<StageTableName, string[]> & { readonly markers: readonly (string | undefined)[] };

/**
 * From two listings, reading no data file: the markers of the run's parts say what each covers, and
 * the listed ETags that the CSVs are still the ones they describe (see `part-markers.ts`). A file
 * changed since the run wrote it is read, to tell whose rows it holds: on a day whose manifests
 * list checksums, a part changed or gone is damaged (its files are written once), and so is a chart
 * CSV changed but for a later run's rows.
 */
const completenessFromKeys = async (
  store: ObjectStore,
  day: ChartDay,
  manifest: Manifest,
  chartCsvMd5: string,
): Promise<Completeness> => {
  const verified = manifest.files !== undefined;
  const { charts, attributes } = await listDay(store, day);
  const listedCharts = keysOf(charts);
  const chartCsv = chartCsvOfManifest(day, manifest.files, listedCharts);
  // The manifest names a legacy chart CSV and a `tables/` one is there: a later run (which writes the
  // new layout) is rewriting the day, as when it overwrites the chart CSV in one layout.
  const superseded = chartCsvSuperseded(day, chartCsv, listedCharts);
  const keyed = keyedParts(attributes, day, manifest.runId);
  const covered = new Set(keyed.covered);
  const parts = [...keyed.parts];
  const indexOf = new Map(manifest.trackIds.map((id, index) => [id, index]));
  const suspect: PartFiles[] = [];
  for (const files of keyed.changed) {
    if (verified) {
      suspect.push(files);
      continue;
    }
    const trackIds = await trackIdsOfRun(store, files.attributesKey, manifest.runId);
    if (trackIds.length === 0) continue;
    parts.push(files);
    for (const id of trackIds) if (indexOf.has(id)) covered.add(indexOf.get(id)!);
  }
  if (verified) suspect.push(...keyed.gone);
  const missing = manifest.trackIds.filter((_, index) => !covered.has(index)).length;
  const chartListed = !superseded && charts.some((o) => o.key === chartCsv && o.etag === chartCsvMd5);
  // Telling damage costs reads (a HEAD per file, the chart CSV itself): not again on each of a
  // refused run's later events, which find its claim taken.
  if ((suspect.length > 0 || (verified && !chartListed)) && (await claimed(store, day, manifest.runId))) {
    // With claimed, loadIfComplete returns already_claimed at once, reading none of the other fields.
    return {
      // Stryker disable next-line ArrayDeclaration: unread when claimed
      files: filesOf(chartCsv, []),
      missing,
      // Stryker disable next-line BooleanLiteral: unread when claimed
      chartIsTheRuns: false,
      // Stryker disable next-line ArrayDeclaration: unread when claimed
      damaged: [],
      claimed: true,
    };
  }
  const damaged = [
    ...(await partProblems(store, suspect)),
    ...(verified && !superseded ? await chartProblems(store, manifest, chartCsv, charts, chartCsvMd5) : []),
  ];
  return {
    files: filesOf(
      chartCsv,
      parts.sort((a, b) => a.attributesKey.localeCompare(b.attributesKey)),
    ),
    missing,
    chartIsTheRuns:
      damaged.length === 0 &&
      missing === 0 &&
      !superseded &&
      (chartListed || (await chartOfRun(store, chartCsv, manifest.runId))),
    damaged,
  };
};

/** Whether the run's load is claimed (one listing, no body read). */
const claimed = async (store: ObjectStore, day: ChartDay, runId: string): Promise<boolean> => {
  const key = lakeKeys.claim(day.chartDate, day.chartId, runId);
  return (await store.list(key)).some((o) => o.key === key);
};

/** Parts whose files are not what their manifests say, as {@link checkFiles} names them. */
const partProblems = async (store: ObjectStore, parts: readonly PartFiles[]): Promise<FileProblem[]> => {
  const problems: FileProblem[] = [];
  for (const part of parts) {
    const partManifest = await readPartManifest(store, part.markerKey);
    if (partManifest) problems.push(...(await checkFiles(store, partManifest.files)));
  }
  return problems;
};

/**
 * The chart CSV's problem, when it is not the manifest's and no later run is rewriting it: a later
 * run writes its chart CSV before its manifest, so a chart CSV whose every row is another run's is
 * that run's, on its way, not damage.
 */
const chartProblems = async (
  store: ObjectStore,
  manifest: Manifest,
  chartCsv: string,
  listing: readonly ObjectInfo[],
  chartCsvMd5: string,
): Promise<FileProblem[]> => {
  if (listing.some((o) => o.key === chartCsv && o.etag === chartCsvMd5)) return [];
  // Stryker disable next-line OptionalChaining: chartProblems is called only for a verified day, whose manifest has its files
  const entry = manifest.files?.find((f) => f.key === chartCsv);
  if (entry === undefined) return [];
  if (await chartOfLaterRun(store, chartCsv, manifest.runId)) return [];
  return checkFiles(store, [entry]);
};

/** As days were decided before part markers: by reading the chart and every attribute part. */
const completenessFromFiles = async (
  store: ObjectStore,
  day: ChartDay,
  manifest: Manifest,
): Promise<Completeness> => {
  const { charts, attributes } = await listDay(store, day);
  const listedCharts = keysOf(charts);
  const chartCsv = chartCsvOfManifest(day, manifest.files, listedCharts);
  const parts = await attributeParts(store, day, attributes, manifest.runId);
  const covered = new Set(parts.flatMap((p) => p.trackIds));
  const missing = manifest.trackIds.filter((id) => !covered.has(id)).length;
  return {
    files: filesOf(chartCsv, parts),
    missing,
    // A legacy chart CSV beside a `tables/` one is a later run's day on its way (see completenessFromKeys).
    chartIsTheRuns:
      missing === 0 &&
      !chartCsvSuperseded(day, chartCsv, listedCharts) &&
      (await chartOfRun(store, chartCsv, manifest.runId)),
    damaged: [],
  };
};

const filesOf = (
  chartCsv: string,
  parts: readonly { attributesKey: string; artistsKey: string; markerKey?: string }[],
): StageFiles => ({
  chart_songs: [chartCsv],
  song_attributes: parts.map((p) => p.attributesKey),
  song_artists: parts.map((p) => p.artistsKey),
  markers: parts.map((p) => p.markerKey),
});

/** Whether the chart CSV in the lake is the manifest run's (a re-run may be halfway through rewriting it). */
const chartOfRun = async (store: ObjectStore, key: string, runId: string): Promise<boolean> => {
  const body = await store.get(key);
  if (!body) return false;
  const rows = fromStageCsv('chart_songs', body.toString('utf8'), key);
  return rows.length > 0 && rows.every((r) => r.run_id === runId);
};

/**
 * Whether the chart CSV holds a later run's rows, every one (a re-run on its way to its manifest).
 * A file that is not a chart CSV any more holds no run's rows.
 */
const chartOfLaterRun = async (store: ObjectStore, key: string, runId: string): Promise<boolean> => {
  const body = await store.get(key);
  if (!body) return false;
  try {
    const rows = fromStageCsv('chart_songs', body.toString('utf8'), key);
    const runs = new Set(rows.map((r) => r.run_id));
    return rows.length > 0 && runs.size === 1 && !runs.has(runId) && [...runs][0]! > runId;
  } /* Stryker disable next-line BlockStatement: an empty catch answers undefined, which the one caller's if takes as false */ catch {
    return false;
  }
};

interface AttributePart {
  readonly attributesKey: string;
  readonly artistsKey: string;
  readonly trackIds: readonly string[];
}

/**
 * The attribute parts written for a run, in either layout (`shared/lake/layouts.ts`); parts of
 * earlier runs of the same day are left out.
 */
const attributeParts = async (
  store: ObjectStore,
  day: ChartDay,
  listing: readonly ObjectInfo[],
  runId: string,
): Promise<AttributePart[]> => {
  const parts: AttributePart[] = [];
  for (const { attributesKey, artistsKey } of listedPartCsvs(day, listing)) {
    const trackIds = await trackIdsOfRun(store, attributesKey, runId);
    if (trackIds.length > 0) parts.push({ attributesKey, artistsKey, trackIds });
  }
  return parts;
};

/** The track ids of a run's rows in an attributes CSV (none if it is gone, or holds another run's). */
const trackIdsOfRun = async (store: ObjectStore, key: string, runId: string): Promise<string[]> => {
  const body = await store.get(key);
  if (!body) return [];
  return fromStageCsv('song_attributes', body.toString('utf8'), key)
    .filter((r) => r.run_id === runId)
    .map((r) => r.track_id!);
};
