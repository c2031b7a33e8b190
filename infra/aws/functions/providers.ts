import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import { awsBreakerCoolDownMs, CircuitBreakers } from '../../../shared/http/circuit-breaker.js';
import { logger } from '../../../shared/logger.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { SecretName } from '../../../shared/ports/secrets.js';
import { SecretsManagerSecrets } from '../../adapters/aws/secrets-manager-secrets.js';
import { buildProviders, type BuiltProviders } from '../../providers/build-providers.js';
import type { AwsFunctionEnv } from './environment.js';

/**
 * The breakers of one Lambda instance, which lives across many invocations: an endpoint that opens
 * is probed again after a cool-down (shared/http/circuit-breaker.ts, `awsBreakerCoolDownMs`), and
 * each opening is logged as a warning.
 */
export const awsBreakers = ({ config, clock }: AwsFunctionEnv): CircuitBreakers => {
  const breakers = new CircuitBreakers(clock, { ...config.breakers, coolDownMs: awsBreakerCoolDownMs });
  breakers.onOpen((opened) => logger.warn('A provider endpoint is switched off', { breaker: opened }));
  return breakers;
};

/**
 * The providers as a Lambda function reads them: the Spotify app's credentials from Secrets
 * Manager (never read when the stack has no Spotify app), the clients built as on one machine.
 */
export const awsProviders = (env: AwsFunctionEnv, store: ObjectStore): BuiltProviders => {
  const { config, clientConfig, clock } = env;
  return buildProviders({
    spotify: config.spotify && {
      apiUrl: config.spotify.apiUrl,
      accountsUrl: config.spotify.accountsUrl,
      secrets: new SecretsManagerSecrets({
        client: new SecretsManagerClient(clientConfig),
        secretIds: { [SecretName.spotify]: config.spotifySecretId },
      }),
    },
    reccobeats: config.reccobeats,
    rateLimits: config.rateLimits,
    playlists: config.chartPlaylists,
    sourceName: 'spotify-playlist',
    sendAsOf: false,
    store,
    counter: new RequestCounter(),
    clock,
    breakers: awsBreakers(env),
  });
};
