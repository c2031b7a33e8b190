import { text } from 'node:stream/consumers';
import { loadLocalConfig, type LocalConfig } from '../../../shared/config/config.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import type { AwsAccess } from '../../aws/cli/aws-clients.js';
import { HomeLock, type HomeWriter } from '../home-lock.js';
import { dbtWorkerFor } from '../dbt-worker-for.js';
import type { LocalPipeline } from '../runtime.js';
import { assertDbtInstalled } from './options.js';
import { stopCleanlyOnSignal } from './interrupt.js';

/** What every command gets: the configuration and a clock. Tests give their own. */
export interface CliContext {
  readonly config: () => LocalConfig;
  readonly clock: Clock;
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  /** Progress and notes, kept off standard output so `--json` stays one object. */
  readonly note: (text: string) => void;
  /** How `--target aws` reaches AWS; unset, the SDK's defaults (tests point it at moto). */
  readonly aws?: AwsAccess;
  /** Standard input's text when it is not a terminal (a pipe, a file), else `undefined`. */
  readonly readInput?: () => Promise<string | undefined>;
  /** Where progress bars go when it is a terminal (standard error); without it, progress is lines. */
  readonly progressStream?: NodeJS.WriteStream;
}

export const defaultContext = (): CliContext => ({
  config: loadLocalConfig,
  clock: systemClock,
  processEnv: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  note: (text) => process.stderr.write(`${text}\n`),
  readInput: async () => (process.stdin.isTTY ? undefined : text(process.stdin)),
  progressStream: process.stderr,
});

/**
 * Starts the pipeline for a writing command, runs the work, and always stops what it started. The
 * home's lock comes first, before the sandbox, the warehouse or the lake is touched: a second
 * writer waits for it, or gives up having written nothing (docs/reliability.md, "Locks: one writer
 * per home").
 */
export const withPipeline = async <T>(
  context: CliContext,
  config: LocalConfig,
  writer: HomeWriter,
  work: (pipeline: LocalPipeline) => Promise<T>,
  /** `recover: false`: the command finds and reports what an interrupted run left itself (`reconcile`). */
  options: { readonly recover?: boolean } = {},
): Promise<T> => {
  assertDbtInstalled(config);
  const lock = await HomeLock.acquire({
    ...writer,
    home: config.home,
    note: context.note,
  });
  // Every writing command ends in a transform: dbt starts now (its import takes about 1.5 s), while
  // the runtime loads and the pipeline starts (docs/architecture.md, "The transform").
  const dbt = dbtWorkerFor(config, context.processEnv);
  dbt.start();
  // The runtime (DuckDB, the sandbox, the adapters) is loaded by the commands that start it, not
  // by every start of the CLI.
  const pipeline = await import('../runtime.js')
    .then(({ LocalPipeline }) =>
      LocalPipeline.start({
        config,
        processEnv: context.processEnv,
        clock: context.clock,
        waitMs: writer.waitMs,
        note: context.note,
        dbt,
        sandboxThread: true,
        ...(options.recover === false ? { recover: false } : {}),
      }),
    )
    .catch(async (error: unknown) => {
      await dbt.close();
      await lock.release();
      throw error;
    });
  if (pipeline.sandboxEndpoints)
    context.note(
      `chartflow: no Spotify credentials configured, using the sandbox at ${pipeline.sandboxEndpoints.apiUrl}`,
    );
  const signals = stopCleanlyOnSignal(pipeline, context.note);
  try {
    return await work(pipeline);
  } finally {
    // A signal's clean stop ends the process itself, with its own exit code (130).
    await signals.stopping();
    signals.stop();
    await pipeline.close().finally(() => lock.release());
  }
};
