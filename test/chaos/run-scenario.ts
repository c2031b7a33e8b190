import { rm } from 'node:fs/promises';
import { FsObjectStore } from '../../infra/adapters/embedded/fs-object-store.js';
import { InvalidRecordError } from '../../shared/errors.js';
import { thisHost } from '../../infra/local/process-liveness.js';
import { LocalPipeline, type PortWrappers } from '../../infra/local/runtime.js';
import type { LocalConfig } from '../../shared/config/config.js';
import { MissingBacklog, retryableFrom } from '../../shared/lake/backlog.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import { readManifest } from '../../shared/lake/manifests.js';
import { RunRecords } from '../../shared/lake/run-records.js';
import { martSnapshot } from '../support/pipeline.js';
import {
  chartEntries,
  lakeVerifier,
  leftovers,
  martDifferences,
  unnamedFailures,
  type LakeVerifier,
} from './checks.js';
import { FaultInjector, ProcessFaults, faultyPorts } from './faults.js';
import { armProviderFaults } from './provider-faults.js';
import { chaosHome, chaosRetry, type References } from './reference.js';
import { ingest } from './ingest-file.js';
import {
  chaosChart,
  dayKey,
  ingestChart,
  operationDays,
  type FaultKind,
  type Operation,
  type Scenario,
} from './scenario.js';
import type { ChartDay } from '../../shared/records/messages.js';

/** What one scenario came to. */
export interface ScenarioOutcome {
  readonly scenario: Scenario;
  /** Each broken promise, in a sentence; none when the scenario passed. */
  readonly violations: readonly string[];
  /** Faults that fired, per kind. */
  readonly injected: ReadonlyMap<FaultKind, number>;
  /** What happened along the way (an operation that threw, a restart), for a failing scenario's report. */
  readonly log: readonly string[];
  /** Whether the lake was verified against its manifests (see `lakeVerifier`). */
  readonly verified: boolean;
  readonly seconds: number;
}

/**
 * The processes of one scenario's home, as the transform lock names them: each pipeline instance is
 * a process of its own (a made-up pid on a made-up host), alive until it is killed or closed. How a
 * killed process's lock is left behind, and found dead by the next one (infra/local/recovery.ts).
 */
class Processes {
  readonly #alive = new Set<number>();
  readonly #host = `chaos.${thisHost()}`;
  #next = 1;

