import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import { ConfigError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { Secrets } from '../../../shared/ports/secrets.js';
import { awsError, awsErrorName } from './aws-errors.js';

/** Options of a {@link SecretsManagerSecrets}. */
export interface SecretsManagerSecretsOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: SecretsManagerClient;
  /** Logical name (e.g. `SecretName.spotify`) → secret id or ARN in Secrets Manager. */
  readonly secretIds: Readonly<Record<string, string>>;
  /** How long a value is kept before Secrets Manager is asked again; defaults to 300 seconds. */
  readonly maxAgeSeconds?: number;
}

const optionsSchema = z.object({
  client: z.instanceof(SecretsManagerClient, { message: 'must be a SecretsManagerClient' }),
  secretIds: z.record(z.string(), z.string().min(1)),
  maxAgeSeconds: z.number().int().nonnegative().default(300),
});

/**
 * Secrets from AWS Secrets Manager, through Powertools' `SecretsProvider`, so that a warm Lambda
 * asks for each secret at most once every `maxAgeSeconds`. Values are never logged, and no error
 * message carries one.
 */
export class SecretsManagerSecrets implements Secrets {
  readonly #provider: SecretsProvider;
  readonly #secretIds: Readonly<Record<string, string>>;
  readonly #maxAge: number;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: SecretsManagerSecretsOptions) {
    const parsed = parseOrThrow(optionsSchema, options, 'SecretsManagerSecrets options', ConfigError);
    this.#provider = new SecretsProvider({ awsSdkV3Client: parsed.client });
    this.#secretIds = parsed.secretIds;
    this.#maxAge = parsed.maxAgeSeconds;
  }

  /**
   * GetSecretValue for the secret the logical `name` maps to, or the cached value if it is younger
   * than `maxAgeSeconds`. A binary secret is read as UTF-8.
   *
   * @returns `undefined` if `name` maps to no secret id, or Secrets Manager has no such secret.
   * @throws {RetryableError} or {@link PermanentError} if Secrets Manager fails otherwise.
   */
  async get(name: string): Promise<string | undefined> {
    const secretId = Object.hasOwn(this.#secretIds, name) ? this.#secretIds[name] : undefined;
    if (secretId === undefined) return undefined;
    let value;
    try {
      value = await this.#provider.get(secretId, { maxAge: this.#maxAge });
    } catch (error) {
      // Powertools wraps the SDK's error (GetParameterError) with it as the cause.
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      if (awsErrorName(cause) === 'ResourceNotFoundException') return undefined;
      throw awsError(`Secrets Manager GetSecretValue for secret "${name}" (${secretId})`, cause);
    }
    if (value === undefined || typeof value === 'string') return value;
    return Buffer.from(value).toString('utf8');
  }
}
