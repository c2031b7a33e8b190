import { EnvSecrets } from '../../../../infra/adapters/embedded/env-secrets.js';
import { describeSecretsContract } from '../../../shared/ports/secrets.contract.js';

describeSecretsContract('EnvSecrets', async (values) => ({
  secrets: new EnvSecrets({ ...values }),
  cleanup: async () => undefined,
}));
