// The entry of `npm run deploy`, built into dist/deploy.js by bin/build.js (docs/aws.md, "npm run deploy").
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployMain } from './main.js';

// dist/deploy.js → the repository: the commands run there (dbt/, serverless.yml, .venv-moto/).
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.exitCode = await deployMain(process.argv.slice(2), {
  root,
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  now: () => new Date(),
});
