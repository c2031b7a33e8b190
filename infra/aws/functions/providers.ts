import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';
import { SecretName } from '../../../shared/ports/secrets.js';
import { SecretsManagerSecrets } from '../../adapters/aws/secrets-manager-secrets.js';
import { buildProviders, type BuiltProviders } from '../../providers/build-providers.js';
import type { AwsFunctionEnv } from './environment.js';

/**
 * The providers as a Lambda function reads them: the Spotify app's credentials from Secrets
 * Manager (never read when the stack has no Spotify app), the clients built as on one machine.
 */
export const awsProviders = (
  { config, clientConfig, clock }: AwsFunctionEnv,
  store: ObjectStore,
): BuiltProviders =>
  buildProviders({
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
  });
