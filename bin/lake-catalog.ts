// Writes infra/lake-catalog.yml (the lake's Glue tables, Athena workgroup and analyst role) from
// shared/lake/catalog.ts: `npm run infra:catalog`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { lakeCatalogYaml } from '../infra/lake-catalog-template.js';

const file = path.resolve(import.meta.dirname, '..', 'infra', 'lake-catalog.yml');
writeFileSync(file, lakeCatalogYaml());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
