import type { CliContext } from '../../infra/local/cli/context.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import { systemClock } from '../../shared/ports/clock.js';

/** A command line context for `main` in process: a home of its own, standard output kept in `out`, notes dropped. */
export const cliIn = (home: string, out: string[]): CliContext => ({
  config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
  clock: systemClock,
  processEnv: process.env,
  out: (t) => out.push(t),
  note: () => undefined,
});

/**
 * A context for `--target aws` commands against a moto server: the home under `home`, a clock pinned
 * at `now` that never sleeps, no environment, output and notes collected.
 */
export const cliOnMoto = (
  home: string,
  clientSettings: NonNullable<CliContext['aws']>['clientSettings'],
  collect: { readonly out: string[]; readonly notes: string[] },
  now = new Date('2026-11-22T10:00:00Z'),
): CliContext => ({
  config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
  clock: { now: () => now, sleep: async () => undefined },
  processEnv: {},
  out: (t) => collect.out.push(t),
  note: (t) => collect.notes.push(t),
  aws: { clientSettings },
});
