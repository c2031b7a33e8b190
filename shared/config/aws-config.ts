import * as z from 'zod';
import { ConfigError } from '../errors.js';
import { rateLimitSetting, type RateLimit } from '../http/rate-limiter.js';
import {
  breakerConfigOf,
  breakerVariables,
  chartPlaylists,
  defaultProviderUrls,
  defaultRateLimits,
  optionalText,
  url,
  type BreakerConfig,
} from './config.js';

const required = (name: string) =>
  z
    .string({ message: `${name} is required` })
    .trim()
    .min(1, { message: `${name} is required` });

/** A comma-separated list of at least one id (subnets, security groups). */
const idList = (name: string, pattern: RegExp) =>
  required(name)
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(pattern, { message: `${name} holds a malformed id` })).min(1));

const arn = (name: string) =>
  required(name).pipe(z.string().regex(/^arn:aws[a-z-]*:/, { message: `${name} must be an ARN` }));

const queueUrl = (name: string) =>
  required(name).pipe(url(name).refine((value) => value.startsWith('https://'), `${name} must be https`));

const environmentSchema = z.object({
  CHARTFLOW_BUCKET: required('CHARTFLOW_BUCKET'),
  CHARTFLOW_TRACK_QUEUE_URL: queueUrl('CHARTFLOW_TRACK_QUEUE_URL'),
  CHARTFLOW_TRANSFORM_QUEUE_URL: queueUrl('CHARTFLOW_TRANSFORM_QUEUE_URL'),
  CHARTFLOW_EVENT_BUS: required('CHARTFLOW_EVENT_BUS'),
  // Blank is allowed: a stack fed by Spotify Charts files only has no playlist to read.
  CHARTFLOW_CHARTS: optionalText.pipe(chartPlaylists.optional()),
  CHARTFLOW_SPOTIFY_SECRET_ID: required('CHARTFLOW_SPOTIFY_SECRET_ID'),
  // `off`: no Spotify app (charts from Spotify Charts files, attributes from ReccoBeats alone), so
  // the placeholder secret a stack is created with is never sent to Spotify.
  CHARTFLOW_SPOTIFY: z.enum(['on', 'off']).default('on'),
  CHARTFLOW_MAX_RECEIVE_COUNT: required('CHARTFLOW_MAX_RECEIVE_COUNT').pipe(
    z.coerce
      .number<string>({ message: 'CHARTFLOW_MAX_RECEIVE_COUNT must be a whole number' })
      .int({ message: 'CHARTFLOW_MAX_RECEIVE_COUNT must be a whole number' })
      .min(1, { message: 'CHARTFLOW_MAX_RECEIVE_COUNT must be at least 1' })
      .max(1_000, { message: 'CHARTFLOW_MAX_RECEIVE_COUNT must be at most 1000 (SQS)' }),
  ),
  REDSHIFT_WORKGROUP: required('REDSHIFT_WORKGROUP'),
  REDSHIFT_DATABASE: required('REDSHIFT_DATABASE'),
  REDSHIFT_COPY_ROLE_ARN: arn('REDSHIFT_COPY_ROLE_ARN'),
  CHARTFLOW_ECS_CLUSTER: required('CHARTFLOW_ECS_CLUSTER'),
  CHARTFLOW_DBT_TASK_DEFINITION: required('CHARTFLOW_DBT_TASK_DEFINITION'),
  CHARTFLOW_SUBNETS: idList('CHARTFLOW_SUBNETS', /^subnet-[0-9a-f]+$/),
  CHARTFLOW_SECURITY_GROUPS: idList('CHARTFLOW_SECURITY_GROUPS', /^sg-[0-9a-f]+$/),
  SPOTIFY_API_URL: optionalText.pipe(url('SPOTIFY_API_URL').optional()),
  SPOTIFY_ACCOUNTS_URL: optionalText.pipe(url('SPOTIFY_ACCOUNTS_URL').optional()),
  RECCOBEATS_API_URL: optionalText.pipe(url('RECCOBEATS_API_URL').optional()),
  CHARTFLOW_RECCOBEATS: z.enum(['on', 'off']).default('on'),
  SPOTIFY_RATE_LIMIT: optionalText.pipe(rateLimitSetting.optional()),
  RECCOBEATS_RATE_LIMIT: optionalText.pipe(rateLimitSetting.optional()),
  ...breakerVariables,
});

