import { describe, expect, it } from 'vitest';
import { parseAwsConfig } from '../../../shared/config/aws-config.js';
import { parseLocalConfig } from '../../../shared/config/config.js';
import { lambdaEnvironment } from '../../support/aws-environment.js';

/** Both places a process reads its environment, parsed the same way for the breakers. */
const parsers = [
  {
    where: 'one machine',
    parse: (env: Record<string, string>) => parseLocalConfig({ CHARTFLOW_HOME: '/tmp/x', ...env }),
  },
  {
    where: 'Lambda',
    parse: (env: Record<string, string>) => parseAwsConfig({ ...lambdaEnvironment(), ...env }),
  },
];

describe.each(parsers)('The circuit breakers settings, on $where', ({ parse }) => {
  it('default to 5 failures in a row and 180 s of trouble per endpoint', () => {
    expect(parse({}).breakers).toEqual({ failures: 5, budgetMs: 180_000 });
    expect(
      parse({ CHARTFLOW_BREAKER_FAILURES: ' ', CHARTFLOW_ENDPOINT_BUDGET_SECONDS: '' }).breakers,
    ).toEqual({
      failures: 5,
      budgetMs: 180_000,
    });
  });

  it('read CHARTFLOW_BREAKER_FAILURES and CHARTFLOW_ENDPOINT_BUDGET_SECONDS', () => {
    expect(
      parse({ CHARTFLOW_BREAKER_FAILURES: '8', CHARTFLOW_ENDPOINT_BUDGET_SECONDS: '60' }).breakers,
    ).toEqual({
      failures: 8,
      budgetMs: 60_000,
    });
  });

  it('name the variable that is malformed, and why', () => {
    expect(() => parse({ CHARTFLOW_BREAKER_FAILURES: 'five' })).toThrow(
      /^CHARTFLOW_BREAKER_FAILURES .*must be a whole number/,
    );
    expect(() => parse({ CHARTFLOW_BREAKER_FAILURES: '0' })).toThrow(
      /^CHARTFLOW_BREAKER_FAILURES .*at least 1/,
    );
    expect(() => parse({ CHARTFLOW_ENDPOINT_BUDGET_SECONDS: '1.5' })).toThrow(
      /^CHARTFLOW_ENDPOINT_BUDGET_SECONDS .*whole number/,
    );
  });
});
