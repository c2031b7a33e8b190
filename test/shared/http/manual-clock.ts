import type { Clock } from '../../../shared/ports/clock.js';

/**
 * A clock that moves only when told: `sleep` records the wait and moves time on by it at once, so a
 * Retry-After of seconds costs the test nothing. Give the same one to the sandbox and a client to
 * share time, or two to let their views of time drift apart.
 */
export interface ManualClock extends Clock {
  /** Every wait asked of `sleep`, in order. */
  readonly sleeps: number[];
  advance(ms: number): void;
}

export const manualClock = (start = '2026-03-02T10:00:00Z'): ManualClock => {
  let nowMs = Date.parse(start);
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(nowMs),
    advance: (ms) => {
      nowMs += ms;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      nowMs += ms;
    },
  };
};

/** A clock whose `sleep` waits until the test lets it go; time moves only by `advance`. */
export interface GatedClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
  /** Ends every pending sleep. */
  release(): void;
}

export const gatedClock = (start = '2026-03-02T10:00:00Z'): GatedClock => {
  let nowMs = Date.parse(start);
  const sleeps: number[] = [];
  let waiting: (() => void)[] = [];
  return {
    sleeps,
    now: () => new Date(nowMs),
    advance: (ms) => {
      nowMs += ms;
    },
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleeps.push(ms);
        waiting.push(resolve);
      }),
    release: () => {
      const pending = waiting;
      waiting = [];
      for (const resolve of pending) resolve();
    },
  };
};

/** Resolves once `condition` holds, checking between event-loop turns; fails after `timeoutMs`. */
export const eventually = async (condition: () => boolean, timeoutMs = 1_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