  spawn(): NonNullable<PortWrappers['process']> & { pid: number } {
    const pid = this.#next++;
    this.#alive.add(pid);
    return {
      pid,
      self: { pid, host: this.#host, command: `chaos instance ${pid}` },
      isAlive: (holder) => (holder.host === this.#host ? this.#alive.has(holder.pid ?? 0) : undefined),
    };
  }

  exit(pid: number): void {
    this.#alive.delete(pid);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const damagedRunRecord = /^run record (control\/runs\/\S+\.json): not JSON/;

/**
 * Starts a process as a user would get one started: a run record that cannot be read makes every
 * writing command refuse, naming it, "until it is fixed or removed" (docs/inputs.md), since
 * recovery will not guess what such a run was. So the user removes the file the message names and
 * starts again. Only a write cut short makes one here: both stores write atomically, and the
 * suite's partial write is harsher than either (docs/chaos.md, "The faults, port by port").
 */
const startAsAUser = async (
  start: () => Promise<LocalPipeline>,
  lakeRoot: string,
  log: string[],
): Promise<LocalPipeline> => {
  for (let removed = 0; ; removed += 1) {
    try {
      return await start();
    } catch (error) {
      const key = damagedRunRecord.exec((error as Error).message)?.[1];
      if (!(error instanceof InvalidRecordError) || key === undefined || removed >= 5) throw error;
      log.push(`    the start refused a damaged run record; the user removes it: ${key}`);
      await new FsObjectStore({ root: lakeRoot }).delete(key);
    }
  }
};

const perform = (pipeline: LocalPipeline, operation: Operation): Promise<unknown> => {
  const day = (chartDate: string) => ({ chartId: chaosChart, chartDate });
  switch (operation.kind) {
    case 'run':
      return pipeline.run(day(operation.day));
    case 'backfill':
      return pipeline.backfill(operation.days.map(day));
    case 'replay':
      return pipeline.replay(day(operation.day));
    case 'ingest':
      return ingest(pipeline, [operation.day]);
    default:
      return pipeline.retryMissing();
  }
};

interface Faulty {
  readonly pipeline: LocalPipeline;
  readonly pid: number;
  readonly faults: ProcessFaults;
}

/**
 * What the faulty part leaves for the checks besides the lake: the days (as {@link dayKey}) of the
 * commands that told the user they failed (the process died in them, or they ended with an
 * error), and the dead letters.
 */
interface FaultyPart {
  readonly told: ReadonlySet<string>;
  readonly deadLetters: readonly string[];
}

/** The faulty part: each operation with its faults armed; a killed or interrupted process is restarted. */
const runFaulty = async (
  scenario: Scenario,
  config: LocalConfig,
  processes: Processes,
  faults: FaultInjector,
  log: string[],
  options: RunOptions,
): Promise<FaultyPart> => {
  const told = new Set<string>();
  const deadLetters: string[] = [];
  const sabotage = options.sabotage ?? ((store) => store);
  const visibility = scenario.faults.find((f) => f.kind === 'queue.visibility-expiry');
  const rateLimit = scenario.faults.find((f) => f.kind === 'provider.rate-limit');
  const start = async (): Promise<Faulty> => {
    const process = processes.spawn();
    const own = new ProcessFaults(faults);
    const ports = faultyPorts(own, config.home);
    const pipeline = await startAsAUser(
      () =>
        LocalPipeline.start({
          config,
          processEnv: globalThis.process.env,
          retry: chaosRetry,
          note: (text) => log.push(`    note: ${text}`),
          wrap: { ...ports, store: (store) => ports.store!(sabotage(store)), process },
          ...(visibility ? { queue: { visibilityTimeoutMs: visibility.param } } : {}),
          ...(rateLimit ? { sandbox: { rateLimit: { requests: rateLimit.param, windowMs: 30_000 } } } : {}),
        }),
      config.lakeRoot,
      log,
    );
    if (visibility) faults.count('queue.visibility-expiry');
    if (rateLimit) faults.count('provider.rate-limit');
    return { pipeline, pid: process.pid, faults: own };
  };
  // The dead-letter queue lives in the process: what it holds is read before the process ends.
  const end = async ({ pipeline, pid }: Faulty) => {
    deadLetters.push(...pipeline.deadLetters.peek().map((m) => m.body));
    await pipeline.close();
    processes.exit(pid);
  };
  let current = await start();
  for (const [i, operation] of scenario.operations.entries()) {
    let ended: (how: 'killed' | 'interrupted') => void = () => undefined;
    let struck = false;
    const death = new Promise<'killed' | 'interrupted'>((resolve) => (ended = resolve));
    const { pipeline, faults: own } = current;
    faults.arm(
      scenario.faults.filter((f) => f.op === i),
      {
        kill: () => {
          struck = true;
          void pipeline.runner.stop('SIGKILL');
          ended('killed');
        },
        interrupt: () => {
          struck = true;
          faults.disarm();
          void pipeline
            .interrupt('SIGINT')
            .catch((error: unknown) => log.push(`    the interrupt failed: ${(error as Error).message}`))
            .finally(() => {
              own.die();
              ended('interrupted');
            });
        },
      },
    );
    const provider = armProviderFaults(pipeline, scenario, i, faults);
    const timed = scenario.faults
      .filter((f) => f.op === i && f.kind.startsWith('process.') && f.after)
      .map((f) => setTimeout(() => void faults.strike(f, own), f.at * 250));
    const work = perform(pipeline, operation).then(
      () => 'done' as const,
      (error: unknown) => {
        log.push(`    operation ${i + 1} threw: ${(error as Error).message.slice(0, 200)}`);
        return 'threw' as const;
      },
    );
    const opStarted = performance.now();
    let how = await Promise.race([work, death]);
    // The operation may end while its interrupt still runs: the process exits only when it is done.
    if (struck) how = await death;
    log.push(`    operation ${i + 1}: ${how} in ${((performance.now() - opStarted) / 1000).toFixed(1)} s`);
    for (const timer of timed) clearTimeout(timer);
    provider.clear();
    faults.disarm();
    // A command that failed with an error told the user so (the CLI prints it and exits 1): when the
    // lake refuses the very write that would record a failure, that is the only place it can be named.
    if (how !== 'done') for (const day of operationDays(operation, scenario.days)) told.add(dayKey(day));
    if (how === 'killed' || how === 'interrupted') {
      log.push(`    the process was ${how} during operation ${i + 1}; restarted`);
      // A dead process's work stops with it; what is still in flight fails at its next port call.
      await Promise.race([work, sleep(3_000)]);
      await pipeline.runner.idle();
      await end(current);
      current = await start();
    }
  }
  await end(current);
  return { told, deadLetters };
};

/** The days the pipeline itself says are not done: no manifest, or a newest run that did not succeed. */
const unfinishedDays = async (pipeline: LocalPipeline, days: readonly ChartDay[]): Promise<ChartDay[]> => {
  const records = new RunRecords(pipeline.store);
  const unfinished: ChartDay[] = [];
  for (const day of days) {
    const manifest = await readManifest(pipeline.store, day);
    const newest = (await records.list(day)).at(-1);
    if (!manifest || !newest || newest.status !== 'succeeded' || newest.runId !== manifest.runId)
      unfinished.push(day);
  }
  return unfinished;
};

/**
 * The clock of the completing process: the system's, moved forward when the user waits for a
 * provider's quota to end before `retry-missing` (a quota's Retry-After runs to a day).
 */
class WaitingClock implements Clock {
  #aheadMs = 0;
  now = (): Date => new Date(systemClock.now().getTime() + this.#aheadMs);
  sleep = (ms: number): Promise<void> => systemClock.sleep(ms);
  /** Moves the clock to just after `until`, if that is still to come. */
  waitUntil(until: string): void {
    this.#aheadMs = Math.max(this.#aheadMs, Date.parse(until) + 1_000 - systemClock.now().getTime());
  }
}

/**
 * Completes the scenario without faults, as a user would after reading what the pipeline told
 * them: a new process (whose start recovers what an interrupted one left), the chart days it
 * reports unfinished run again in one backfill, the ingested ones ingested again (the user drops
 * the file again), and `retry-missing` for what the backlog holds, once every quota it names has
 * ended (the user waits: retry-missing skips a day whose tracks wait for a quota, and says until
 * when).
 */
const complete = async (
  pipeline: LocalPipeline,
  clock: WaitingClock,
  scenario: Scenario,
  log: string[],
): Promise<void> => {
  const again = await unfinishedDays(pipeline, scenario.days);
  const fetched = again.filter((d) => d.chartId === chaosChart);
  const ingested = again.filter((d) => d.chartId === ingestChart).map((d) => d.chartDate);
  if (fetched.length > 0) {
    log.push(`  completion: backfill ${fetched.map((d) => d.chartDate).join(' ')}`);
    await pipeline.backfill(fetched);
  }
  if (ingested.length > 0) {
    log.push(`  completion: ingest ${ingested.join(' ')} again`);
    await ingest(pipeline, ingested);
  }
  const backlog = await new MissingBacklog(pipeline.store).list();
  if (backlog.length > 0) {
    const quotaEnds = backlog.map(retryableFrom).filter((until) => until !== undefined);
    const until = quotaEnds.sort().at(-1);
    if (until !== undefined && Date.parse(until) > clock.now().getTime()) {
      log.push(`  completion: waits for the quota to end at ${until}`);
      clock.waitUntil(until);
    }
    log.push('  completion: retry-missing');
    await pipeline.retryMissing();
  }
};

export interface RunOptions {
  /** The lake's verification; `lakeVerifier` unless given. */
  readonly verifier?: LakeVerifier | undefined;
  /**
   * A store that breaks a promise on purpose, under every process of the scenario (the completing
   * one included): how the suite's own test shows that its checks catch a real loss.
   */
  readonly sabotage?: NonNullable<PortWrappers['store']>;
  /** Keeps a failing scenario's home (its lake and warehouse) for a look, and says where. */
  readonly keepFailing?: boolean;
}

/** Runs one scenario in a fresh home, completes it, and checks its end state. */
export const runScenario = async (
  scenario: Scenario,
  references: References,
  options: RunOptions = {},
): Promise<ScenarioOutcome> => {
  const verifier = 'verifier' in options ? options.verifier : lakeVerifier;
  const started = performance.now();
  const { home, config } = await chaosHome(`s${scenario.seed}`);
  const log: string[] = [];
  const violations: string[] = [];
  const faults = new FaultInjector(scenario.seed);
  const processes = new Processes();
  try {
    const { told, deadLetters } = await runFaulty(scenario, config, processes, faults, log, options);
    const process = processes.spawn();
    const clock = new WaitingClock();
    const pipeline = await startAsAUser(
      () =>
        LocalPipeline.start({
          config,
          clock,
          processEnv: globalThis.process.env,
          retry: chaosRetry,
          note: (text) => log.push(`    note: ${text}`),
          wrap: { process, ...(options.sabotage ? { store: options.sabotage } : {}) },
        }),
      config.lakeRoot,
      log,
    );
    try {
      violations.push(...(await unnamedFailures(pipeline, scenario.days, told, deadLetters)));
      await complete(pipeline, clock, scenario, log);
      const expected = await references.of(scenario.days);
      violations.push(...martDifferences(await martSnapshot(pipeline.warehouse), expected));
      violations.push(...(await chartEntries(pipeline, scenario.days)));
      violations.push(...(await leftovers(pipeline)));
      if (verifier) violations.push(...(await verifier(pipeline.store)).map((p) => `verify: ${p}`));
    } finally {
      await pipeline.close();
    }
  } catch (error) {
    violations.push(`the scenario could not complete: ${(error as Error).stack ?? String(error)}`);
  } finally {
    if (options.keepFailing && violations.length > 0) log.push(`  home kept: ${home}`);
    else await rm(home, { recursive: true, force: true });
  }
  return {
    scenario,
    violations,
    injected: faults.injected,
    log,
    verified: verifier !== undefined,
    seconds: (performance.now() - started) / 1000,
  };
};
