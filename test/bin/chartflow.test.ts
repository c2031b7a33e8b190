import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartflowChild } from '../support/chartflow-child.js';

/**
 * `bin/chartflow.js`, the entry point `npx chartflow` runs, spawned as a user runs it: its help, a
 * sandbox day end to end, and an error's exit. The other CLI tests call `main()` in-process or
 * spawn it for one command's refusals; this one holds the whole way in.
 */
describe('Command: node bin/chartflow.js, as a user runs it', () => {
  let root: string;
  let home: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-entry-'));
    home = path.join(root, 'home');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('prints its help, naming every command, and exits 0', async () => {
    const { code, stdout, stderr } = await chartflowChild(home, ['--help']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^Usage: chartflow /);
    for (const command of [
      'run',
      'backfill',
      'ingest',
      'replay',
      'retry-missing',
      'reconcile',
      'status',
      'verify',
      'sql',
      'report',
      'sandbox',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('runs a sandbox day end to end, prints its summary, and exits 0', async () => {
    const { code, stdout, stderr } = await chartflowChild(home, [
      'run',
      '--date',
      '2026-11-02',
      '--chart',
      'global',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as { chartId: string; chartDate: string; status: string };
    expect(summary).toMatchObject({ chartId: 'global', chartDate: '2026-11-02', status: 'succeeded' });
  }, 300_000);

  it('exits 2 on a usage mistake, in one sentence and no stack trace; 0 when there is nothing to say', async () => {
    const usage = await chartflowChild(home, ['status', '--last', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim()).toMatch(/^chartflow: --last[^\n]*\.$/);
    expect(usage.stderr).not.toMatch(/\n\s+at /);
    const status = await chartflowChild(home, ['status', '--date', '2026-11-03']);
    expect({ code: status.code, stdout: status.stdout }).toMatchObject({ code: 0 });
  });
});
