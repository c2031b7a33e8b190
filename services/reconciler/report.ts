import * as z from 'zod';
import { isoDate } from '../../shared/lake/keys.js';
import { batchId, chartId, runId } from '../../shared/records/messages.js';

/**
 * What the reconciler can find (docs/reliability.md, "The reconciler"), in the order it repairs
 * them: the warehouse's lock and the batches that hold it first, then the stage, then what lets a
 * day go on (a transform, a load).
 */
export const findingKinds = [
  /** The transform lock is held past its TTL (or by a dead process), and its batch is not transforming. */
  'stale_lock',
  /** A batch's loads say `transforming`, and nothing carries them on: its clean-up never came. */
  'stuck_transform',
  /** A load `loaded` or `transforming` that a newer load of its day replaced: it will never be transformed. */
  'superseded_load',
  /** Stage rows of a run that has ended (or has no record): invariant 3 broken. */
  'stage_not_cleaned',
  /** A backfill batch whose loads are in, and whose "Transform Requested" never came. */
  'unrequested_batch',
  /** The day's newest load says `loaded`: its "Stage Loaded" never reached transform. */
  'untransformed',
  /** The day's newest load was interrupted, and the day was never loaded again. */
  'interrupted',
  /** The raw day is complete for its run, and the run was never claimed: its ObjectCreated was lost. */
  'unloaded',
  /** The run's day never completed and its missing tracks can no longer arrive; nothing recorded it. */
  'never_completed',
] as const;
export type FindingKind = (typeof findingKinds)[number];

export const actionKinds = [
  'released_lock',
  'cleaned_stage',
  'recorded_interrupted',
  'reset_claim',
  'redelivered_object_created',
  'published_stage_loaded',
  'published_transform_requested',
  'recorded_not_loaded',
] as const;
export type ActionKind = (typeof actionKinds)[number];

/** Which day, chart, run, load or batch a line is about; as many as it names. */
const subject = {
  chartId: chartId.optional(),
  chartDate: isoDate.optional(),
  runId: runId.optional(),
  loadId: runId.optional(),
  batchId: batchId.optional(),
};

export const findingSchema = z.object({
  kind: z.enum(findingKinds),
  ...subject,
  /** What in the lake, the stage or the lock shows it, in a sentence. */
  evidence: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

export const actionSchema = z.object({
  kind: z.enum(actionKinds),
  ...subject,
  /** What was done, in a sentence. */
  detail: z.string(),
  /** Why it failed, when it did: the rest of the repairs went on. */
  error: z.string().optional(),
});
export type Action = z.infer<typeof actionSchema>;

/** Something that looked inconsistent but may be a live run: left alone, and why. */
export const leftAloneSchema = z.object({ ...subject, why: z.string() });
export type LeftAlone = z.infer<typeof leftAloneSchema>;

/** A configured chart's last successful run, for the freshness alarm. */
export const freshnessSchema = z.object({
  chartId,
  /** When its newest successful run ended, or `null` if it never succeeded (as far as the lake's records go). */
  lastSucceededAt: z.iso.datetime().nullable(),
  /** More than {@link ReconcileReport}'s `staleAfterHours` since then, or never. */
  stale: z.boolean(),
});
export type Freshness = z.infer<typeof freshnessSchema>;

export const reconcileReportSchema = z.object({
  from: isoDate,
  to: isoDate,
  chartId: chartId.optional(),
  dryRun: z.boolean(),
  findings: z.array(findingSchema),
  actions: z.array(actionSchema),
  leftAlone: z.array(leftAloneSchema),
  staleAfterHours: z.number().positive(),
  freshness: z.array(freshnessSchema),
});
export type ReconcileReport = z.infer<typeof reconcileReportSchema>;
