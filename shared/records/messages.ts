import * as z from 'zod';
import { isoDate } from '../lake/keys.js';
import { lakeFileSchema } from '../lake/lake-files.js';

/**
 * What the services say to each other. Every one is parsed with these schemas where it arrives,
 * so a malformed message is named, not half-processed.
 */
export const chartId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a chart id is lowercase letters, digits and -');
export const runId = z.string().regex(/^[0-9A-Za-z-]{8,80}$/, 'not a run id');
export const trackId = z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'not a Spotify track id');
/**
 * A transform batch: the loads one dbt build transforms together. A backfill names one for all its
 * days; a day run on its own is a batch of one, named by its load id.
 */
export const batchId = runId;

/** One day of one chart. */
export const chartDaySchema = z.object({ chartId, chartDate: isoDate });
export type ChartDay = z.infer<typeof chartDaySchema>;

/** chart-fetch → track-attributes, one per track id. */
export const trackMessageSchema = z.object({
  runId,
  chartId,
  chartDate: isoDate,
  trackId,
});
export type TrackMessage = z.infer<typeof trackMessageSchema>;

/** The ids a day expects, written by chart-fetch after the chart itself. */
/** HTTP requests per provider (`spotify`, `reccobeats`), as the lake keeps them for a run. */
export const requestCountsSchema = z.record(z.string().min(1), z.number().int().nonnegative());

export const manifestSchema = z.object({
  runId,
  chartId,
  chartDate: isoDate,
  source: z.string(),
  extractedAt: z.iso.datetime(),
  trackIds: z.array(trackId),
  /** Entries of the source that were not usable tracks, with why. */
  skipped: z.array(z.object({ position: z.number().int(), reason: z.string() })).default([]),
  /** The backfill batch this run belongs to: its load waits for the batch's one transform. */
  batchId: batchId.optional(),
  /**
   * The md5 of the run's chart CSV (its ETag). Present, it also says that the run's attribute parts
   * are marked, so the stage loader decides completeness from keys (`part-markers.ts`); absent (a
   * manifest written before, or one too long for markers), it reads the CSVs as it always did.
   */
  chartCsvMd5: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'an md5 in hex')
    .optional(),
  /**
   * The day's files as chart-fetch wrote them (the source's payload and the chart CSV): key, size,
   * SHA-256 and rows, which the stage loader and `verify` hold the lake to. Absent in a manifest
   * written before manifests had checksums: such a day is read as before, and `verify` calls it
   * unverified until `verify --seal` records them.
   */
  files: z.array(lakeFileSchema).optional(),
  /** The HTTP requests per provider that reading the chart took; absent in manifests written before. */
  requests: requestCountsSchema.optional(),
  /** How many of the source's entries went to quarantine (`quarantine/chart_songs/…`). */
  quarantined: z.number().int().nonnegative().optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** stage-loader → transform, through the event bus. */
export const stageLoadedSchema = z.object({
  runId,
  loadId: runId,
  chartId,
  chartDate: isoDate,
  rows: z.record(z.string(), z.number().int().nonnegative()),
  /** Set when the load belongs to a backfill batch: the batch's "Transform Requested" transforms it. */
  batchId: batchId.optional(),
});
export type StageLoaded = z.infer<typeof stageLoadedSchema>;

/**
 * Whoever gathered a batch's loads (a backfill) → transform, through the event bus: transform every
 * load of the batch in one dbt build. The loads themselves are in the lake, under the batch's
 * prefix, so the event stays small however many days the batch holds.
 */
export const transformRequestedSchema = z.object({ batchId });
export type TransformRequested = z.infer<typeof transformRequestedSchema>;

export const eventSource = 'chartflow';
export const stageLoadedDetailType = 'Stage Loaded';
export const transformRequestedDetailType = 'Transform Requested';

/** The claim object's body: who loads this run of the day. */
export const claimSchema = z.object({ runId, loadId: runId, claimedAt: z.iso.datetime() });
export type Claim = z.infer<typeof claimSchema>;
