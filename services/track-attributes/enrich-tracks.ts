import type { Clock, ObjectStore } from '../../shared/ports/index.js';
import type { ChartDay, TrackMessage } from '../../shared/records/messages.js';
import type { AttributeProvider, QuarantinedAnswer, TrackLookup } from './enrichment/attribute-provider.js';
import { lakeKeys, partName } from '../../shared/lake/keys.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { markPart } from '../../shared/lake/part-markers.js';
import { toStageCsv, type CellValue } from '../../shared/records/csv.js';
import { csvTimestamp } from '../../shared/records/timestamps.js';
import { RateLimitedError } from '../../shared/errors.js';

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
  /** The queue's redrive maxReceiveCount: a failure on that delivery is the last before the DLQ. */
  readonly maxReceiveCount: number;
}

export interface EnrichResult {
  /** Messages to hand back to the queue (SQS `batchItemFailures`). */
  readonly failedMessageIds: string[];
  /** Tracks given up on: their last delivery failed, so they go to the DLQ, with a row saying why. */
  readonly deadLettered: { trackId: string; reason: string }[];
  readonly quarantined: number;
  readonly written: number;
  /** A provider refused for this long (a long Retry-After, a quota): the failed messages should wait as much. */
  readonly retryAfterMs?: number;
}

/**
 * Looks up the tracks of a batch and lands their attributes. Each (run, day, chart) group becomes
 * one part, named by the ids it holds, so a redelivered batch overwrites its part instead of adding
 * one. A track that cannot be looked up goes back to the queue; on its last delivery it still gets
 * a row (status `dead_lettered`, with the reason), so that its day completes and says what it lacks.
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
  for (const group of groups.values()) outcomes.push(await enrichGroup(group, deps));
  return {
    failedMessageIds: outcomes.flatMap((o) => o.failedMessageIds),
    deadLettered: outcomes.flatMap((o) => o.deadLettered),
    quarantined: outcomes.reduce((sum, o) => sum + o.quarantined, 0),
    written: outcomes.reduce((sum, o) => sum + o.written, 0),
    ...longestWait(outcomes),
  };
};

/** One run's tracks of a day and chart: looked up together, written as one part. */
const enrichGroup = async (group: readonly DeliveredTrack[], deps: EnrichDeps): Promise<EnrichResult> => {
  const { chartDate } = group[0]!.message;
  const ids = [...new Set(group.map((d) => d.message.trackId))];
  const looked = await lookUp(ids, chartDate, deps);
  const { rows, failedMessageIds, deadLettered } = sortDeliveries(
    group,
    looked.lookups,
    deps.maxReceiveCount,
  );
  const quarantined = rows.size > 0 ? await writePart(group[0]!.message, rows, looked, deps) : 0;
  return {
    failedMessageIds,
    deadLettered,
    quarantined,
    written: rows.size,
    ...(looked.retryAfterMs !== undefined && failedMessageIds.length > 0
      ? { retryAfterMs: looked.retryAfterMs }
      : {}),
  };
};

interface GroupLookup {
  readonly lookups: ReadonlyMap<string, TrackLookup>;
  readonly raw: unknown;
  readonly invalidAnswers: readonly QuarantinedAnswer[];
  readonly retryAfterMs?: number;
}

/** The provider's answer for the ids, or one shared failure when the whole batch could not be looked up. */
const lookUp = async (ids: readonly string[], chartDate: string, deps: EnrichDeps): Promise<GroupLookup> => {
  try {
    const { results, raw, quarantine } = await deps.provider.lookup(ids, chartDate);
    return { lookups: results, raw, invalidAnswers: quarantine };
  } catch (error) {
    // The whole batch could not be looked up (a rate limit, the provider down): every track of it
    // is in the same state, so they share one reason.
    const reason =
      error instanceof RateLimitedError ? `rate limited: ${error.message}` : (error as Error).message;
    return {
      lookups: new Map(ids.map((id) => [id, { status: 'failed', reason } as const])),
      raw: { error: reason },
      invalidAnswers: [],
      ...(error instanceof RateLimitedError ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
};

type PartRows = Map<string, { lookup: TrackLookup; status: string }>;

/** Which deliveries get a row now, which go back to the queue, and which are given up on. */
const sortDeliveries = (
  group: readonly DeliveredTrack[],
  lookups: ReadonlyMap<string, TrackLookup>,
  maxReceiveCount: number,
) => {
  const failedMessageIds: string[] = [];
  const deadLettered: { trackId: string; reason: string }[] = [];
  const rows: PartRows = new Map();
  for (const delivered of group) {
    const id = delivered.message.trackId;
    const lookup = lookups.get(id) ?? { status: 'failed', reason: 'the provider gave no answer for this id' };
    if (lookup.status !== 'failed') {
      rows.set(id, { lookup, status: lookup.status });
    } else if (delivered.receiveCount >= maxReceiveCount) {
      rows.set(id, { lookup, status: 'dead_lettered' });
      deadLettered.push({ trackId: id, reason: lookup.reason });
      failedMessageIds.push(delivered.messageId);
    } else {
      failedMessageIds.push(delivered.messageId);
    }
  }
  return { rows, failedMessageIds, deadLettered };
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
 * marker that says they are complete (the last write). Returns how many answers were quarantined.
 */
const writePart = async (
  message: TrackMessage,
  rows: PartRows,
  looked: GroupLookup,
  deps: EnrichDeps,
): Promise<number> => {
  const { runId, chartId, chartDate } = message;
  const extractedAt = csvTimestamp(deps.clock.now());
  const lineage = { chart_id: chartId, chart_date: chartDate, run_id: runId, extracted_at: extractedAt };
  const part = partName([...rows.keys()]);
  const { attributeRows, artistRows } = csvRowsOf(lineage, rows);
  // Every answer that failed validation is kept with its reason, even when another source filled the gap.
  for (const answer of looked.invalidAnswers) {
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
  await deps.store.put(lakeKeys.attributesRaw(chartDate, chartId, part), JSON.stringify(looked.raw), {
    contentType: 'application/json',
  });
  const artistsCsv = toStageCsv('song_artists', artistRows);
  const attributesCsv = toStageCsv('song_attributes', attributeRows);
  await deps.store.put(lakeKeys.artistsCsv(chartDate, chartId, part), artistsCsv, {
    contentType: 'text/csv',
  });
  await deps.store.put(lakeKeys.attributesCsv(chartDate, chartId, part), attributesCsv, {
    contentType: 'text/csv',
  });
  const indexes = await manifestIndexes(deps.store, { chartDate, chartId }, runId, [...rows.keys()]);
  if (indexes) {
    await markPart(deps.store, { chartDate, chartId, runId, part, indexes, attributesCsv, artistsCsv });
  }
  return looked.invalidAnswers.length;
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

const longestWait = (outcomes: readonly EnrichResult[]): { retryAfterMs?: number } => {
  const waits = outcomes.flatMap((o) => (o.retryAfterMs === undefined ? [] : [o.retryAfterMs]));
  return waits.length ? { retryAfterMs: Math.max(...waits) } : {};
};
