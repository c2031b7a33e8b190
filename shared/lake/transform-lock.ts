import * as z from 'zod';
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

/** The lock as {@link TransformLock.inspect} finds it. */
export interface LockState {
  readonly holder: LockHolder | undefined;
  /** Whether it may be taken: its holder is dead, or silent past {@link lockTtlMs}, or unreadable. */
  readonly free: boolean;
}

/** The process a local lock names as its holder: who takes it, on which machine, for which command. */
export type LockProcess = Required<Pick<LockHolder, 'pid' | 'host' | 'command'>>;

/**
 * What the local runtime adds to the lock (docs/reliability.md, "Interrupted runs"); on AWS none of
 * it is given and the TTL alone frees a lock. shared/ never asks the operating system itself: the
 * composition root passes how to tell whether a holder lives.
 */
export interface TransformLockOptions {
  /** Written into the lock as its holder. */
  readonly self?: LockProcess;
  /** `false` when the holder's process is gone (its lock is taken over at once), `undefined` when this machine cannot tell. */
  readonly holderAlive?: (holder: LockHolder) => boolean | undefined;
  /** Told when a dead holder's lock was taken over, so that the user reads why. */
  readonly onTakeover?: (previous: LockHolder, batchId: string) => void;
  /** Told each time the lock is found held by another batch, alive, so that a waiter can say so and give up. */
  readonly onBusy?: (holder: LockHolder | undefined, batchId: string) => void;
}

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
    private readonly options: TransformLockOptions = {},
  ) {}

  /** Takes the lock for a transform batch; `true` if this batch holds it now (taking it again is harmless). */
  async acquire(batchId: string): Promise<boolean> {
    const key = lakeKeys.transformLock();
    const body = JSON.stringify({
      batchId,
      acquiredAt: this.clock.now().toISOString(),
      ...this.options.self,
    });
    if (await this.store.createIfAbsent(key, body)) return true;
    const current = await this.store.getWithEtag(key);
    // Released between the two looks: free again, for whoever creates it first.
    if (!current) return this.store.createIfAbsent(key, body);
    const holder = parseHolder(current.body);
    if (holder?.batchId === batchId) return true;
    if (holder && !this.#free(holder)) {
      this.options.onBusy?.(holder, batchId);
      return false;
    }
    const taken = await this.store.replaceIfMatch(key, body, current.etag);
    if (taken && holder) this.options.onTakeover?.(holder, batchId);
    return taken;
  }

  /**
   * Releases a dead holder's lock, whatever batch it names (recovery on start): only if it is still
   * the very lock that was read, and only if its process is known to be gone.
   */
  async releaseDead(): Promise<LockHolder | undefined> {
    const current = await this.store.getWithEtag(lakeKeys.transformLock());
    const holder = current && parseHolder(current.body);
    if (!current || !holder || this.options.holderAlive?.(holder) !== false) return undefined;
    return (await this.store.deleteIfMatch(lakeKeys.transformLock(), current.etag)) ? holder : undefined;
  }

  /**
   * The lock as it stands, or `undefined` when nobody holds it: its holder (`undefined` for a body
   * that cannot be read, which protects nothing) and whether it may be taken, its holder being dead
   * or (where that cannot be told) silent past the TTL.
   */
  async inspect(): Promise<LockState | undefined> {
    const current = await this.store.getWithEtag(lakeKeys.transformLock());
    if (!current) return undefined;
    const holder = parseHolder(current.body);
    return { holder, free: holder === undefined || this.#free(holder) };
  }

  /**
   * Gives back a lock that may be taken (its holder dead, or silent past the TTL; an unreadable
   * one), and, when `batchId` is named, only if that batch holds it: the reconciler's repair of a
   * batch whose clean-up never came (docs/reliability.md, "The reconciler"). The delete is
   * conditional on the very version read, so a lock taken over meanwhile stays. Returns whether it
   * released it.
   */
  async releaseStale(batchId?: string): Promise<boolean> {
    const current = await this.store.getWithEtag(lakeKeys.transformLock());
    if (!current) return false;
    const holder = parseHolder(current.body);
    if (holder && !this.#free(holder)) return false;
    if (batchId !== undefined && holder?.batchId !== batchId) return false;
    return this.store.deleteIfMatch(lakeKeys.transformLock(), current.etag);
  }

  /** Who holds the lock and may not be disturbed: alive, or (where that cannot be told) within the TTL. */
  async liveHolder(): Promise<LockHolder | undefined> {
    const holder = await this.holder();
    return holder && !this.#free(holder) ? holder : undefined;
  }

  /** Whether a held lock may be taken: its process is gone, or (where that cannot be told) its TTL passed. */
  #free(holder: LockHolder): boolean {
    const alive = this.options.holderAlive?.(holder);
    if (alive !== undefined) return !alive;
    return this.clock.now().getTime() - Date.parse(holder.acquiredAt) > lockTtlMs;
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
    // (A `next-line` directive cannot reach the catch block, which opens on the `}` line: this
    // disables it from here to the restore below, and the catch block is the only block between.)
    // Stryker disable BlockStatement: an emptied catch block falls off the end of the arrow function, which then returns undefined, as `return undefined` does
    return lockSchema.safeParse(JSON.parse(body.toString('utf8'))).data;
  } catch {
    // Stryker restore BlockStatement
    return undefined;
  }
};
