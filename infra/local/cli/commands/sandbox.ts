import type { Command } from 'commander';
import * as z from 'zod';
import { sandboxPlaylistIds } from '../../../sandbox/catalog.js';
import type { CliContext } from '../context.js';
import { parseOptions } from '../options.js';
import { describeSwitch, faultOptionsSchema, switchOn } from '../../../sandbox/fault-options.js';

/** Commander's way to let an option repeat: each use adds to the list. */
const collect = (value: string, previous: string[] = []) => [...previous, value];

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
    .option(
      '--access <level>',
      'the Spotify app it plays: extended or development (the 2026 restrictions)',
      'extended',
    )
    .option(
      '--fault <spec>',
      'switch a fault on (repeatable): <provider>[:<endpoint>]:<5xx[=status]|slow=<ms>|malformed|quota[=<s>]>[,next=<n>][,every=<n>], e.g. spotify:tracks:5xx, reccobeats:quota (docs/reliability.md, "Sandbox faults")',
      collect,
    )
    .option(
      '--fail-tracks <ids>',
      'make every lookup of these track ids answer 500 (repeatable): <id>[,<id>…][@spotify|@reccobeats]',
      collect,
    )
    .action(async (raw: unknown) => {
      const options = parseOptions(
        z
          .object({
            port: z.coerce
              .number({ message: '--port must be a number' })
              .int()
              .min(0)
              .max(65_535, { message: '--port must be 0 to 65535' })
              .optional(),
            access: z.enum(['extended', 'development'], {
              message: '--access must be extended or development',
            }),
          })
          .extend(faultOptionsSchema.shape),
        raw,
      );
      const switches = [...options.fault, ...options.failTracks];
      // The server (fastify) is loaded by this command only, not by every start of the CLI.
      const { startSandbox } = await import('../../../sandbox/server.js');
      const sandbox = await startSandbox({
        accessMode: options.access,
        ...(options.port === undefined ? {} : { port: options.port }),
      });
      switchOn(sandbox.faults, switches);
      context.out(
        [
          `chartflow sandbox listening on ${sandbox.apiUrl}`,
          `  SPOTIFY_API_URL=${sandbox.apiUrl}`,
          `  SPOTIFY_ACCOUNTS_URL=${sandbox.accountsUrl}`,
          `  SPOTIFY_CLIENT_ID=${sandbox.credentials.clientId}`,
          `  SPOTIFY_CLIENT_SECRET=${sandbox.credentials.clientSecret}   (sandbox-only credentials)`,
          `  RECCOBEATS_API_URL=${sandbox.reccobeatsUrl}`,
          `  CHARTFLOW_CHART_PLAYLISTS=${Object.entries(sandboxPlaylistIds)
            .map(([chart, id]) => `${chart}=${id}`)
            .join(',')}`,
          `  CHARTFLOW_MODE=live   (the pipeline then calls this sandbox as it would call Spotify; access: ${options.access})`,
          ...(switches.length
            ? ['Faults switched on:', ...switches.map((f) => `  ${describeSwitch(f)}`)]
            : []),
          'Press Ctrl-C to stop.',
        ].join('\n'),
      );
      await waitForStop();
      await sandbox.close();
    });
};
