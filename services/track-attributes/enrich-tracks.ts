import type { Clock, ObjectStore } from '../../shared/ports/index.js';
import type { ChartDay, TrackMessage } from '../../shared/records/messages.js';
import type { AttributeProvider, LookupBatch, TrackLookup } from './enrichment/attribute-provider.js';
import { lakeKeys, partName } from '../../shared/lake/keys.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { markPart, md5Of } from '../../shared/lake/part-markers.js';
import { bytesOf, lakeFileOf, type LakeFile } from '../../shared/lake/lake-files.js';
import { RetryableError } from '../../shared/errors.js';
import type { StageTableName } from '../../shared/records/stage-tables.js';
import { fromStageCsv, toStageCsv, type CellValue } from '../../shared/records/csv.js';
import { csvTimestamp } from '../../shared/records/timestamps.js';
import { MissingBacklog, type BacklogEntry } from '../../shared/lake/backlog.js';
import { kindReason, missingOf } from '../../shared/records/missing-reasons.js';
import { emitRequests, tallyRequests } from '../../shared/http/request-counter.js';
import { noMetrics, type Metrics } from '../../shared/ports/metrics.js';
import { withLogKeys } from '../../shared/log-keys.js';

/** One delivered message, with how many times SQS has delivered it. */
export interface DeliveredTrack {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly message: TrackMessage;
}

export interface EnrichDeps {
  readonly store: ObjectStore;
  readonly provider: AttributeProvider;
  readonly clock: Clock;
  /** Where the lookups' requests go, per provider (none on one machine). */
  readonly metrics?: Metrics;
}

export interface EnrichResult {
  /** Messages to hand back to the queue (SQS `batchItemFailures`): none, since every track gets its row. */
  readonly failedMessageIds: string[];
  readonly quarantined: number;
  readonly written: number;
  /** Tracks whose row lacks a group for a reason worth asking again: recorded in the backlog. */
  readonly backlogged: number;
}

/**
 * Looks up the tracks of a batch and lands their attributes. Each (run, day, chart) group becomes
 * one part, named by the ids it holds, so a redelivered batch overwrites its part instead of adding
 * one. Every track gets its row at once, even one no provider could answer today (a quota, a
 * provider error): its missing groups are NULL, the row says why (led by the kind), and the track
 * goes to the persistent backlog, so that its day completes in bounded time and nothing is lost
 * (docs/reliability.md, "A day loads with what it has"). Only an error of our own (the lake
 * failing, a bug) fails the invocation, and SQS delivers the batch again.
 */
export const enrichTracks = async (
  batch: readonly DeliveredTrack[],
  deps: EnrichDeps,
): Promise<EnrichResult> => {
  const groups = new Map<string, DeliveredTrack[]>();
  for (const delivered of batch) {
    const { runId, chartId, chartDate } = delivered.message;
    const key = `${runId}|${chartId}|${chartDate}`;
    groups.set(key, [...(groups.get(key) ?? []), delivered]);
  }
  const outcomes: EnrichResult[] = [];
  for (const group of groups.values()) {
    const { runId, chartId, chartDate } = group[0]!.message;
    outcomes.push(await withLogKeys({ runId, chartId, chartDate }, () => enrichGroup(group, deps)));
  }
  const total = (field: 'quarantined' | 'written' | 'backlogged') =>
    outcomes.reduce((sum, o) => sum + o[field], 0);
  return {
    failedMessageIds: [],
    quarantined: total('quarantined'),
    written: total('written'),
    backlogged: total('backlogged'),
  };
};

