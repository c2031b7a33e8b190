import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { ConfigError, LockWaitTimeoutError } from '../../shared/errors.js';
import { FsObjectStore } from '../adapters/embedded/fs-object-store.js';
import { processIsAlive, thisHost } from './process-liveness.js';

/**
 * The home lock's file, in CHARTFLOW_HOME itself: outside the lake, so that no prefix the pipeline
 * lists or replays ever sees it (docs/reliability.md, "Locks: one writer per home").
 */
export const homeLockName = 'chartflow.lock';

/** Who holds a home: what the lock file says. */
const holderSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().min(1),
  /** The command line, as "chartflow run --date 2026-06-01". */
  command: z.string(),
  /** When it took the home (ISO 8601, UTC). */
  since: z.iso.datetime(),
});

export type HomeLockHolder = z.infer<typeof holderSchema>;

/** What a writing command asks for: its command line, for whoever waits, and its `--wait`. */
export interface HomeWriter {
  readonly command: string;
  readonly waitMs: number;
}

export interface HomeLockOptions extends HomeWriter {
  readonly home: string;
  /** Where the lines about waiting and taking over go (stderr on the command line). */
  readonly note: (text: string) => void;
  /** How often a waiting command looks at the lock again. */
  readonly pollMs?: number;
}

const md5 = (body: string) => createHash('md5').update(body).digest('hex');

/** The holder a lock file names, or `undefined` when the file is not a lock we can read. */
const holderOf = (body: Buffer): HomeLockHolder | undefined => {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Why a home cannot hold chartflow's files (a file, a folder it may not write): a setting to fix, exit 2. */
const unusableHome =
  (home: string) =>
  (error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && ['ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS'].includes(code))
      throw new ConfigError(
        `CHARTFLOW_HOME ${home} cannot hold chartflow's files: ${(error as Error).message}`,
        { cause: error },
      );
    throw error;
  };

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** "chartflow run --date 2026-06-01 (PID 1234) … since 2026-06-01T06:30:00Z", the host only when not this one. */
const who = (holder: HomeLockHolder | undefined, file: string) =>
  holder
    ? `${holder.command} (PID ${holder.pid}${holder.host === thisHost() ? '' : ` on ${holder.host}`})`
    : `a lock file that is not chartflow's (${file}: remove it if no chartflow command is running)`;
const since = (holder: HomeLockHolder | undefined) =>
  holder ? ` since ${holder.since.replace(/\.\d+Z$/, 'Z')}` : '';

/**
 * One writer per home: an exclusive lock on CHARTFLOW_HOME, taken by every command that writes
 * (run, backfill, replay, ingest) before it touches the sandbox, the warehouse or the lake, and
 * never by a command that only reads (status). The file names its holder (PID, host, command line,
 * since when), so that a second writer can say whom it waits for, and so that a holder that died
 * (SIGKILL, a crash) is noticed and its lock taken over at once. Creation and takeover are
 * exactly-once across processes: FsObjectStore's createIfAbsent (a hard link) and replaceIfMatch
 * (one caller per version). See docs/reliability.md, "Locks: one writer per home".
 */
export class HomeLock {
  readonly #store: FsObjectStore;
  readonly #body: string;
  readonly #onExit: () => void;
  #held = true;

  private constructor(
    /** The lock file. */
    readonly file: string,
    /** What this process wrote in it. */
    readonly holder: HomeLockHolder,
    store: FsObjectStore,
  ) {
    this.#store = store;
    this.#body = JSON.stringify(holder);
    // The last resort, when the process ends without `release` (process.exit, a signal handler
    // that exits): only synchronous work runs in 'exit'.
    this.#onExit = () => this.#releaseNow();
    process.on('exit', this.#onExit);
  }

  /**
   * Takes the home's lock: at once when it is free or its holder is dead on this host (saying so),
   * else after waiting up to `waitMs` for its holder to release it (saying once for whom).
   *
   * The wait is in real time, never a test's pinned clock: the holder is another process.
   *
   * @throws {LockWaitTimeoutError} when the holder still has it after `waitMs`, naming it.
   */
  static async acquire(options: HomeLockOptions): Promise<HomeLock> {
    const store = new FsObjectStore({ root: options.home });
    const file = path.join(store.root, homeLockName);
    const pollMs = options.pollMs ?? 250;
    const started = performance.now();
    let waiting = false;
    for (;;) {
      const holder: HomeLockHolder = {
        pid: process.pid,
        host: thisHost(),
        command: options.command,
        since: new Date().toISOString(),
      };
      const body = JSON.stringify(holder);
      if (await store.createIfAbsent(homeLockName, body).catch(unusableHome(store.root)))
        return new HomeLock(file, holder, store);
      const current = await store.getWithEtag(homeLockName);
      if (current === undefined) continue; // released between the two calls: try again at once
      const seen = holderOf(current.body);
      if (seen && processIsAlive(seen) === false) {
        // Of every process that saw the same dead holder, one replaces it; the others look again.
        if (await store.replaceIfMatch(homeLockName, body, current.etag)) {
          options.note(
            `chartflow: the home ${store.root} was held by ${who(seen, file)}${since(seen)}, which is no longer running: taking it over`,
          );
          return new HomeLock(file, holder, store);
        }
        // Another one won (or is winning) the takeover: look again at whom it left there.
        await sleep(pollMs);
        continue;
      }
      const waited = performance.now() - started;
      if (waited >= options.waitMs) {
        throw new LockWaitTimeoutError(
          `the home ${store.root} is held by ${who(seen, file)}${since(seen)}: ${
            options.waitMs === 0 ? 'did not wait (--wait 0)' : `gave up after ${seconds(options.waitMs)}`
          }, nothing was written; run it again once that command has ended, or give a longer --wait`,
        );
      }
      if (!waiting) {
        waiting = true;
        options.note(
          `chartflow: waiting for the home ${store.root}: ${who(seen, file)} holds it${since(seen)}; giving up after ${seconds(options.waitMs)}`,
        );
      }
      await sleep(Math.min(pollMs, options.waitMs - waited));
    }
  }

  /** Gives the home back; a lock file that is no longer this one's (taken over, removed) is left alone. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#onExit);
    await this.#store.deleteIfMatch(homeLockName, md5(this.#body));
  }

  #releaseNow(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      if (readFileSync(this.file, 'utf8') === this.#body) unlinkSync(this.file);
    } catch {
      // Already gone, or unreadable: nothing of ours to remove.
    }
  }
}
