import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chartFetchDeps } from '../../../../infra/aws/functions/chart-fetch.js';
import { awsFunctionEnv } from '../../../../infra/aws/functions/environment.js';
import { stageCleanupDeps } from '../../../../infra/aws/functions/stage-cleanup.js';
import { stageLoaderDeps } from '../../../../infra/aws/functions/stage-loader.js';
import { trackAttributesDeps } from '../../../../infra/aws/functions/track-attributes.js';
import { transformDeps } from '../../../../infra/aws/functions/transform.js';
import { parseAwsConfig } from '../../../../shared/config/aws-config.js';
import type { Metrics } from '../../../../shared/ports/metrics.js';
import { lambdaEnvironment } from '../../../support/aws-environment.js';

/** The EMF lines a call writes to standard output, parsed. */
const emitted = (call: () => void): Record<string, unknown>[] => {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    call();
  } finally {
    spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('The composition roots: each function its metrics', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_DEV', '');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => vi.unstubAllEnvs());

  const env = () =>
    awsFunctionEnv({ config: parseAwsConfig(lambdaEnvironment()), clientConfig: { region: 'eu-west-1' } });
  const roots: Record<string, () => { metrics?: Metrics }> = {
    chartFetch: () => chartFetchDeps(env()),
    trackAttributes: () => trackAttributesDeps(env()),
    stageLoader: () => stageLoaderDeps(env()),
    transform: () => transformDeps(env()),
    stageCleanup: () => stageCleanupDeps(env()),
  };

  it.each(Object.keys(roots))(
    '%s writes EMF in the chartflow namespace, the stack (its event bus) as service',
    (name) => {
      const { metrics } = roots[name]!();
      expect(metrics).toBeDefined();
      const [line] = emitted(() => metrics!.checksFailed(2));
      expect(line).toMatchObject({ service: 'chartflow-dev', ChecksFailed: 2 });
      expect(line!._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'chartflow' }] });
    },
  );

  it("gives track-attributes the track queue's redrive, to count what it dead-letters", () => {
    expect(trackAttributesDeps(env()).maxReceiveCount).toBe(3);
  });
});
