import * as z from 'zod';
import { landChart } from '../../services/chart-fetch/fetch-chart.js';
import type { ChartEntry, ChartSnapshot } from '../../services/chart-fetch/sources/chart-source.js';
import { PermanentError } from '../../shared/errors.js';
import { MissingBacklog, retryableFrom, type BacklogEntry } from '../../shared/lake/backlog.js';
import { lakeKeys } from '../../shared/lake/keys.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { keysOf, listDay, newestChartCsv } from '../../shared/lake/layouts.js';
import type { Clock, ObjectStore, Queue } from '../../shared/ports/index.js';
import { fromStageCsv } from '../../shared/records/csv.js';
import { trackId, type ChartDay } from '../../shared/records/messages.js';
import { parseOrThrow } from '../../shared/parse.js';
import type { RunSummary } from './run-summary.js';

/** What `chartflow retry-missing` did for one day and chart of the backlog. */
export interface RetryMissingDay {
  readonly chartId: string;
  readonly chartDate: string;
  /** The day's tracks in the backlog before the retry. */
  readonly tracks: number;
  /** Not asked: every track waits for a quota that ends then. */
  readonly skippedUntil: string | null;
  /** The new run of the day, when it was asked again. */
  readonly run: RunSummary | null;
  /** The day's tracks still in the backlog afterwards. */
  readonly stillMissing: number;
}

export interface RetryMissingResult {
  readonly days: RetryMissingDay[];
  /** Tracks still in the backlog of the days asked for (skipped days included). */
  readonly stillMissing: number;
}

export interface RetryMissingDeps {
  readonly store: ObjectStore;
  readonly clock: Clock;
  /** Runs a day again from the chart the lake holds ({@link relandChart}), until its transform has finished. */
  readonly rerun: (day: ChartDay) => Promise<RunSummary>;
  /** A line for the person waiting (stderr). */
  readonly note?: (line: string) => void;
}

/**
 * Asks again for what the backlog says is missing (docs/reliability.md, "A day loads with what it
 * has"): each day and chart with entries is run again from the chart the lake already holds, so
 * that nothing but attributes is fetched, and the new run's rows replace the old ones in the marts.
 * Every track of the day is looked up again (most from the attribute cache, which never kept what a
 * failed lookup stood in with); the new run removes from the backlog what it now has. A day whose
 * every track waits for a quota that has not ended is skipped, with a line saying until when.
 */
export const retryMissing = async (
  deps: RetryMissingDeps,
  filter: { chartDate?: string; chartId?: string } = {},
): Promise<RetryMissingResult> => {
  const backlog = new MissingBacklog(deps.store);
  const byDay = new Map<string, BacklogEntry[]>();
  for (const entry of await backlog.list(filter)) {
    const key = `${entry.chartDate}|${entry.chartId}`;
    byDay.set(key, [...(byDay.get(key) ?? []), entry]);
  }
  const days: RetryMissingDay[] = [];
  for (const key of [...byDay.keys()].sort()) {
    const entries = byDay.get(key)!;
    const day = { chartDate: entries[0]!.chartDate, chartId: entries[0]!.chartId };
    const waits = entries.map(retryableFrom);
    const until = waits.every((w) => w !== undefined) ? waits.sort().at(-1)! : undefined;
    if (until !== undefined && Date.parse(until) > deps.clock.now().getTime()) {
      deps.note?.(
        `chartflow: ${day.chartId} ${day.chartDate}: ${entries.length} track(s) wait for a quota until ${until}; skipped`,
      );
      days.push({
        ...day,
        tracks: entries.length,
        skippedUntil: until,
        run: null,
        stillMissing: entries.length,
      });
      continue;
    }
    deps.note?.(`chartflow: ${day.chartId} ${day.chartDate}: asking again for ${entries.length} track(s)…`);
    const run = await deps.rerun(day);
    const stillMissing = (await backlog.list(day)).length;
    days.push({ ...day, tracks: entries.length, skippedUntil: null, run, stillMissing });
  }
  return { days, stillMissing: days.reduce((sum, d) => sum + d.stillMissing, 0) };
};

/** A row of the normalized chart CSV, as the new run needs it. */
const chartRowSchema = z.object({
  position: z.coerce.number().int().positive(),
  track_id: trackId,
  track_name: z.string(),
  artist_names: z.string(),
  streams: z.coerce.number().int().nullable(),
  source: z.string(),
});

/**
 * Lands a day again as a new run from what the lake holds, as chart-fetch would from its source:
 * the normalized chart CSV gives the entries, the manifest what the source skipped, and the
 * source's payload is kept as it was. Returns the new run's id.
 *
 * @throws {PermanentError} when the lake has no chart for the day.
 */
export const relandChart = async (
  day: ChartDay,
  deps: { store: ObjectStore; queue: Queue; clock: Clock },
): Promise<string> => {
  // Either layout: the day's newest chart CSV (shared/lake/layouts.ts).
  const [listing, manifest] = await Promise.all([listDay(deps.store, day), readManifest(deps.store, day)]);
  const csvKey = newestChartCsv(day, keysOf(listing.charts));
  const csv = await deps.store.get(csvKey);
  if (!csv || !manifest) {
    throw new PermanentError(`the lake has no chart for ${day.chartId} on ${day.chartDate} (${csvKey})`);
  }
  const rows = fromStageCsv('chart_songs', csv.toString('utf8'), csvKey).map((row, index) =>
    parseOrThrow(chartRowSchema, row, `${csvKey}, row ${index + 1}`),
  );
  const entries: ChartEntry[] = rows.map((row) => ({
    position: row.position,
    trackId: row.track_id,
    trackName: row.track_name,
    artistNames: row.artist_names,
    streams: row.streams,
  }));
  const snapshot: ChartSnapshot = {
    source: rows[0]?.source ?? manifest.source,
    entries,
    // What the source skipped was quarantined, with its payload, by the first run.
    skipped: manifest.skipped.map((s) => ({ ...s, raw: null })),
    raw: null,
  };
  const raw = await sourcePayload(deps.store, day);
  const result = await landChart(day, snapshot, raw, deps);
  return result.runId;
};

/** The source's payload as the lake keeps it, written again unchanged by the new run. */
const sourcePayload = async (store: ObjectStore, day: ChartDay) => {
  for (const [key, contentType] of [
    [lakeKeys.chartRaw(day.chartDate, day.chartId), 'application/json'],
    [lakeKeys.chartSourceFile(day.chartDate, day.chartId), 'text/csv'],
  ] as const) {
    const body = await store.get(key);
    if (body) return { key, body: new Uint8Array(body), contentType };
  }
  throw new PermanentError(`the lake has no source payload for ${day.chartId} on ${day.chartDate}`);
};
