import { EnvSecrets } from '../../../../shared/adapters/embedded/env-secrets.js';
import { describeSecretsContract } from '../../ports/secrets.contract.js';

describeSecretsContract('EnvSecrets', async (values) => ({
  secrets: new EnvSecrets({ ...values }),
  cleanup: async () => undefined,
}));