/** The configuration of a chartflow Lambda function, from the environment serverless.yml gives it. */
export interface AwsConfig {
  /** The lake's bucket. */
  readonly bucket: string;
  /** chart-fetch → track-attributes. */
  readonly trackQueueUrl: string;
  /** The queue the completion events reach transform through (an EventBridge rule's target). */
  readonly transformQueueUrl: string;
  /** The stack's own event bus, where stage-loader announces loads. */
  readonly eventBusName: string;
  /** Playlist id per chart id: what a scheduled run fetches. */
  readonly chartPlaylists: Readonly<Record<string, string>>;
  /** Where the Spotify app's `{"clientId","clientSecret"}` is kept (a Secrets Manager id or ARN). */
  readonly spotifySecretId: string;
  /** The Spotify app's endpoints, or `undefined` for a stack without one (`CHARTFLOW_SPOTIFY=off`). */
  readonly spotify: { readonly apiUrl: string; readonly accountsUrl: string } | undefined;
  /** ReccoBeats' base URL, or `undefined` when it is turned off. */
  readonly reccobeats: { readonly apiUrl: string } | undefined;
  /**
   * Per function instance: each Lambda instance has its own limiter, so serverless.yml sets these
   * to the provider's limit divided by the instances that may call it at once.
   */
  readonly rateLimits: Readonly<Record<'spotify' | 'reccobeats', RateLimit>>;
  /** When a provider endpoint is switched off for a while (per function instance). */
  readonly breakers: BreakerConfig;
  /** The track queue's redrive maxReceiveCount (track-attributes dead-letters on that delivery). */
  readonly maxReceiveCount: number;
  readonly redshift: {
    readonly workgroupName: string;
    readonly database: string;
    /** The role Redshift assumes for COPY from the lake. */
    readonly copyRoleArn: string;
  };
  readonly dbtTask: {
    readonly cluster: string;
    readonly taskDefinition: string;
    readonly subnets: readonly string[];
    readonly securityGroups: readonly string[];
  };
}

/**
 * Parses a Lambda function's environment once, at cold start, failing fast with the variable's
 * name ("CHARTFLOW_BUCKET is required"). Provider URLs, rate limits and chart playlists are read
 * with the same rules as on one machine ({@link parseLocalConfig}).
 *
 * @throws {ConfigError} naming the first variable that is missing or malformed.
 */
export const parseAwsConfig = (env: Readonly<Record<string, string | undefined>>): AwsConfig => {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    // zod's own words for an absent string do not name the variable; ours do.
    const message = issue.message.includes(variable)
      ? issue.message
      : `${variable} is invalid: ${issue.message}`;
    throw new ConfigError(`${message}.`);
  }
  const e = parsed.data;
  if (e.CHARTFLOW_SPOTIFY === 'off' && e.CHARTFLOW_CHARTS && Object.keys(e.CHARTFLOW_CHARTS).length > 0) {
    throw new ConfigError(
      'CHARTFLOW_CHARTS names playlists, which only a Spotify app can read: set CHARTFLOW_SPOTIFY=on, or leave CHARTFLOW_CHARTS blank.',
    );
  }
  return {
    bucket: e.CHARTFLOW_BUCKET,
    trackQueueUrl: e.CHARTFLOW_TRACK_QUEUE_URL,
    transformQueueUrl: e.CHARTFLOW_TRANSFORM_QUEUE_URL,
    eventBusName: e.CHARTFLOW_EVENT_BUS,
    chartPlaylists: e.CHARTFLOW_CHARTS ?? {},
    spotifySecretId: e.CHARTFLOW_SPOTIFY_SECRET_ID,
    spotify:
      e.CHARTFLOW_SPOTIFY === 'off'
        ? undefined
        : {
            apiUrl: e.SPOTIFY_API_URL ?? defaultProviderUrls.spotifyApi,
            accountsUrl: e.SPOTIFY_ACCOUNTS_URL ?? defaultProviderUrls.spotifyAccounts,
          },
    reccobeats:
      e.CHARTFLOW_RECCOBEATS === 'off'
        ? undefined
        : { apiUrl: e.RECCOBEATS_API_URL ?? defaultProviderUrls.reccobeatsApi },
    rateLimits: {
      spotify: e.SPOTIFY_RATE_LIMIT ?? defaultRateLimits.spotify,
      reccobeats: e.RECCOBEATS_RATE_LIMIT ?? defaultRateLimits.reccobeats,
    },
    breakers: breakerConfigOf(e),
    maxReceiveCount: e.CHARTFLOW_MAX_RECEIVE_COUNT,
    redshift: {
      workgroupName: e.REDSHIFT_WORKGROUP,
      database: e.REDSHIFT_DATABASE,
      copyRoleArn: e.REDSHIFT_COPY_ROLE_ARN,
    },
    dbtTask: {
      cluster: e.CHARTFLOW_ECS_CLUSTER,
      taskDefinition: e.CHARTFLOW_DBT_TASK_DEFINITION,
      subnets: e.CHARTFLOW_SUBNETS,
      securityGroups: e.CHARTFLOW_SECURITY_GROUPS,
    },
  };
};

/** The configuration of this Lambda function, parsed from its environment. */
export const loadAwsConfig = (): AwsConfig => parseAwsConfig(process.env);
