import { readFile, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import type { Clock } from '../../../shared/ports/clock.js';
import type { TransformRequest, TransformRunner } from '../../../shared/ports/transform-runner.js';
import {
  dbtContainerName,
  ecsTaskStateChange,
  transformEnvironment,
  type EcsTaskDetail,
} from '../../../shared/events/ecs-task-event.js';
import { toEnvelope, type EventBridgeEnvelope } from '../../../shared/events/bus-event.js';
import { newId } from '../../../shared/ids.js';
import { logger } from '../../../shared/logger.js';
import type { DbtExit, DbtWorker } from './dbt-worker.js';

export interface LocalDbtRunnerOptions {
  /** The dbt project folder (holds dbt_project.yml and profiles.yml). */
  readonly projectDir: string;
  /**
   * The dbt that runs the builds, for the runner's life; whoever builds it may start it early
   * ({@link DbtWorker.start}), and the runner closes it.
   */
  readonly worker: DbtWorker;
  readonly target: 'duckdb' | 'postgres';
  /** dbt's target and log folders, per chartflow home, so that separate homes never share them. */
  readonly workDir: string;
  /**
   * Runs dbt with the warehouse file to itself: the DuckDB warehouse closes its handle and waits
   * meanwhile ({@link DuckDbWarehouse.exclusive}). Not needed for a server (PostgreSQL).
   */
  readonly exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
  readonly clock: Clock;
  /** Receives the ECS-shaped stop event, as EventBridge would deliver it. */
  readonly onStopped: (event: EventBridgeEnvelope<EcsTaskDetail>) => void;
}

const runResultsSchema = z.object({
  results: z.array(z.object({ unique_id: z.string(), status: z.string(), message: z.string().nullish() })),
});

/** How long dbt's own words may be in a run record. */
const maxMessageLength = 2_000;

/**
 * Runs `dbt build` locally, the twin of the Fargate task: it starts and returns, and when dbt is
 * done it announces an "ECS Task State Change" (STOPPED, with the exit code and dbt's message)
 * carrying the request in the container's environment, as ECS does. dbt runs in a worker that
 * lives as long as this runner ({@link DbtWorker}): a task on ECS starts dbt for each build, here
 * the start is paid once per command (docs/architecture.md, "The transform").
 */
export class LocalDbtRunner implements TransformRunner {
  readonly #running = new Set<Promise<void>>();
  readonly #worker: DbtWorker;
  /** Set by {@link stop}: a run stopped on purpose announces no stop event; its batch is recorded interrupted. */
  #stopped = false;
  #warmed = false;

  constructor(private readonly options: LocalDbtRunnerOptions) {
    this.#worker = options.worker;
  }

  /**
   * Starts dbt and parses the project now, while the days are still being fetched and loaded, so
   * that the transform finds dbt ready. Once per runner; a failed parse is tried again by the build,
   * which reports it.
   */
  warm(): void {
    if (this.#warmed || this.#stopped) return;
    this.#warmed = true;
    void this.#worker.parse(this.#commonArgs());
  }

  /** Ends the dbt worker once the builds under way are done. */
  async close(): Promise<void> {
    await this.idle();
    await this.#worker.close();
  }

  async start(request: TransformRequest): Promise<{ taskId: string }> {
    const taskId = `arn:aws:ecs:local:000000000000:task/chartflow/${newId(this.options.clock)}`;
    const task = this.#runTask(taskId, request).finally(() => this.#running.delete(task));
    this.#running.add(task);
    return { taskId };
  }

  /** Resolves when no dbt run is under way. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  get pending(): number {
    return this.#running.size;
  }

  /**
   * Stops every dbt run under way (Ctrl-C): the signal goes to the dbt worker's process group, so
   * that dbt's own threads and adapters stop with it (a warm-up parse too), and resolves once the
   * worker has ended. No stop event
   * follows, and no dbt starts after it: the interrupt records the batch itself
   * (docs/reliability.md, "Interrupted runs"). Returns how many runs it stopped.
   */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number> {
    this.#stopped = true;
    const stopped = this.#running.size;
    // A build under way stops; so does a warm-up parse, and an idle worker ends.
    this.#worker.signal(signal);
    await this.idle();
    await this.#worker.close();
    return stopped;
  }

  async #runTask(taskId: string, request: TransformRequest): Promise<void> {
    const outcome = await (this.options.exclusive
      ? this.options.exclusive(() => this.#dbtBuild(request))
      : this.#dbtBuild(request));
    if (this.#stopped) return;
    const environment = transformEnvironment(request);
    this.options.onStopped(
      toEnvelope(
        {
          source: 'aws.ecs',
          detailType: ecsTaskStateChange,
          detail: {
            taskArn: taskId,
            lastStatus: 'STOPPED',
            stoppedReason: outcome.exitCode === 0 ? 'Essential container in task exited' : 'dbt failed',
            containers: [{ name: dbtContainerName, exitCode: outcome.exitCode, reason: outcome.message }],
            overrides: { containerOverrides: [{ name: dbtContainerName, environment }] },
          },
        },
        {
          id: newId(this.options.clock),
          time: this.options.clock.now(),
          region: 'local',
          account: '000000000000',
        },
      ),
    );
  }

  /**
   * The same arguments every time, and no --vars: the models transform whatever the stage holds,
   * and a change of vars makes dbt parse the whole project again instead of reusing its partial
   * parse in the (stable) target path.
   */
  #commonArgs(): string[] {
    const { projectDir, target, workDir } = this.options;
    return [
      '--project-dir',
      projectDir,
      '--profiles-dir',
      projectDir,
      '--target',
      target,
      '--target-path',
      path.join(workDir, 'target'),
      '--log-path',
      path.join(workDir, 'logs'),
    ];
  }

  async #dbtBuild(request: TransformRequest): Promise<{ exitCode: number; message?: string }> {
    const targetPath = path.join(this.options.workDir, 'target');
    await rm(path.join(targetPath, 'run_results.json'), { force: true });
    if (this.#stopped) return { exitCode: 130, message: 'dbt was not started: the run was interrupted' };
    // Unit tests check the models' logic on fixed inputs, not the data: as dbt Labs advises, they
    // run in CI (test/dbt), not in every production build; the data tests do run, on every build.
    const exit: DbtExit = await this.#worker.build(
      ['--exclude-resource-type', 'unit_test', ...this.#commonArgs()],
      this.#commonArgs(),
      // The batch id reaches dbt as it reaches the container on ECS: in its environment.
      Object.fromEntries(transformEnvironment(request).map((e) => [e.name, e.value])),
    );
    if (exit.code === 0) return { exitCode: 0 };
    const exitCode = exit.code ?? 128 + signalNumber(exit.signal);
    const message =
      (await this.#failedNodes(targetPath)) ??
      lastErrorLines(exit.output) ??
      `dbt exited with ${exit.signal ?? `code ${exitCode}`}`;
    // Powertools keeps `message` for the log line's own: dbt's words go as `reason`.
    if (!this.#stopped) logger.warn('dbt build failed', { exitCode, reason: message });
    return { exitCode, message: message.slice(0, maxMessageLength) };
  }

  /** dbt's own account of what failed, from run_results.json. */
  async #failedNodes(targetPath: string): Promise<string | undefined> {
    try {
      const results = runResultsSchema.parse(
        JSON.parse(await readFile(path.join(targetPath, 'run_results.json'), 'utf8')),
      );
      const failed = results.results.filter(
        (r) => !['success', 'pass', 'skipped', 'warn'].includes(r.status),
      );
      return failed.length
        ? failed.map((r) => `${r.unique_id} ${r.status}: ${r.message ?? ''}`.trim()).join('; ')
        : undefined;
    } catch {
      return undefined;
    }
  }
}

const signalNumber = (signal: NodeJS.Signals | null): number =>
  signal ? (osConstants.signals[signal] ?? 1) : 1;

/** When dbt fails before it writes results (a parse error, a bad profile), its output says why. */
const lastErrorLines = (output: string): string | undefined => {
  const lines = output
    // dbt colours its output with ANSI escapes; a run record wants the words.
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error/i.test(l));
  return (errors.length ? errors : lines).slice(-6).join(' | ') || undefined;
};
