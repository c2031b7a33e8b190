import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalPipeline } from '../../infra/local/runtime.js';
import { parseLocalConfig } from '../../shared/config/config.js';
import type { RetryPolicy } from '../../shared/http/json-client.js';
import { martSnapshot } from '../support/pipeline.js';
import type { ChartDay } from '../../shared/records/messages.js';
import type { Marts } from './checks.js';
import { ingest } from './ingest-file.js';
import { chaosChart, dayKey, ingestChart } from './scenario.js';

/** The provider clients' retries in every chaos pipeline: quick, so that a 5xx costs milliseconds. */
export const chaosRetry: RetryPolicy = {
  retries: 2,
  minTimeoutMs: 10,
  maxTimeoutMs: 50,
  maxInlineWaitMs: 1_000,
};

/** A fresh home with no Spotify credentials: the pipeline runs on its own sandbox. */
export const chaosHome = async (label: string) => {
  const home = await mkdtemp(path.join(tmpdir(), `chartflow-chaos-${label}-`));
  return { home, config: parseLocalConfig({ CHARTFLOW_HOME: home }) };
};

/**
 * The marts of a fault-free run, computed once per set of days and shared by every scenario of the
 * suite. What a scenario's operations leave in the marts, once completed, depends only on which days
 * it loaded (the run of a day, a re-run, a replay and a backfill all give the same marts: invariant
 * 1, and the batch equivalence test), so the reference is one backfill of those days, and the
 * ingest of the days' chart files a scenario ingests.
 */
export class References {
  readonly #cache = new Map<string, Promise<Marts>>();
  /** Seconds spent building references, for the report. */
  seconds = 0;
  built = 0;

  of(days: readonly ChartDay[]): Promise<Marts> {
    const sorted = [...days].sort((a, b) => dayKey(a).localeCompare(dayKey(b)));
    const key = sorted.map(dayKey).join(',');
    let found = this.#cache.get(key);
    if (!found) {
      found = this.#build(sorted);
      this.#cache.set(key, found);
    }
    return found;
  }

  async #build(days: readonly ChartDay[]): Promise<Marts> {
    const started = performance.now();
    const { home, config } = await chaosHome('reference');
    const pipeline = await LocalPipeline.start({ config, processEnv: process.env, retry: chaosRetry });
    const fetched = days.filter((d) => d.chartId === chaosChart);
    const ingested = days.filter((d) => d.chartId === ingestChart).map((d) => d.chartDate);
    try {
      if (fetched.length > 0) {
        const summary = await pipeline.backfill(fetched);
        if (summary.status !== 'succeeded' || summary.loads !== fetched.length)
          throw new Error(
            `the fault-free reference of ${days.map(dayKey).join(', ')} ended ${summary.status}`,
          );
      }
      for (const summary of await ingest(pipeline, ingested))
        if (summary.status !== 'succeeded')
          throw new Error(
            `the fault-free reference's ingest of ${summary.chartDate} ended ${summary.status}`,
          );
      return await martSnapshot(pipeline.warehouse);
    } finally {
      await pipeline.close();
      await rm(home, { recursive: true, force: true });
      this.seconds += (performance.now() - started) / 1000;
      this.built += 1;
    }
  }
}
