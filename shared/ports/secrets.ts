/** Secrets Manager on AWS (`SecretsManagerSecrets`), the environment on one machine (`EnvSecrets`). */
export interface Secrets {
  /** The secret's string value, or `undefined` when there is no such secret. Never log it. */
  get(name: string): Promise<string | undefined>;
}

/** The names the pipeline asks for. */
export const SecretName = {
  /** JSON `{"clientId": "...", "clientSecret": "..."}` of the Spotify app. */
  spotify: 'spotify',
} as const;
