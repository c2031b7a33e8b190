import type { LocalPipeline } from '../../infra/local/runtime.js';
import type { FaultHandle } from '../../infra/sandbox/faults.js';
import { chaosChart, type Scenario } from './scenario.js';
import type { FaultInjector } from './faults.js';

/**
 * The provider faults of one operation, switched on in the pipeline's own sandbox through its fault
 * switches (infra/sandbox/faults.ts): 5xx answers, answers cut short, a spent quota, track ids whose
 * lookups fail. Each fault picks its provider (Spotify or ReccoBeats) from the scenario's seed.
 * `clear` switches them off when the operation ends. The rate limit is the sandbox's own and lasts
 * the process (run-scenario.ts).
 */
export const armProviderFaults = (
  pipeline: LocalPipeline,
  scenario: Scenario,
  op: number,
  faults: FaultInjector,
): { clear(): void } => {
  const sandbox = pipeline.sandbox;
  const handles: FaultHandle[] = [];
  let failingIds = false;
  if (!sandbox) return { clear: () => undefined };
  const operation = scenario.operations[op]!;
  const day = 'day' in operation ? operation.day : scenario.days[0]!.chartDate;
  for (const fault of scenario.faults.filter((f) => f.op === op && f.kind.startsWith('provider.'))) {
    const provider = faults.rng.pick(['spotify', 'reccobeats'] as const);
    switch (fault.kind) {
      case 'provider.5xx':
        handles.push(sandbox.faults.serverErrors({ provider, count: fault.param }));
        break;
      case 'provider.malformed':
        handles.push(sandbox.faults.malformedJson({ provider, count: fault.param }));
        break;
      case 'provider.quota':
        handles.push(sandbox.faults.quotaExceeded({ provider, retryAfterSeconds: fault.param }));
        break;
      case 'provider.failing-ids': {
        const chart = sandbox.catalog.chartFor(chaosChart, day);
        const ids = Array.from({ length: fault.param }, () => faults.rng.pick(chart));
        sandbox.faults.failTrackLookups(ids, { provider });
        failingIds = true;
        break;
      }
      default:
        continue;
    }
    faults.count(fault.kind);
  }
  return {
    clear: () => {
      for (const handle of handles) handle.clear();
      // Failing ids have no handle of their own: clearing them clears every sandbox fault, none other being on.
      if (failingIds) sandbox.faults.clear();
    },
  };
};
