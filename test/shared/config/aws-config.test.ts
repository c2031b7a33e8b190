import { describe, expect, it } from 'vitest';
import { parseAwsConfig } from '../../../shared/config/aws-config.js';
import { ConfigError } from '../../../shared/errors.js';
import { lambdaEnvironment } from '../../support/aws-environment.js';

const failure = (env: Record<string, string | undefined>): string => {
  try {
    parseAwsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('parseAwsConfig accepted the environment');
};

describe('Function: parseAwsConfig', () => {
  it('reads the environment serverless.yml gives a function', () => {
    const config = parseAwsConfig(lambdaEnvironment());
    expect(config).toMatchObject({
      bucket: 'chartflow-dev-lake-123456789012-eu-west-1',
      eventBusName: 'chartflow-dev',
      chartPlaylists: { global: '37i9dQZEVXbMDoHDwVN2tF', us: '37i9dQZEVXbLRQDuF5jeBp' },
      spotify: { apiUrl: 'https://api.spotify.com/v1', accountsUrl: 'https://accounts.spotify.com' },
      reccobeats: { apiUrl: 'https://api.reccobeats.com/v1' },
      rateLimits: {
        spotify: { requests: 30, windowMs: 30_000 },
        reccobeats: { requests: 20, windowMs: 30_000 },
      },
      maxReceiveCount: 3,
      redshift: { workgroupName: 'chartflow-dev', database: 'chartflow' },
      dbtTask: {
        cluster: 'chartflow-dev',
        subnets: ['subnet-0a1b2c3d', 'subnet-0e1f2a3b', 'subnet-0c4d5e6f'],
        securityGroups: ['sg-0123abcd'],
      },
    });
  });

  it('accepts a stack without playlists (charts from the inbox only) and ReccoBeats turned off', () => {
    const config = parseAwsConfig({
      ...lambdaEnvironment(),
      CHARTFLOW_CHARTS: '',
      CHARTFLOW_RECCOBEATS: 'off',
    });
    expect(config.chartPlaylists).toEqual({});
    expect(config.reccobeats).toBeUndefined();
  });

  it('turns Spotify off for a stack without an app, and refuses playlists then', () => {
    const config = parseAwsConfig({ ...lambdaEnvironment(), CHARTFLOW_CHARTS: '', CHARTFLOW_SPOTIFY: 'off' });
    expect(config.spotify).toBeUndefined();
    expect(parseAwsConfig(lambdaEnvironment()).spotify).toBeDefined();
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_SPOTIFY: 'off' })).toMatch(
      /^CHARTFLOW_CHARTS names playlists, which only a Spotify app can read/,
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_SPOTIFY: 'no' })).toMatch(
      /^CHARTFLOW_SPOTIFY is invalid/,
    );
  });

  it('names the variable that is missing', () => {
    for (const name of [
      'CHARTFLOW_BUCKET',
      'REDSHIFT_WORKGROUP',
      'CHARTFLOW_SUBNETS',
      'CHARTFLOW_MAX_RECEIVE_COUNT',
    ]) {
      expect(failure({ ...lambdaEnvironment(), [name]: undefined })).toBe(`${name} is required.`);
      expect(failure({ ...lambdaEnvironment(), [name]: '  ' })).toBe(`${name} is required.`);
    }
  });

  it('names the variable that is malformed, and why', () => {
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_SUBNETS: 'subnet-0a1b,vpc-1' })).toMatch(
      /^CHARTFLOW_SUBNETS .*malformed id/,
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: 'three' })).toMatch(
      /^CHARTFLOW_MAX_RECEIVE_COUNT .*whole number/,
    );
    expect(failure({ ...lambdaEnvironment(), REDSHIFT_COPY_ROLE_ARN: 'chartflow-copy' })).toMatch(
      /^REDSHIFT_COPY_ROLE_ARN .*must be an ARN/,
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_CHARTS: 'global' })).toMatch(
      /^CHARTFLOW_CHARTS .*chart=playlistId/,
    );
    expect(failure({ ...lambdaEnvironment(), SPOTIFY_RATE_LIMIT: 'fast' })).toMatch(/^SPOTIFY_RATE_LIMIT /);
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_TRACK_QUEUE_URL: 'http://queue' })).toMatch(
      /^CHARTFLOW_TRACK_QUEUE_URL .*https/,
    );
  });
  it('reads every value a function needs, the Spotify endpoints a stack names too', () => {
    const config = parseAwsConfig({
      ...lambdaEnvironment(),
      SPOTIFY_API_URL: 'http://127.0.0.1:4010/v1',
      SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:4011',
      RECCOBEATS_API_URL: 'http://127.0.0.1:4020/v1',
      REDSHIFT_COPY_ROLE_ARN: 'arn:aws-cn:iam::123456789012:role/copy',
    });
    expect(config).toMatchObject({
      trackQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/chartflow-dev-tracks',
      transformQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/chartflow-dev-transform',
      spotifySecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chartflow-dev/spotify-AbCdEf',
      spotify: { apiUrl: 'http://127.0.0.1:4010/v1', accountsUrl: 'http://127.0.0.1:4011' },
      reccobeats: { apiUrl: 'http://127.0.0.1:4020/v1' },
      redshift: { copyRoleArn: 'arn:aws-cn:iam::123456789012:role/copy' },
      dbtTask: {
        taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/chartflow-dev-dbt:1',
      },
    });
  });

  it('defaults the provider rate limits when a stack sets none', () => {
    const config = parseAwsConfig({
      ...lambdaEnvironment(),
      SPOTIFY_RATE_LIMIT: undefined,
      RECCOBEATS_RATE_LIMIT: ' ',
    });
    expect(config.rateLimits).toEqual({
      spotify: { requests: 90, windowMs: 30_000 },
      reccobeats: { requests: 60, windowMs: 30_000 },
    });
  });

  it('reads id lists with spaces and stray commas, and names a list that holds no id', () => {
    const config = parseAwsConfig({
      ...lambdaEnvironment(),
      CHARTFLOW_SUBNETS: ' subnet-0a1b , ,subnet-0c2d,',
      CHARTFLOW_SECURITY_GROUPS: 'sg-0123abcd, sg-4567ef01',
    });
    expect(config.dbtTask.subnets).toEqual(['subnet-0a1b', 'subnet-0c2d']);
    expect(config.dbtTask.securityGroups).toEqual(['sg-0123abcd', 'sg-4567ef01']);
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_SUBNETS: ' , ' })).toMatch(
      /^CHARTFLOW_SUBNETS is invalid: /,
    );
    for (const groups of ['sg-0123abcd,subnet-0a1b', 'xsg-0123abcd', 'sg-0123abcdZ', 'sg-']) {
      expect(failure({ ...lambdaEnvironment(), CHARTFLOW_SECURITY_GROUPS: groups })).toBe(
        'CHARTFLOW_SECURITY_GROUPS holds a malformed id.',
      );
    }
  });

  it('names a role that is not an ARN, or a queue URL that is not https', () => {
    expect(failure({ ...lambdaEnvironment(), REDSHIFT_COPY_ROLE_ARN: 'x arn:aws:iam::1:role/copy' })).toBe(
      'REDSHIFT_COPY_ROLE_ARN must be an ARN.',
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_TRANSFORM_QUEUE_URL: 'not a url' })).toBe(
      'CHARTFLOW_TRANSFORM_QUEUE_URL must be an http(s) URL.',
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_TRANSFORM_QUEUE_URL: 'http://sqs.local/q' })).toBe(
      'CHARTFLOW_TRANSFORM_QUEUE_URL must be https.',
    );
    expect(failure({ ...lambdaEnvironment(), SPOTIFY_API_URL: 'ftp://example.com' })).toBe(
      'SPOTIFY_API_URL must be an http(s) URL.',
    );
  });

  it('takes a maxReceiveCount from 1 to 1000, the range SQS allows', () => {
    expect(parseAwsConfig({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: '1' }).maxReceiveCount).toBe(
      1,
    );
    expect(
      parseAwsConfig({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: ' 1000 ' }).maxReceiveCount,
    ).toBe(1000);
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: '1001' })).toBe(
      'CHARTFLOW_MAX_RECEIVE_COUNT must be at most 1000 (SQS).',
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: '0' })).toBe(
      'CHARTFLOW_MAX_RECEIVE_COUNT must be at least 1.',
    );
    expect(failure({ ...lambdaEnvironment(), CHARTFLOW_MAX_RECEIVE_COUNT: '2.5' })).toBe(
      'CHARTFLOW_MAX_RECEIVE_COUNT must be a whole number.',
    );
  });

  it('accepts, without Spotify, a CHARTFLOW_CHARTS that names no playlist', () => {
    const config = parseAwsConfig({
      ...lambdaEnvironment(),
      CHARTFLOW_SPOTIFY: 'off',
      CHARTFLOW_CHARTS: ' , ',
    });
    expect(config.chartPlaylists).toEqual({});
    expect(config.spotify).toBeUndefined();
  });

  it('says the environment itself is invalid when it is not a set of variables', () => {
    expect(failure(undefined as never)).toMatch(/^environment is invalid: /);
  });
});
