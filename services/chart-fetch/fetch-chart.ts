import type { ChartDay, Manifest, TrackMessage } from '../../shared/records/messages.js';
import { onlyTodayRefusal, type ChartSnapshot, type ChartSource } from './sources/chart-source.js';
import type { Clock, ObjectStore, Queue } from '../../shared/ports/index.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { maxKeyedTracks, md5Of } from '../../shared/lake/part-markers.js';
import { bytesOf, lakeFileOf, type LakeFile } from '../../shared/lake/lake-files.js';
import { toStageCsv } from '../../shared/records/csv.js';
import { csvTimestamp } from '../../shared/records/timestamps.js';
import { PermanentError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { emitRequests, tallyRequests } from '../../shared/http/request-counter.js';
import { noMetrics, type Metrics } from '../../shared/ports/metrics.js';

export interface ChartFetchDeps {
  readonly store: ObjectStore;
  readonly queue: Queue;
  readonly source: ChartSource;
  readonly clock: Clock;
  /** Where the requests reading the chart took go, per provider (none on one machine). */
  readonly metrics?: Metrics;
}

export interface ChartFetchResult {
  readonly runId: string;
  readonly chartId: string;
  readonly chartDate: string;
  readonly entries: number;
  readonly skipped: number;
}

/** What landing a chart needs: the lake, the track queue, the time. */
export type LandChartDeps = Pick<ChartFetchDeps, 'store' | 'queue' | 'clock'>;

/** A source's payload as received, and where it is kept in the lake. */
export interface RawPayload {
  readonly key: string;
  readonly body: string | Uint8Array;
  readonly contentType: string;
}

/**
 * Refuses a day that the source cannot tell: a playlist read for a past day would give today's
 * entries. Here, in the service, so that every caller is protected (the CLI, a backfill, a late
 * or hand-made scheduled event on AWS); the CLI checks the same rule first, to say it before
 * starting anything.
 *
 * @throws {PermanentError} when the source captures only today and the day is another one
 */
export const assertSourceHasDay = (source: ChartSource, chartDate: string, clock: Clock): void => {
  const today = clock.now().toISOString().slice(0, 10);
  if (source.onlyToday === true && chartDate !== today) {
    throw new PermanentError(onlyTodayRefusal(chartDate, today));
  }
};

/**
 * Reads a day's chart from its source and lands it ({@link landChart}), with the source's answer
 * as received kept as JSON.
 *
 * @throws {PermanentError} for a day the source cannot tell ({@link assertSourceHasDay}); nothing is written
 */
export const fetchChart = async (
  day: ChartDay & { batchId?: string },
  deps: ChartFetchDeps,
): Promise<ChartFetchResult> => {
  assertSourceHasDay(deps.source, day.chartDate, deps.clock);
  const {
    value: snapshot,
    requests,
    throttled,
  } = await tallyRequests(() => deps.source.fetch(day.chartId, day.chartDate));
  emitRequests(deps.metrics ?? noMetrics, { requests, throttled });
  return landChart(
    day,
    snapshot,
    {
      key: lakeKeys.chartRaw(day.chartDate, day.chartId),
      body: JSON.stringify(snapshot.raw),
      contentType: 'application/json',
    },
    deps,
    requests,
  );
};

/**
 * Lands a day's chart, whatever its source: the payload as received, the invalid entries in
 * quarantine, the normalized CSV, then the manifest of expected track ids (last, so that a
 * complete manifest means a complete chart), then one message per track id for the attribute lookups.
 *
 * @throws {PermanentError} if the snapshot has no usable entry.
 */
export const landChart = async (
  day: ChartDay & { batchId?: string },
  snapshot: ChartSnapshot,
  raw: RawPayload,
  deps: LandChartDeps,
  requests: Record<string, number> = {},
): Promise<ChartFetchResult> => {
  const { store, queue, clock } = deps;
  const runId = newId(clock);
  const extractedAt = clock.now();
  if (snapshot.entries.length === 0) {
    throw new PermanentError(
      `${snapshot.source} has no usable tracks for ${day.chartId} on ${day.chartDate}`,
    );
  }

  // Each body is encoded once: the store, the manifest's SHA-256 and the md5 all take its bytes.
  const rawBody = bytesOf(raw.body);
  await store.put(raw.key, rawBody, { contentType: raw.contentType });
  const quarantined = await quarantineInvalid(day, snapshot, runId, store);
  const chartCsv = bytesOf(chartCsvOf(day, snapshot, runId, extractedAt));
  await store.put(lakeKeys.chartCsv(day.chartDate, day.chartId), chartCsv, { contentType: 'text/csv' });
  const manifest: Manifest = {
    ...manifestOf(day, snapshot, runId, extractedAt, chartCsv, [
      lakeFileOf(raw.key, rawBody, null),
      lakeFileOf(lakeKeys.chartCsv(day.chartDate, day.chartId), chartCsv, snapshot.entries.length),
    ]),
    requests,
    quarantined,
  };
  await store.put(lakeKeys.manifest(day.chartDate, day.chartId), JSON.stringify(manifest, null, 2), {
    contentType: 'application/json',
  });
  await queue.send(
    snapshot.entries.map((entry, index) => {
      const message: TrackMessage = {
        runId,
        chartId: day.chartId,
        chartDate: day.chartDate,
        trackId: entry.trackId,
      };
      return { id: String(index), body: JSON.stringify(message) };
    }),
  );
  return {
    runId,
    chartId: day.chartId,
    chartDate: day.chartDate,
    entries: snapshot.entries.length,
    skipped: snapshot.skipped.length,
  };
};

/** Every entry the source gave in a shape we refuse, kept with its reason; answers how many. */
const quarantineInvalid = async (
  day: ChartDay,
  snapshot: ChartSnapshot,
  runId: string,
  store: ObjectStore,
): Promise<number> => {
  const invalid = snapshot.skipped.filter((s) => s.reason.startsWith('invalid'));
  await Promise.all(
    invalid.map((s) =>
      store.put(
        lakeKeys.quarantine('chart_songs', day.chartDate, day.chartId, `${runId}-position-${s.position}`),
        JSON.stringify({ reason: s.reason, runId, raw: s.raw }),
        { contentType: 'application/json' },
      ),
    ),
  );
  return invalid.length;
};

/** The normalized chart, every row with its lineage, as COPY reads it. */
const chartCsvOf = (day: ChartDay, snapshot: ChartSnapshot, runId: string, extractedAt: Date): string => {
  const lineage = {
    chart_id: day.chartId,
    chart_date: day.chartDate,
    run_id: runId,
    extracted_at: csvTimestamp(extractedAt),
  };
  return toStageCsv(
    'chart_songs',
    snapshot.entries.map((entry) => ({
      ...lineage,
      position: entry.position,
      track_id: entry.trackId,
      track_name: entry.trackName,
      artist_names: entry.artistNames,
      streams: entry.streams,
      source: snapshot.source,
    })),
  );
};

/** What the day needs before it can be loaded: the run, its tracks, and its chart CSV's md5. */
const manifestOf = (
  day: ChartDay & { batchId?: string },
  snapshot: ChartSnapshot,
  runId: string,
  extractedAt: Date,
  chartCsv: Uint8Array,
  files: readonly LakeFile[],
): Manifest => ({
  runId,
  chartId: day.chartId,
  chartDate: day.chartDate,
  source: snapshot.source,
  extractedAt: extractedAt.toISOString(),
  trackIds: snapshot.entries.map((e) => e.trackId),
  skipped: snapshot.skipped.map(({ position, reason }) => ({ position, reason })),
  ...(day.batchId ? { batchId: day.batchId } : {}),
  // The stage loader knows the chart CSV is this run's by its ETag, and the day's parts by their
  // markers' keys; a chart too long for markers is decided by reading its files (part-markers.ts).
  ...(snapshot.entries.length <= maxKeyedTracks ? { chartCsvMd5: md5Of(chartCsv) } : {}),
  files: [...files],
});
