import type { Clock, EventBus, ObjectStore, Warehouse } from '../../shared/ports/index.js';
import { datasets, lakeKeys, parseRawKey, rawPrefix } from '../../shared/lake/keys.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { keyedParts } from '../../shared/lake/part-markers.js';
import { BatchProtocol } from '../../shared/transform/batch-protocol.js';
import {
  eventSource,
  stageLoadedDetailType,
  type ChartDay,
  type Claim,
  type Manifest,
  type StageLoaded,
} from '../../shared/records/messages.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { newId } from '../../shared/ids.js';

export interface StageLoaderDeps {
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly bus: EventBus;
  readonly clock: Clock;
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
 * Runs on every object created under `raw/`. For each day and chart it touches: if both datasets of
 * the manifest's run are complete (decided from keys, `shared/lake/part-markers.ts`), claim the load (create-if-absent, so exactly one caller wins
 * however many events arrive), COPY both into the stage in one transaction, and announce it.
 */
export const loadCompletedDays = async (
  keys: readonly string[],
  deps: StageLoaderDeps,
): Promise<LoadDecision[]> => {
  const decisions: LoadDecision[] = [];
  for (const day of daysOfKeys(keys)) decisions.push(await loadIfComplete(day, deps));
  return decisions;
};

const loadIfComplete = async (day: ChartDay, deps: StageLoaderDeps): Promise<LoadDecision> => {
  const { store, warehouse, bus, clock } = deps;
  const manifest = await readManifest(store, day);
  if (!manifest) return { outcome: 'incomplete', day, missing: null };
  const { runId } = manifest;
  const { files, missing, chartIsTheRuns } =
    manifest.chartCsvMd5 === undefined
      ? await completenessFromFiles(store, day, manifest)
      : await completenessFromKeys(store, day, manifest, manifest.chartCsvMd5);
  if (missing > 0 || !chartIsTheRuns) return { outcome: 'incomplete', day, missing };

  const loadId = newId(clock);
  const claim: Claim = { runId, loadId, claimedAt: clock.now().toISOString() };
  const claimKey = lakeKeys.claim(day.chartDate, day.chartId, runId);
  if (!(await store.createIfAbsent(claimKey, JSON.stringify(claim), { contentType: 'application/json' }))) {
    return { outcome: 'already_claimed', day, runId };
  }

  const started = clock.now().getTime();
  let rows;
  try {
    await warehouse.ensureStage();
    rows = await warehouse.loadStage({ runId, ...day, files });
  } catch (error) {
    // Nothing was loaded (one transaction): give the claim back so that a retry can load.
    await store.delete(claimKey);
    throw error;
  }
  const loadMs = clock.now().getTime() - started;
  // A backfill's load joins its batch before it is announced, so that the batch's transform finds it.
  const batch = await new BatchProtocol(store, clock).recordLoad(
    { runId, loadId, ...day, rows, loadMs },
    manifest.batchId,
  );
  const detail: StageLoaded = { runId, loadId, ...day, rows, ...batch };
  await bus.publish({ source: eventSource, detailType: stageLoadedDetailType, detail });
  return { outcome: 'loaded', day, runId, loadId, rows };
};

/** Whether a day's run is complete, and the files its load COPYs. */
interface Completeness {
  readonly files: { chart_songs: string[]; song_attributes: string[]; song_artists: string[] };
  /** How many of the manifest's tracks no part of the run covers yet. */
  readonly missing: number;
  /** Whether the chart CSV in the lake is the run's (a re-run may be halfway through rewriting it). */
  readonly chartIsTheRuns: boolean;
}

/**
 * From two listings, reading no data file: the markers of the run's parts say what each covers, and
 * the listed ETags that the CSVs are still the ones they describe (see `part-markers.ts`). A file
 * changed since the run wrote it is read, to tell whose rows it holds, as all were before markers.
 */
const completenessFromKeys = async (
  store: ObjectStore,
  day: ChartDay,
  manifest: Manifest,
  chartCsvMd5: string,
): Promise<Completeness> => {
  const chartCsv = lakeKeys.chartCsv(day.chartDate, day.chartId);
  const [charts, attributes] = await Promise.all([
    store.list(rawPrefix('chart_songs', day.chartDate, day.chartId)),
    store.list(rawPrefix('song_attributes', day.chartDate, day.chartId)),
  ]);
  const keyed = keyedParts(attributes, day, manifest.runId);
  const covered = new Set(keyed.covered);
  const parts = [...keyed.parts];
  const indexOf = new Map(manifest.trackIds.map((id, index) => [id, index]));
  for (const files of keyed.changed) {
    const trackIds = await trackIdsOfRun(store, files.attributesKey, manifest.runId);
    if (trackIds.length === 0) continue;
    parts.push(files);
    for (const id of trackIds) if (indexOf.has(id)) covered.add(indexOf.get(id)!);
  }
  const missing = manifest.trackIds.filter((_, index) => !covered.has(index)).length;
  const chartListed = charts.some((o) => o.key === chartCsv && o.etag === chartCsvMd5);
  return {
    files: filesOf(
      chartCsv,
      parts.sort((a, b) => a.attributesKey.localeCompare(b.attributesKey)),
    ),
    missing,
    chartIsTheRuns: missing === 0 && (chartListed || (await chartOfRun(store, chartCsv, manifest.runId))),
  };
};

/** As days were decided before part markers: by reading the chart and every attribute part. */
const completenessFromFiles = async (
  store: ObjectStore,
  day: ChartDay,
  manifest: Manifest,
): Promise<Completeness> => {
  const chartCsv = lakeKeys.chartCsv(day.chartDate, day.chartId);
  const parts = await attributeParts(store, day, manifest.runId);
  const covered = new Set(parts.flatMap((p) => p.trackIds));
  const missing = manifest.trackIds.filter((id) => !covered.has(id)).length;
  return {
    files: filesOf(chartCsv, parts),
    missing,
    chartIsTheRuns: missing === 0 && (await chartOfRun(store, chartCsv, manifest.runId)),
  };
};

const filesOf = (
  chartCsv: string,
  parts: readonly { attributesKey: string; artistsKey: string }[],
): Completeness['files'] => ({
  chart_songs: [chartCsv],
  song_attributes: parts.map((p) => p.attributesKey),
  song_artists: parts.map((p) => p.artistsKey),
});

/** Whether the chart CSV in the lake is the manifest run's (a re-run may be halfway through rewriting it). */
const chartOfRun = async (store: ObjectStore, key: string, runId: string): Promise<boolean> => {
  const body = await store.get(key);
  if (!body) return false;
  const rows = fromStageCsv('chart_songs', body.toString('utf8'), key);
  return rows.length > 0 && rows.every((r) => r.run_id === runId);
};

interface AttributePart {
  readonly attributesKey: string;
  readonly artistsKey: string;
  readonly trackIds: readonly string[];
}

/** The attribute parts written for a run; parts of earlier runs of the same day are left out. */
const attributeParts = async (store: ObjectStore, day: ChartDay, runId: string): Promise<AttributePart[]> => {
  const objects = await store.list(rawPrefix(datasets[1], day.chartDate, day.chartId));
  const keys = new Set(objects.map((o) => o.key));
  const parts: AttributePart[] = [];
  for (const { key } of objects) {
    if (!key.endsWith('.song_attributes.csv')) continue;
    const artistsKey = key.replace(/\.song_attributes\.csv$/, '.song_artists.csv');
    if (!keys.has(artistsKey)) continue;
    const trackIds = await trackIdsOfRun(store, key, runId);
    if (trackIds.length > 0) parts.push({ attributesKey: key, artistsKey, trackIds });
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
