import * as z from 'zod';
import type { ObjectStore } from '../ports/object-store.js';
import { batchId, chartId, runId } from '../records/messages.js';
import { InvalidRecordError } from '../errors.js';
import { parseJsonOrThrow } from '../parse.js';
import { isoDate, lakeKeys } from './keys.js';

/** One load in a batch: which stage slice it is, and which run record tells its story. */
export const batchLoadSchema = z.object({ runId, loadId: runId, chartId, chartDate: isoDate });
export type BatchLoad = z.infer<typeof batchLoadSchema>;

/**
 * The loads one dbt build transforms. Fixed by the transform before its checks, read again by the
 * stage clean-up when dbt stops: the list lives in the lake, not in the dbt task's overrides (ECS
 * allows 8 KiB of them), so a batch of a year of days costs the task one id.
 */
export const transformBatchSchema = z.object({
  batchId,
  createdAt: z.iso.datetime(),
  loads: z.array(batchLoadSchema).min(1),
});
export type TransformBatch = z.infer<typeof transformBatchSchema>;

/**
 * The days a batch expects, when its loads are known before they land (`chartflow ingest --target
 * aws`): the stage loader that loads the last of them asks for the batch's transform. A backfill on
 * one machine asks for it itself and writes none.
 */
export const expectedDaysSchema = z.object({
  batchId,
  createdAt: z.iso.datetime(),
  days: z.array(z.object({ chartId, chartDate: isoDate })).min(1),
});
export type ExpectedDays = z.infer<typeof expectedDaysSchema>;

/** Reads and writes transform batches and their members in the lake. */
export class TransformBatches {
  constructor(private readonly store: ObjectStore) {}

  /** Records that a load joined a backfill batch (the stage loader does, as it loads). */
  async join(id: string, load: BatchLoad): Promise<void> {
    await this.store.put(
      lakeKeys.batchMember(id, load.chartDate, load.chartId, load.loadId),
      JSON.stringify(batchLoadSchema.parse(load)),
      { contentType: 'application/json' },
    );
  }

  /** Every load that joined the batch so far, by day, chart and load. */
  async members(id: string): Promise<BatchLoad[]> {
    const objects = await this.store.list(lakeKeys.batchMembersPrefix(id));
    return Promise.all(
      objects.map(async ({ key }) => parse(batchLoadSchema, await this.store.get(key), key)),
    );
  }

  /** Records the days a batch expects; written once, before any of them lands. */
  async expect(expected: ExpectedDays): Promise<void> {
    await this.store.put(
      lakeKeys.batchExpected(expected.batchId),
      JSON.stringify(expectedDaysSchema.parse(expected)),
      { contentType: 'application/json' },
    );
  }

  /** The days a batch expects, or `undefined` for a batch that declared none (a local backfill). */
  async expected(id: string): Promise<ExpectedDays | undefined> {
    const key = lakeKeys.batchExpected(id);
    const body = await this.store.get(key);
    return body === undefined ? undefined : parse(expectedDaysSchema, body, key);
  }

  /**
   * Whether every day the batch expects has a load in it. `false` for a batch that expects
   * nothing: its transform is asked for by whoever started it.
   */
  async hasEveryExpectedDay(id: string): Promise<boolean> {
    const expected = await this.expected(id);
    if (!expected) return false;
    const joined = new Set((await this.members(id)).map((m) => `${m.chartId}/${m.chartDate}`));
    return expected.days.every((d) => joined.has(`${d.chartId}/${d.chartDate}`));
  }

  async read(id: string): Promise<TransformBatch | undefined> {
    const key = lakeKeys.batch(id);
    const body = await this.store.get(key);
    return body === undefined ? undefined : parse(transformBatchSchema, body, key);
  }

  async write(batch: TransformBatch): Promise<void> {
    await this.store.put(lakeKeys.batch(batch.batchId), JSON.stringify(transformBatchSchema.parse(batch)), {
      contentType: 'application/json',
    });
  }
}

const parse = <T>(schema: z.ZodType<T>, body: Buffer | undefined, key: string): T => {
  if (body === undefined) throw new InvalidRecordError(`${key}: vanished while it was read`);
  return parseJsonOrThrow(schema, body.toString('utf8'), key);
};
