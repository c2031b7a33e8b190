import { afterEach, describe, expect, it, vi } from 'vitest';
import { awsFunctionEnv } from '../../../../infra/aws/functions/environment.js';
import { awsBreakers } from '../../../../infra/aws/functions/providers.js';
import { parseAwsConfig } from '../../../../shared/config/aws-config.js';
import { CircuitOpenError } from '../../../../shared/errors.js';
import { awsBreakerCoolDownMs } from '../../../../shared/http/circuit-breaker.js';
import { logger } from '../../../../shared/logger.js';
import { lambdaEnvironment } from '../../../support/aws-environment.js';
import { manualClock } from '../../../shared/http/manual-clock.js';

afterEach(() => vi.restoreAllMocks());

const span = { from: 0, to: 10 };

describe('Function: awsBreakers', () => {
  const setup = (env: Record<string, string> = {}) => {
    const clock = manualClock();
    const config = parseAwsConfig({ ...lambdaEnvironment(), ...env });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    return { clock, warn, breakers: awsBreakers(awsFunctionEnv({ config, clock })) };
  };

  it('opens after CHARTFLOW_BREAKER_FAILURES failures and logs a warning naming the endpoint and the last error', () => {
    const { breakers, warn } = setup({ CHARTFLOW_BREAKER_FAILURES: '2' });
    const breaker = breakers.for('spotify', 'GET /v1/tracks');

    expect(breaker.failed('HTTP 500', span)).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
    expect(breaker.failed('HTTP 502', span)).toBeInstanceOf(CircuitOpenError);
    expect(warn).toHaveBeenCalledWith('A provider endpoint is switched off', {
      breaker: expect.objectContaining({
        endpoint: 'spotify GET /v1/tracks',
        reason: 'open after 2 failures',
        lastError: 'HTTP 502',
      }),
    });
  });

  it('lets one request probe an open endpoint after the cool-down, since a Lambda instance outlives an outage', () => {
    const { breakers, clock } = setup();
    const breaker = breakers.for('reccobeats', 'GET /v1/track');
    for (let i = 0; i < 5; i++) breaker.failed('HTTP 503', span);

    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    clock.advance(awsBreakerCoolDownMs - 1);
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    clock.advance(1);
    expect(breaker.admit()).toBe('probe');
    // One probe at a time: the others still fail at once.
    expect(() => breaker.admit()).toThrow(CircuitOpenError);
    // The probe's answer (it left now, after the opening) closes it.
    const probeSent = clock.now().getTime();
    breaker.answered({ from: probeSent, to: probeSent + 10 });
    expect(breaker.admit()).toBe('closed');
    expect(breakers.opened()).toEqual([]);
  });
});
