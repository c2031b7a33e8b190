import { LockWaitTimeoutError } from '../../shared/errors.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { LockHolder, LockProcess } from '../../shared/lake/transform-lock.js';
import { describeHolder, isProcess } from './recovery.js';

/** A command's `--wait` unless told: a minute. */
export const defaultLockWaitMs = 60_000;

export interface LockWaitOptions {
  readonly clock: Clock;
  /** How long to wait for a lock another process holds (the command's `--wait`). */
  readonly waitMs: number;
  readonly note: (text: string) => void;
  readonly self: LockProcess;
  /** Who holds the lock now, alive; how the wait checks, when its time is up, that it still waits. */
  readonly liveHolder: () => Promise<LockHolder | undefined>;
}

/**
 * The local run's waits on the transform lock (docs/reliability.md, "Interrupted runs"). A busy
 * lock hands the transform's message back to its queue, as on AWS; here each hand-back is told to
 * this object. A lock held by another process is said once per holder (what is waited for, who
 * holds it, since when), and after `waitMs` of waiting the run gives up: {@link failed} rejects
 * with a {@link LockWaitTimeoutError} (exit 2). This process's own batches wait their turn silently.
 */
export class LockWaits {
  /** Rejects when the wait gave up; never resolves. */
  readonly failed: Promise<never>;
  readonly #told = new Set<string>();
  #reject: (error: Error) => void = () => undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LockWaitOptions) {
    this.failed = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    // Nobody may be listening when it gives up (between two commands' waits): not an unhandled rejection.
    this.failed.catch(() => undefined);
  }

  /** A transform found the lock held by `holder`: its message goes back to the queue meanwhile. */
  readonly busy = (holder: LockHolder | undefined): void => {
    if (!holder || this.#isSelf(holder)) return;
    const key = `${holder.batchId}@${holder.acquiredAt}`;
    if (!this.#told.has(key)) {
      this.#told.add(key);
      this.options.note(
        `chartflow: waiting for the transform lock: batch ${holder.batchId} holds it, ` +
          `${describeHolder(holder)}; giving up after ${seconds(this.options.waitMs)}`,
      );
    }
    this.#timer ??= setTimeout(() => void this.#timeUp(), this.options.waitMs);
  };

  /** Stops the wait's timer (the pipeline closes). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #timeUp(): Promise<void> {
    this.#timer = undefined;
    const holder = await this.options.liveHolder().catch(() => undefined);
    // Taken by this process meanwhile, or free: the wait is over.
    if (!holder || this.#isSelf(holder)) return;
    this.#reject(
      new LockWaitTimeoutError(
        `gave up after ${seconds(this.options.waitMs)} waiting for the transform lock: batch ` +
          `${holder.batchId} holds it, ${describeHolder(holder)}`,
      ),
    );
  }

  #isSelf(holder: LockHolder): boolean {
    return isProcess(holder, this.options.self);
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
