import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './dbt-cli.js';

// PostgreSQL cuts identifiers at 63 bytes, and dbt refuses a relation name longer than that: a
// unit test's name becomes the name of the relation it builds, so a long one fails only on
// PostgreSQL (DuckDB takes it). Checked here without a database, for every name a .yml declares:
// models, sources, columns, unit tests.
const ymlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ymlFiles(full);
    return entry.name.endsWith('.yml') ? [full] : [];
  });

const declaredNames = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*-\s+name:\s*['"]?([A-Za-z0-9_]+)/gm)].map((match) => match[1]!);

describe("the dbt project's names", () => {
  const files = ymlFiles(path.join(repoRoot, 'dbt', 'models'));

  it('finds the unit tests it checks', () => {
    expect(files.flatMap(declaredNames)).toContain('fct_chart_entries_backfilled_day_rewrites_later_days');
  });

  it("fit PostgreSQL's 63-character identifiers", () => {
    const tooLong = files.flatMap((file) =>
      declaredNames(file)
        .filter((name) => Buffer.byteLength(name) > 63)
        .map((name) => `${path.relative(repoRoot, file)}: ${name} (${name.length})`),
    );
    expect(tooLong).toEqual([]);
  });
});
