import * as z from 'zod';
import type { ObjectStore } from '../ports/object-store.js';
import { chartId, runId, trackId } from '../records/messages.js';
import { attributeGroupSchema, missingKindSchema } from '../records/missing-reasons.js';
import { parseJsonOrThrow } from '../parse.js';
import { isoDate, lakeKeys } from './keys.js';

/** One group a track went without, and why (the reason as its row says it, led by its kind). */
export const backlogGapSchema = z.object({
  group: attributeGroupSchema,
  kind: missingKindSchema,
  reason: z.string().min(1),
  /** A quota's end: asking again before then is pointless. */
  until: z.iso.datetime().optional(),
});
export type BacklogGap = z.infer<typeof backlogGapSchema>;

/**
 * A track of a day and chart whose attributes the latest run could not all get, for a reason worth
 * asking again (docs/reliability.md, "A day loads with what it has"): one object per track, day and
 * chart, so that concurrent batches never write the same one, and a later run overwrites or removes it.
 */
export const backlogEntrySchema = z.object({
  trackId,
  chartDate: isoDate,
  chartId,
  /** The run whose row says what is missing. */
  runId,
  /** When that run recorded it. */
  recordedAt: z.iso.datetime(),
  gaps: z.array(backlogGapSchema).min(1),
});
export type BacklogEntry = z.infer<typeof backlogEntrySchema>;

/** When an entry may be asked again: at once, or once its last quota has ended. */
export const retryableFrom = (entry: BacklogEntry): string | undefined => {
  // Stryker disable next-line ConditionalExpression,MethodExpression,ArrowFunction: a guard that never fires, or fires only when no gap has an end, gives the same undefined: sort puts every undefined `until` last and at(-1) reads it (the directive also takes the guard made always true, which the test of retryableFrom kills)
  if (entry.gaps.some((g) => g.until === undefined)) return undefined;
  return entry.gaps
    .map((g) => g.until!)
    .sort()
    .at(-1);
};

/**
 * The persistent backlog, in the lake under `control/backlog/`: written by track-attributes (so it
 * is the same on AWS as on one machine), read by `chartflow retry-missing` and the run summary.
 */
export class MissingBacklog {
  constructor(private readonly store: ObjectStore) {}

  /** Records the tracks' gaps, replacing what an earlier run of their day recorded. */
  async record(entries: readonly BacklogEntry[]): Promise<void> {
    await Promise.all(
      entries.map((entry) =>
        this.store.put(
          lakeKeys.backlogEntry(entry.chartDate, entry.chartId, entry.trackId),
          JSON.stringify(backlogEntrySchema.parse(entry), null, 2),
          { contentType: 'application/json' },
        ),
      ),
    );
  }

  /** Removes the entries of these tracks of a day and chart: a run has their attributes now. */
  async resolve(day: { chartDate: string; chartId: string }, trackIds: readonly string[]): Promise<number> {
    const wanted = new Set(trackIds.map((id) => lakeKeys.backlogEntry(day.chartDate, day.chartId, id)));
    const present = (await this.store.list(lakeKeys.backlogPrefix(day.chartDate, day.chartId)))
      .map((o) => o.key)
      .filter((key) => wanted.has(key));
    await Promise.all(present.map((key) => this.store.delete(key)));
    return present.length;
  }

  /** The entries of every day, of one day, of one chart, or of one day and chart. */
  async list(filter: { chartDate?: string; chartId?: string } = {}): Promise<BacklogEntry[]> {
    const objects = await this.store.list(lakeKeys.backlogPrefix(filter.chartDate, filter.chartId));
    const entries = await Promise.all(
      objects.map(async ({ key }) => {
        const body = await this.store.get(key);
        if (!body) return undefined;
        return parseJsonOrThrow(backlogEntrySchema, body.toString('utf8'), `backlog entry ${key}`);
      }),
    );
    return entries.filter(
      (e): e is BacklogEntry => e !== undefined && (!filter.chartId || e.chartId === filter.chartId),
    );
  }
}
