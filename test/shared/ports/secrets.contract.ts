import { afterEach, describe, expect, it } from 'vitest';
import { SecretName, type Secrets } from '../../../shared/ports/secrets.js';

/** What a contract run needs from an adapter: a store holding `values` (logical name → value), and a clean-up. */
export interface SecretsFixture {
  readonly secrets: Secrets;
  cleanup(): Promise<void>;
}

const spotifyCredentials = JSON.stringify({ clientId: 'a1b2c3', clientSecret: 's3cr3t/+=' });

/** The behaviour every {@link Secrets} adapter must have: the stored string, unchanged, or `undefined`. */
export const describeSecretsContract = (
  name: string,
  makeSecrets: (values: Readonly<Record<string, string>>) => Promise<SecretsFixture>,
): void => {
  describe(`Secrets contract: ${name}`, () => {
    let fixture: SecretsFixture | undefined;
    const open = async (values: Readonly<Record<string, string>>) => {
      fixture = await makeSecrets(values);
      return fixture.secrets;
    };
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it('answers the value stored under a name, unchanged', async () => {
      const secrets = await open({ [SecretName.spotify]: spotifyCredentials });
      expect(await secrets.get(SecretName.spotify)).toBe(spotifyCredentials);
    });

    it('keeps every character of a value: whitespace, newlines, quotes, unicode', async () => {
      const value = '  line one\nline "two"\ttab — é ✓ 🎵 \\ end  ';
      const secrets = await open({ odd: value });
      expect(await secrets.get('odd')).toBe(value);
    });

    it('tells names apart', async () => {
      const secrets = await open({ first: 'one', second: 'two' });
      expect(await secrets.get('first')).toBe('one');
      expect(await secrets.get('second')).toBe('two');
    });

    it.each(['missing', 'constructor', '__proto__', 'toString', ''])(
      'answers undefined for a name it does not hold (%j)',
      async (missing) => {
        const secrets = await open({ [SecretName.spotify]: spotifyCredentials });
        expect(await secrets.get(missing)).toBeUndefined();
      },
    );

    it('answers the same value when asked again', async () => {
      const secrets = await open({ [SecretName.spotify]: spotifyCredentials });
      expect(await secrets.get(SecretName.spotify)).toBe(spotifyCredentials);
      expect(await secrets.get(SecretName.spotify)).toBe(spotifyCredentials);
    });
  });
};
