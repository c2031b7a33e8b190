import type { Secrets } from '../../../shared/ports/secrets.js';

/**
 * Secrets from the environment, on one machine. The values come from the parsed configuration
 * (never read here from `process.env`), keyed by secret name.
 */
export class EnvSecrets implements Secrets {
  constructor(private readonly values: Readonly<Record<string, string | undefined>>) {}

  async get(name: string): Promise<string | undefined> {
    // Own keys only: `constructor` or `toString` would otherwise answer Object's functions.
    return Object.hasOwn(this.values, name) ? this.values[name] : undefined;
  }
}