/** One run's tracks of a day and chart: looked up together, written as one part. */
const enrichGroup = async (group: readonly DeliveredTrack[], deps: EnrichDeps): Promise<EnrichResult> => {
  const { runId, chartId, chartDate } = group[0]!.message;
  const ids = [...new Set(group.map((d) => d.message.trackId))];
  // A batch delivered again after its part was marked: the part stands, written once, and the
  // providers are not asked again (a listing costs less than a lookup, and changes nothing).
  const marked = await deps.store.list(
    lakeKeys.partMarkersPrefix(chartDate, chartId, runId, partName(runId, ids)),
  );
  // Stryker disable next-line ArrayDeclaration: enrichTracks answers failedMessageIds: [] whatever a group's are (every track gets its row)
  if (marked.length > 0) return { failedMessageIds: [], quarantined: 0, written: 0, backlogged: 0 };
  const {
    value: looked,
    requests,
    throttled,
  } = await tallyRequests(() => deps.provider.lookup(ids, chartDate));
  emitRequests(deps.metrics ?? noMetrics, { requests, throttled });
  const rows: PartRows = new Map(
    ids.map((id) => {
      const lookup = looked.results.get(id) ?? {
        status: 'missing',
        reason: kindReason('provider_error', 'the provider gave no answer for this id'),
      };
      return [id, { lookup, status: lookup.status }];
    }),
  );
  const backlogged = await updateBacklog(group[0]!.message, ids, looked, deps);
  const quarantined = await writePart(group[0]!.message, rows, { ...looked, requests }, deps);
  // Stryker disable next-line ArrayDeclaration: enrichTracks answers failedMessageIds: [] whatever a group's are (every track gets its row)
  return { failedMessageIds: [], quarantined, written: rows.size, backlogged };
};

type PartRows = Map<string, { lookup: TrackLookup; status: string }>;

/**
 * Records the tracks that lack a group worth asking again in the backlog, and removes the others
 * of this day from it: a later run has them now. Written before the part's marker, so a day that
 * loads has its backlog in the lake.
 */
const updateBacklog = async (
  message: TrackMessage,
  ids: readonly string[],
  looked: LookupBatch,
  deps: EnrichDeps,
): Promise<number> => {
  const { runId, chartId, chartDate } = message;
  const now = deps.clock.now();
  const backlog = new MissingBacklog(deps.store);
  const entries: BacklogEntry[] = [];
  for (const id of ids) {
    const gaps = looked.gaps?.get(id) ?? [];
    if (gaps.length === 0) continue;
    entries.push({
      trackId: id,
      chartDate,
      chartId,
      runId,
      recordedAt: now.toISOString(),
      gaps: gaps.map(({ group, kind, reason, retryAfterMs }) => ({
        group,
        kind,
        reason,
        ...(kind === 'quota' && retryAfterMs !== undefined
          ? { until: new Date(now.getTime() + retryAfterMs).toISOString() }
          : {}),
      })),
    });
  }
  await backlog.record(entries);
  const filled = new Set(entries.map((e) => e.trackId));
  await backlog.resolve(
    { chartDate, chartId },
    ids.filter((id) => !filled.has(id)),
  );
  return entries.length;
};

/** The part's CSV rows: one per track, with its attributes or why it has none, and its artists in order. */
const csvRowsOf = (lineage: Record<string, CellValue>, rows: PartRows) => {
  const attributeRows: Record<string, CellValue>[] = [];
  const artistRows: Record<string, CellValue>[] = [];
  for (const [trackId, { lookup, status }] of rows) {
    const base = { ...lineage, track_id: trackId, enrichment_status: status };
    if (lookup.status === 'ok') {
      attributeRows.push({ ...base, ...lookup.attributes });
      lookup.artists.forEach((artist, index) =>
        artistRows.push({
          ...lineage,
          track_id: trackId,
          artist_position: index + 1,
          artist_id: artist.artistId,
          artist_name: artist.artistName,
        }),
      );
      continue;
    }
    attributeRows.push({ ...base, missing_reason: lookup.reason });
  }
  return { attributeRows, artistRows };
};

/**
 * Writes the part: every invalid answer in quarantine, then the raw answer, then the CSVs, then the
 * marker that says they are complete and holds their manifest (the last write). A part's files are
 * written once (create-if-absent): a redelivered batch, or a duplicate running beside it, keeps
 * what the first wrote and marks that, so a listed file never changes under its manifest.
 * Returns how many answers were quarantined.
 */
