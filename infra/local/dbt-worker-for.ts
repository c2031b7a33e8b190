import path from 'node:path';
import type { LocalConfig } from '../../shared/config/config.js';
import { DbtWorker, dbtWorkerPaths } from '../adapters/embedded/dbt-worker.js';
import { dbtProfileEnv } from './dbt-profile-env.js';

/**
 * The long-lived dbt process of a home's builds (infra/adapters/embedded/dbt-worker.ts), with the
 * profile's variables for the configured warehouse. Light to import: the CLI makes and starts one
 * as soon as it holds the home's lock, before it loads the runtime.
 */
export const dbtWorkerFor = (
  config: LocalConfig,
  processEnv: Readonly<Record<string, string | undefined>>,
): DbtWorker => {
  const { python, workerScript } = dbtWorkerPaths(config.projectRoot);
  return new DbtWorker({
    python,
    script: workerScript,
    env: { ...processEnv, ...dbtProfileEnv(config) },
    workDir: path.join(config.home, 'dbt'),
  });
};
