import { loadAwsConfig, type AwsConfig } from '../../../shared/config/aws-config.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';

/**
 * What every SDK client is built with. Empty on Lambda (the region and credentials come from the
 * function's environment); tests pass moto's endpoint and fake credentials.
 */
export interface AwsClientConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** What a function's composition root builds from: its configuration, how to reach AWS, a clock. */
export interface AwsFunctionEnv {
  readonly config: AwsConfig;
  readonly clientConfig: AwsClientConfig;
  readonly clock: Clock;
}

/** A function's environment from its parts; tests give moto's client configuration and a manual clock. */
export const awsFunctionEnv = (options: {
  config: AwsConfig;
  clientConfig?: AwsClientConfig;
  clock?: Clock;
}): AwsFunctionEnv => ({
  config: options.config,
  clientConfig: { ...options.clientConfig },
  clock: options.clock ?? systemClock,
});

/** This Lambda instance's environment, read from `process.env` through the config schema. */
export const lambdaEnv = (): AwsFunctionEnv => awsFunctionEnv({ config: loadAwsConfig() });
