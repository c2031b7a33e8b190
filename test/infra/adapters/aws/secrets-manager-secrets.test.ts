import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSecrets } from '../../../../infra/adapters/aws/secrets-manager-secrets.js';
import { ConfigError, PermanentError, RetryableError } from '../../../../shared/errors.js';
import { SecretName } from '../../../../shared/ports/secrets.js';
import { motoAvailable, startMoto, type Moto } from '../../../support/moto.js';
import { describeSecretsContract } from '../../../shared/ports/secrets.contract.js';

const available = motoAvailable();

/** A client that counts the GetSecretValue requests it sends. */
const countingClient = (moto: Moto) => {
  const client = new SecretsManagerClient(moto.clientConfig);
  const counter = { gets: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetSecretValueCommand') counter.gets += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countGetSecretValue' },
  );
  return { client, counter };
};

describe.skipIf(!available)('Class: SecretsManagerSecrets (moto)', () => {
  let moto: Moto;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    moto = await startMoto();
    client = new SecretsManagerClient(moto.clientConfig);
  });
  afterAll(() => moto?.stop());

  const createSecrets = async (values: Readonly<Record<string, string>>) => {
    const secretIds: Record<string, string> = {};
    for (const [name, value] of Object.entries(values)) {
      const id = `chartflow/test/${name || 'empty'}-${randomUUID().slice(0, 8)}`;
      await client.send(new CreateSecretCommand({ Name: id, SecretString: value }));
      secretIds[name] = id;
    }
    return secretIds;
  };

  describeSecretsContract('SecretsManagerSecrets', async (values) => {
    const secretIds = await createSecrets(values);
    return {
      secrets: new SecretsManagerSecrets({ client, secretIds }),
      cleanup: async () => {
        for (const id of Object.values(secretIds))
          await client.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
      },
    };
  });

  it('asks Secrets Manager once within maxAge, and sees a rotated value only after it', async () => {
    const secretIds = await createSecrets({ [SecretName.spotify]: 'first' });
    const counted = countingClient(moto);
    const secrets = new SecretsManagerSecrets({ client: counted.client, secretIds, maxAgeSeconds: 1 });
    expect(await secrets.get(SecretName.spotify)).toBe('first');
    await client.send(new PutSecretValueCommand({ SecretId: secretIds.spotify, SecretString: 'second' }));
    expect(await secrets.get(SecretName.spotify)).toBe('first');
    expect(counted.counter.gets).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await secrets.get(SecretName.spotify)).toBe('second');
    expect(counted.counter.gets).toBe(2);
  });

  it('caches for 300 seconds by default, and not at all with maxAgeSeconds 0', async () => {
    const secretIds = await createSecrets({ [SecretName.spotify]: 'value' });
    const cached = countingClient(moto);
    const byDefault = new SecretsManagerSecrets({ client: cached.client, secretIds });
    for (let i = 0; i < 3; i += 1) expect(await byDefault.get(SecretName.spotify)).toBe('value');
    expect(cached.counter.gets).toBe(1);

    const uncached = countingClient(moto);
    const never = new SecretsManagerSecrets({ client: uncached.client, secretIds, maxAgeSeconds: 0 });
    for (let i = 0; i < 3; i += 1) expect(await never.get(SecretName.spotify)).toBe('value');
    expect(uncached.counter.gets).toBe(3);
  });

  it('answers undefined for a name mapped to a secret that does not exist (ResourceNotFoundException)', async () => {
    const counted = countingClient(moto);
    const secrets = new SecretsManagerSecrets({
      client: counted.client,
      secretIds: { [SecretName.spotify]: `chartflow/test/never-created-${randomUUID()}` },
    });
    expect(await secrets.get(SecretName.spotify)).toBeUndefined();
    expect(counted.counter.gets).toBe(1);
  });

  it('answers undefined for a secret that holds no value yet (ResourceNotFoundException)', async () => {
    const id = `chartflow/test/no-value-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateSecretCommand({ Name: id }));
    const secrets = new SecretsManagerSecrets({ client, secretIds: { [SecretName.spotify]: id } });
    expect(await secrets.get(SecretName.spotify)).toBeUndefined();
  });

  it('fails with a PermanentError naming the secret when it is scheduled for deletion (InvalidRequestException)', async () => {
    const secretIds = await createSecrets({ [SecretName.spotify]: 'value' });
    await client.send(new DeleteSecretCommand({ SecretId: secretIds.spotify, RecoveryWindowInDays: 7 }));
    const secrets = new SecretsManagerSecrets({ client, secretIds });
    const error = await secrets.get(SecretName.spotify).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).not.toBeInstanceOf(RetryableError);
    expect(error?.message).toMatch(
      new RegExp(`"spotify" \\(${secretIds.spotify}\\) failed: InvalidRequestException \\(HTTP 400\\)`),
    );
  });

  it('asks nothing for a name that maps to no secret id', async () => {
    const counted = countingClient(moto);
    const secrets = new SecretsManagerSecrets({ client: counted.client, secretIds: {} });
    expect(await secrets.get(SecretName.spotify)).toBeUndefined();
    expect(counted.counter.gets).toBe(0);
  });

  it('reads a binary secret as UTF-8', async () => {
    const id = `chartflow/test/binary-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateSecretCommand({ Name: id, SecretBinary: Buffer.from('{"k":"é"}') }));
    const secrets = new SecretsManagerSecrets({ client, secretIds: { bin: id } });
    expect(await secrets.get('bin')).toBe('{"k":"é"}');
  });
});

// Answers moto never gives: it checks no IAM policy here, and has no server faults.
describe('Class: SecretsManagerSecrets (errors moto does not give)', () => {
  const serviceError = (name: string, status: number, fault: 'client' | 'server') =>
    Object.assign(new Error(`${name} happened`), {
      name,
      $fault: fault,
      $metadata: { httpStatusCode: status },
    });

  it.each([
    ['AccessDeniedException', 400, 'client', PermanentError],
    ['InternalServiceError', 500, 'server', RetryableError],
  ] as const)('turns %s into a %s naming the secret, never its value', async (code, status, fault, type) => {
    const client = new SecretsManagerClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(GetSecretValueCommand).rejects(serviceError(code, status, fault));
    const secrets = new SecretsManagerSecrets({ client, secretIds: { spotify: 'prod/spotify' } });
    const error = await secrets.get('spotify').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(type);
    expect(error?.message).toMatch(new RegExp(`"spotify" \\(prod/spotify\\).*${code}`));
    mock.restore();
  });

  it('rejects malformed options, naming them', () => {
    expect(() => new SecretsManagerSecrets({ client: {} as SecretsManagerClient, secretIds: {} })).toThrow(
      ConfigError,
    );
    expect(
      () =>
        new SecretsManagerSecrets({
          client: new SecretsManagerClient({ region: 'us-east-1' }),
          secretIds: { spotify: '' },
          maxAgeSeconds: -1,
        }),
    ).toThrow(/secretIds\.spotify.*maxAgeSeconds|maxAgeSeconds.*secretIds/s);
  });
});
