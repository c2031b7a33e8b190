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
