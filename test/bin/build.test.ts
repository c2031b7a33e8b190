import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const rebuildNote = 'sources changed since the last build';

/**
 * bin/build.js and bin/chartflow.js on a copy of the repository (its code, dbt's project file and
 * a link to node_modules), so that a source can be changed without touching the tree under test.
 */
describe('the compiled CLI (bin/build.js)', () => {
  let copy: string;
  const chartflow = (...args: string[]) =>
    run(process.execPath, [path.join(copy, 'bin', 'chartflow.js'), ...args], {
      cwd: copy,
      env: { PATH: process.env.PATH, CHARTFLOW_HOME: path.join(copy, 'home') },
    });
  const mainSource = () => path.join(copy, 'infra', 'local', 'cli', 'main.ts');

  beforeAll(async () => {
    copy = await mkdtemp(path.join(tmpdir(), 'chartflow-build-'));
    for (const folder of ['bin', 'bench', 'services', 'shared', 'infra'])
      await cp(path.join(root, folder), path.join(copy, folder), { recursive: true });
    await cp(path.join(root, 'dbt', 'dbt_project.yml'), path.join(copy, 'dbt', 'dbt_project.yml'));
    await cp(path.join(root, 'package.json'), path.join(copy, 'package.json'));
    await symlink(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    await run(process.execPath, [path.join(copy, 'bin', 'build.js')], { cwd: copy });
  }, 120_000);

  afterAll(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('runs the build as it is, without building again', async () => {
    const { stdout, stderr } = await chartflow('--help');
    expect(stdout).toContain('Spotify charts, enriched and kept in a Kimball star');
    expect(stderr).not.toContain(rebuildNote);
  });

  it('loads neither the SDK, DuckDB, pg nor the sandbox server when it starts: their chunks load with the commands that use them', async () => {
    // The packages the entry imports statically, following its static imports of chunks.
    const packages = new Set<string>();
    const seen = new Set<string>();
    const walk = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const [, target] of source.matchAll(/^import\s[^;]*?from\s*"([^"]+)";/gms)) {
        if (target!.startsWith('.')) await walk(path.resolve(path.dirname(file), target!));
        else packages.add(target!);
      }
    };
    const entry = path.join(copy, 'dist', 'cli.js');
    expect(existsSync(entry)).toBe(true);
    await walk(entry);
    expect(packages).toContain('commander');
    const heavy = [...packages].filter((p) => /^(@aws-sdk\/|@duckdb\/|pg$|pg-copy-streams|fastify)/.test(p));
    expect(heavy).toEqual([]);
  });

  it('builds again before it runs when a source changed, and runs the change', async () => {
    const source = await readFile(mainSource(), 'utf8');
    await writeFile(mainSource(), source.replace('kept in a Kimball star', 'kept in a changed star'));
    const first = await chartflow('--help');
    expect(first.stderr).toContain(rebuildNote);
    expect(first.stdout).toContain('kept in a changed star');

    const second = await chartflow('--help');
    expect(second.stderr).not.toContain(rebuildNote);
    expect(second.stdout).toContain('kept in a changed star');
  });

  it('does not build again for a source touched but unchanged (a checkout)', async () => {
    const later = new Date(Date.now() + 60_000);
    await utimes(mainSource(), later, later);
    const { stdout, stderr } = await chartflow('--help');
    expect(stderr).not.toContain(rebuildNote);
    expect(stdout).toContain('kept in a changed star');
  });

  it('builds again when the build is missing', async () => {
    await rm(path.join(copy, 'dist', 'build.json'));
    const { stderr } = await chartflow('--help');
    expect(stderr).toContain(rebuildNote);
  });
});
