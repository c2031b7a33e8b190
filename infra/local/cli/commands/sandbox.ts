import type { Command } from 'commander';
import { z } from 'zod';
import { startSandbox } from '../../../sandbox/server.js';
import type { CliContext } from '../context.js';
import { parseOptions } from '../options.js';

/** `chartflow sandbox`: serves the Spotify endpoints the pipeline uses, from the synthetic catalog, until stopped. */
export const registerSandbox = (
  program: Command,
  context: CliContext,
  waitForStop: () => Promise<void>,
): void => {
  program
    .command('sandbox')
    .description('serve the Spotify sandbox on 127.0.0.1 until interrupted')
    .option('--port <port>', 'the port (default: any free port)')
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z.object({
          port: z.coerce
            .number({ message: '--port must be a number' })
            .int()
            .min(0)
            .max(65_535, { message: '--port must be 0 to 65535' })
            .optional(),
        }),
        raw,
      );
      const sandbox = await startSandbox(options.port === undefined ? {} : { port: options.port });
      context.out(
        [
          `chartflow sandbox listening on ${sandbox.apiUrl}`,
          `  SPOTIFY_API_URL=${sandbox.apiUrl}`,
          `  SPOTIFY_ACCOUNTS_URL=${sandbox.accountsUrl}`,
          `  SPOTIFY_CLIENT_ID=${sandbox.credentials.clientId}`,
          `  SPOTIFY_CLIENT_SECRET=${sandbox.credentials.clientSecret}   (sandbox-only credentials)`,
          'Press Ctrl-C to stop.',
        ].join('\n'),
      );
      await waitForStop();
      await sandbox.close();
    });
};
