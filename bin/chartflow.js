#!/usr/bin/env node
// The chartflow CLI. The sources are TypeScript; tsx compiles them on the fly, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../infra/local/cli/main.ts');
process.exitCode = await main(process.argv);
