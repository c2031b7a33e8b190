import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadReconcilerConfig, parseReconcilerConfig } from '../../../shared/config/reconciler-config.js';
import { ConfigError } from '../../../shared/errors.js';

const environment = {
  CHARTFLOW_STAGE_LOADER_FUNCTION: 'chartflow-dev-stageLoader',
  AWS_REGION: 'eu-west-1',
};

const failure = (env: Record<string, string | undefined>): string => {
  try {
    parseReconcilerConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('parseReconcilerConfig accepted the environment');
};

describe('Function: parseReconcilerConfig', () => {
  it('reads the stage loader function and the region, trimmed', () => {
    expect(
      parseReconcilerConfig({
        CHARTFLOW_STAGE_LOADER_FUNCTION: ' chartflow-dev-stageLoader ',
        AWS_REGION: ' eu-west-1 ',
      }),
    ).toEqual({ stageLoaderFunctionName: 'chartflow-dev-stageLoader', region: 'eu-west-1' });
  });

  it('takes the stage loader by ARN, or by a name of up to 170 characters', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:chartflow-dev-stageLoader:live';
    expect(parseReconcilerConfig({ ...environment, CHARTFLOW_STAGE_LOADER_FUNCTION: arn })).toEqual({
      stageLoaderFunctionName: arn,
      region: 'eu-west-1',
    });
    const longest = `f_${'a'.repeat(167)}.`;
    expect(
      parseReconcilerConfig({ ...environment, CHARTFLOW_STAGE_LOADER_FUNCTION: longest })
        .stageLoaderFunctionName,
    ).toBe(longest);
    expect(failure({ ...environment, CHARTFLOW_STAGE_LOADER_FUNCTION: `${longest}b` })).toBe(
      'CHARTFLOW_STAGE_LOADER_FUNCTION must be a Lambda function name or ARN.',
    );
  });

  it('names the variable that is missing', () => {
    expect(failure({ AWS_REGION: 'eu-west-1' })).toBe('CHARTFLOW_STAGE_LOADER_FUNCTION is required.');
    expect(failure({ CHARTFLOW_STAGE_LOADER_FUNCTION: 'chartflow-dev-stageLoader' })).toBe(
      'AWS_REGION is required.',
    );
    expect(failure({ ...environment, AWS_REGION: '  ' })).toBe('AWS_REGION is required.');
  });

  it('names the stage loader that is not a function name or ARN', () => {
    for (const value of ['', '   ', 'no spaces', 'chartflow/dev', 'x chartflow-dev', 'chartflow-dev x']) {
      expect(failure({ ...environment, CHARTFLOW_STAGE_LOADER_FUNCTION: value })).toBe(
        'CHARTFLOW_STAGE_LOADER_FUNCTION must be a Lambda function name or ARN.',
      );
    }
  });
});

describe('Function: loadReconcilerConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("parses this process's environment", () => {
    vi.stubEnv('CHARTFLOW_STAGE_LOADER_FUNCTION', 'chartflow-prod-stageLoader');
    vi.stubEnv('AWS_REGION', 'us-east-2');
    expect(loadReconcilerConfig()).toEqual({
      stageLoaderFunctionName: 'chartflow-prod-stageLoader',
      region: 'us-east-2',
    });
  });
});
