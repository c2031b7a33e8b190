import { z } from 'zod';
import type { Clock, ObjectStore } from '../ports/index.js';
import { lakeKeys } from './keys.js';

const lockSchema = z.object({ batchId: z.string(), acquiredAt: z.iso.datetime() });

/** A holder that has not released the lock after this long is presumed dead (dbt on Fargate times out well before). */
export const lockTtlMs = 3 * 60 * 60 * 1_000;

/**
 * At most one transform against the warehouse at a time (invariant 5): a lock object in the lake,
 * taken with create-if-absent and released by the stage clean-up when dbt stops.
 */
export class TransformLock {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  /** Takes the lock for a transform batch; `true` if this batch holds it now (taking it again is harmless). */
  async acquire(batchId: string): Promise<boolean> {
    const body = JSON.stringify({ batchId, acquiredAt: this.clock.now().toISOString() });
    if (await this.store.createIfAbsent(lakeKeys.transformLock(), body)) return true;
    const holder = await this.holder();
    if (!holder) return this.store.createIfAbsent(lakeKeys.transformLock(), body);
    if (holder.batchId === batchId) return true;
    if (this.clock.now().getTime() - Date.parse(holder.acquiredAt) > lockTtlMs) {
      await this.store.delete(lakeKeys.transformLock());
      return this.store.createIfAbsent(lakeKeys.transformLock(), body);
    }
    return false;
  }

  /** Releases the lock if this batch holds it. */
  async release(batchId: string): Promise<void> {
    const holder = await this.holder();
    if (holder?.batchId === batchId) await this.store.delete(lakeKeys.transformLock());
  }

  async holder(): Promise<z.infer<typeof lockSchema> | undefined> {
    const body = await this.store.get(lakeKeys.transformLock());
    if (!body) return undefined;
    const parsed = lockSchema.safeParse(JSON.parse(body.toString('utf8')));
    // An unreadable lock protects nothing: treat it as absent, so it is replaced.
    return parsed.success ? parsed.data : undefined;
  }
}
