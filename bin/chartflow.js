#!/usr/bin/env node
// The chartflow CLI. The sources are TypeScript; tsx compiles them on the fly, so there is no build step.
import { register } from 'tsx/esm/api';

register();
// The pipeline logs through Powertools, which reads its level from its own variable (as on Lambda).
// On the command line only warnings and errors are shown, unless the user asks for more.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const { main } = await import('../infra/local/cli/main.ts');
process.exitCode = await main(process.argv);
