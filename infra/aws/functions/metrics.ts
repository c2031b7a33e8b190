import type { Metrics } from '../../../shared/ports/metrics.js';
import { PowertoolsMetricsAdapter } from '../../adapters/aws/powertools-metrics.js';
import type { AwsFunctionEnv } from './environment.js';

/**
 * The function's metrics: CloudWatch EMF lines in its log, with the stack's name as their
 * `service` dimension. The stack's event bus is named after the stack (infra/queues.yml), which
 * test/infra/aws/observability.test.ts holds, so the name comes from the configuration every
 * function already reads, not from a variable of its own.
 */
export const awsMetrics = ({ config }: AwsFunctionEnv): Metrics =>
  new PowertoolsMetricsAdapter({ stackName: config.eventBusName });
