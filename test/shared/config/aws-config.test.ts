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
});
