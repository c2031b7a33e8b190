import { z } from 'zod';
import type { Clock, ObjectStore } from '../ports/index.js';
import { lakeKeys } from './keys.js';

const lockSchema = z.object({
  batchId: z.string(),
  acquiredAt: z.iso.datetime(),
  /**
   * The process that holds it, where there is one to name (the local runtime): a lock whose process
   * is gone from its host is free at once. On AWS the holder is a batch, its liveness its ECS task's.
   */
  pid: z.number().int().positive().optional(),
  host: z.string().optional(),
  /** The command that holds it ("chartflow run"), for the messages of those who wait. */
  command: z.string().optional(),
});

/** Who holds the warehouse, and since when. */
export type LockHolder = z.infer<typeof lockSchema>;

/** A holder that has not released the lock after this long is presumed dead (dbt on Fargate times out well before). */
export const lockTtlMs = 3 * 60 * 60 * 1_000;

/**
 * At most one transform against the warehouse at a time (invariant 5): a lock object in the lake.
 * Only the batch protocol (`shared/transform/batch-protocol.ts`) takes and gives it back.
 *
 * Every change is conditional, so that no two contenders can both end up holding it: a free lock
 * is taken with create-if-absent; a stale one (its holder silent for {@link lockTtlMs}, or its body
 * unreadable) is replaced only if it is still the very version that was read (`If-Match` on its
 * ETag), so of many contenders that saw it stale exactly one takes it over; and a holder deletes
 * it only if it is still its own version, so a holder presumed dead and taken over cannot, when it
 * wakes up, release the lock of the batch that replaced it.
 */
export class TransformLock {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  /** Takes the lock for a transform batch; `true` if this batch holds it now (taking it again is harmless). */
  async acquire(batchId: string): Promise<boolean> {
    const key = lakeKeys.transformLock();
    const body = JSON.stringify({ batchId, acquiredAt: this.clock.now().toISOString() });
    if (await this.store.createIfAbsent(key, body)) return true;
    const current = await this.store.getWithEtag(key);
    // Released between the two looks: free again, for whoever creates it first.
    if (!current) return this.store.createIfAbsent(key, body);
    const holder = parseHolder(current.body);
    if (holder?.batchId === batchId) return true;
    if (holder && this.clock.now().getTime() - Date.parse(holder.acquiredAt) <= lockTtlMs) return false;
    return this.store.replaceIfMatch(key, body, current.etag);
  }

  /** Releases the lock if this batch holds it; a lock taken over by another batch since is left alone. */
  async release(batchId: string): Promise<void> {
    const current = await this.store.getWithEtag(lakeKeys.transformLock());
    if (current && parseHolder(current.body)?.batchId === batchId) {
      await this.store.deleteIfMatch(lakeKeys.transformLock(), current.etag);
    }
  }

  /** Who holds the lock, or `undefined` if nobody does (or its body is unreadable). */
  async holder(): Promise<LockHolder | undefined> {
    const body = await this.store.get(lakeKeys.transformLock());
    return body ? parseHolder(body) : undefined;
  }
}

// An unreadable lock protects nothing: it reads as no holder, and is replaced as a stale one is.
const parseHolder = (body: Buffer): LockHolder | undefined => {
  try {
    return lockSchema.safeParse(JSON.parse(body.toString('utf8'))).data;
  } catch {
    return undefined;
  }
};