const writePart = async (
  message: TrackMessage,
  rows: PartRows,
  looked: LookupBatch & { readonly requests: Record<string, number> },
  deps: EnrichDeps,
): Promise<number> => {
  const { runId, chartId, chartDate } = message;
  const extractedAt = csvTimestamp(deps.clock.now());
  const lineage = { chart_id: chartId, chart_date: chartDate, run_id: runId, extracted_at: extractedAt };
  const trackIds = [...rows.keys()];
  const part = partName(runId, trackIds);
  const { attributeRows, artistRows } = csvRowsOf(lineage, rows);
  // Every answer that failed validation is kept with its reason, even when another source filled the gap.
  for (const answer of looked.quarantine) {
    await deps.store.put(
      lakeKeys.quarantine(
        'song_attributes',
        chartDate,
        chartId,
        `${runId}-${answer.trackId}-${answer.provider}`,
      ),
      JSON.stringify({
        reason: answer.reason,
        provider: answer.provider,
        runId,
        trackId: answer.trackId,
        raw: answer.raw,
      }),
      { contentType: 'application/json' },
    );
  }
  // The artists CSV first: whatever part a delivery leaves when it stops has rows that name its
  // run (verify tells a stopped run's part from an unlisted file by them); then the attributes CSV,
  // since a day decided from its files counts a part once its attributes CSV is there; the raw
  // answer last: the CSVs, under `tables/`, fire no load, so on a day without markers its
  // ObjectCreated, under `raw/`, is the one that finds the part complete (docs/architecture.md).
  const artists = await writeOnce(deps.store, lakeKeys.artistsCsv(chartDate, chartId, part), {
    body: toStageCsv('song_artists', artistRows),
    rows: artistRows.length,
    table: 'song_artists',
    contentType: 'text/csv',
  });
  const attributes = await writeOnce(deps.store, lakeKeys.attributesCsv(chartDate, chartId, part), {
    body: toStageCsv('song_attributes', attributeRows),
    rows: attributeRows.length,
    table: 'song_attributes',
    contentType: 'text/csv',
  });
  const raw = await writeOnce(deps.store, lakeKeys.attributesRaw(chartDate, chartId, part), {
    body: JSON.stringify(looked.raw),
    rows: null,
    contentType: 'application/json',
  });
  const indexes = await manifestIndexes(deps.store, { chartDate, chartId }, runId, trackIds);
  if (indexes) {
    await markPart(deps.store, {
      runId,
      chartId,
      chartDate,
      part,
      trackIds,
      indexes,
      files: [raw.file, attributes.file, artists.file],
      // What the attributes CSV the lake holds lacks: ours, or the one written before.
      missing: missingOf(attributes.held ?? attributeRows),
      // The requests and quarantined answers of the delivery that marks the part.
      requests: looked.requests,
      quarantined: looked.quarantine.length,
      attributesMd5: attributes.md5,
      artistsMd5: artists.md5,
    });
  }
  return looked.quarantine.length;
};

/** A file as the lake holds it after {@link writeOnce}: its manifest entry and its md5 (its ETag). */
interface WrittenFile {
  readonly file: LakeFile;
  readonly md5: string;
  /** The rows of a CSV that was there already, as read back; `undefined` when it is ours. */
  readonly held?: readonly Record<string, string | null>[];
}

/**
 * Creates a part's file unless it is there already, and describes the file the lake then holds:
 * ours, or the one an earlier delivery of the same run and ids wrote (read back, rows counted).
 */
const writeOnce = async (
  store: ObjectStore,
  key: string,
  file: { body: string; rows: number | null; table?: StageTableName; contentType: string },
): Promise<WrittenFile> => {
  // Encoded once: the store, the manifest's SHA-256 and the md5 all take its bytes.
  const body = bytesOf(file.body);
  // Stryker disable next-line BlockStatement: reading back the file just created gives the same bytes, md5 and rows (held rows count what ours do): only a needless read
  if (await store.createIfAbsent(key, body, { contentType: file.contentType })) {
    return { file: lakeFileOf(key, body, file.rows), md5: md5Of(body) };
  }
  const held = await store.get(key);
  if (held === undefined) throw new RetryableError(`${key} was there a moment ago and is gone`);
  const rows = file.table ? fromStageCsv(file.table, held.toString('utf8'), key) : undefined;
  return { file: lakeFileOf(key, held, rows?.length ?? null), md5: md5Of(held), held: rows };
};

/**
 * Where the tracks sit in their run's manifest, for the part's marker; `undefined` when the part
 * gets none: the manifest names another run (a re-run replaced it, and only its run is loaded) or
 * is decided by reading files (it has no `chartCsvMd5`).
 */
const manifestIndexes = async (
  store: ObjectStore,
  day: ChartDay,
  runId: string,
  trackIds: readonly string[],
): Promise<number[] | undefined> => {
  const manifest = await readManifest(store, day);
  if (manifest?.runId !== runId || manifest.chartCsvMd5 === undefined) return undefined;
  const indexOf = new Map(manifest.trackIds.map((id, index) => [id, index]));
  const indexes = trackIds.map((id) => indexOf.get(id));
  return indexes.every((i) => i !== undefined) ? indexes : undefined;
};
