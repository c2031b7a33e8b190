import * as z from 'zod';
import { ConfigError } from '../errors.js';

const environmentSchema = z.object({
  CHARTFLOW_STAGE_LOADER_FUNCTION: z
    .string({ message: 'CHARTFLOW_STAGE_LOADER_FUNCTION is required' })
    .trim()
    .regex(/^[A-Za-z0-9_:.-]{1,170}$/, {
      message: 'CHARTFLOW_STAGE_LOADER_FUNCTION must be a Lambda function name or ARN',
    }),
  AWS_REGION: z
    .string({ message: 'AWS_REGION is required' })
    .trim()
    .min(1, { message: 'AWS_REGION is required' }),
});

/** What the reconciler's function needs beyond every function's configuration (aws-config.ts). */
export interface ReconcilerConfig {
  /** The stage loader, which the reconciler invokes with a lost ObjectCreated event. */
  readonly stageLoaderFunctionName: string;
  /** The region the bucket's notifications name (Lambda sets AWS_REGION). */
  readonly region: string;
}

/**
 * Parses the reconciler function's own variables.
 *
 * @throws {ConfigError} naming the first variable that is missing or malformed.
 */
export const parseReconcilerConfig = (
  env: Readonly<Record<string, string | undefined>>,
): ReconcilerConfig => {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`${parsed.error.issues[0]!.message}.`);
  return {
    stageLoaderFunctionName: parsed.data.CHARTFLOW_STAGE_LOADER_FUNCTION,
    region: parsed.data.AWS_REGION,
  };
};

/** The reconciler function's variables, from its environment. */
export const loadReconcilerConfig = (): ReconcilerConfig => parseReconcilerConfig(process.env);
