#!/usr/bin/env node
// The chartflow CLI, compiled into dist/ when the project is installed (bin/build.js); a source
// changed since is built again first, so what runs is always the code in the tree.
import { build, isStale } from './build.js';

if (await isStale()) {
  process.stderr.write('chartflow: sources changed since the last build; building (bin/build.js)…\n');
  await build();
}
// The pipeline logs through Powertools, which reads its level from its own variable (as on Lambda).
// On the command line only warnings and errors are shown, unless the user asks for more.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv);
