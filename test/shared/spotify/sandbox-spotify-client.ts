import type { Sandbox } from '../../../infra/sandbox/index.js';
import { EnvSecrets } from '../../../infra/adapters/embedded/env-secrets.js';
import type { CircuitBreakers } from '../../../shared/http/circuit-breaker.js';
import type { RetryPolicy } from '../../../shared/http/json-client.js';
import { RequestCounter } from '../../../shared/http/request-counter.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { Secrets } from '../../../shared/ports/secrets.js';
import { SecretName } from '../../../shared/ports/secrets.js';
import { SpotifyClient } from '../../../shared/spotify/spotify-client.js';

/** Retries that cost milliseconds, not seconds: p-retry's backoff runs on real timers. */
export const fastRetry: RetryPolicy = {
  retries: 2,
  minTimeoutMs: 1,
  maxTimeoutMs: 2,
  maxInlineWaitMs: 10_000,
};

/** The secret store holding the sandbox's own credentials, as the local runtime keeps them. */
export const sandboxSecrets = (sandbox: Pick<Sandbox, 'credentials'>): Secrets =>
  new EnvSecrets({ [SecretName.spotify]: JSON.stringify(sandbox.credentials) });

export interface SandboxSpotify {
  readonly client: SpotifyClient;
  readonly counter: RequestCounter;
}

/** A `SpotifyClient` pointed at a sandbox, sending the as-of day unless told not to. */
export const spotifyClientFor = (
  sandbox: Pick<Sandbox, 'apiUrl' | 'accountsUrl' | 'credentials'>,
  options: {
    clock?: Clock;
    retry?: RetryPolicy;
    secrets?: Secrets;
    sendAsOf?: boolean;
    breakers?: CircuitBreakers;
  } = {},
): SandboxSpotify => {
  const counter = new RequestCounter();
  const client = new SpotifyClient({
    apiUrl: sandbox.apiUrl,
    accountsUrl: sandbox.accountsUrl,
    secrets: options.secrets ?? sandboxSecrets(sandbox),
    counter,
    clock: options.clock ?? systemClock,
    retry: options.retry ?? fastRetry,
    sendAsOf: options.sendAsOf ?? true,
    ...(options.breakers ? { breakers: options.breakers } : {}),
  });
  return { client, counter };
};
