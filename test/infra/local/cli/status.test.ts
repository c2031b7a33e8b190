import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import { systemClock } from '../../../../shared/ports/clock.js';

describe('Function: chartflow status on the embedded default, after a real run', () => {
  let home: string;
  let out: string[];
  let notes: string[];
  let runCode: number;
  let ranRecord: RunRecord;

  const context = (): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
    clock: systemClock,
    processEnv: process.env,
    out: (t) => out.push(t),
    note: (t) => notes.push(t),
  });
  const chartflow = (args: string[]) => {
    out = [];
    notes = [];
    return main(['node', 'chartflow', ...args], context());
  };

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-cli-status-'));
    // One sandbox day end to end: its run record is what status reads.
    runCode = await chartflow(['run', '--date', '2026-08-01', '--chart', 'br']);
    const records = await new RunRecords(new FsObjectStore({ root: path.join(home, 'lake') })).list({
      chartDate: '2026-08-01',
      chartId: 'br',
    });
    ranRecord = records.at(-1)!;
  }, 240_000);
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('shows the run that just ended, with its rows, checks, batch and timings, and exits 0', async () => {
    expect(runCode).toBe(0);
    const code = await chartflow(['status']);

    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`the last 1 run(s) in ${path.join(home, 'lake')}, newest day first`);
    expect(text).toContain(`br 2026-08-01: succeeded (run ${ranRecord.runId}, load ${ranRecord.loadId};`);
    expect(text).toContain('  rows loaded     chart_songs 50,');
    expect(text).toMatch(/ {2}checks {10}\d+ passed, 0 failed/);
    expect(text).toContain(`  batch           ${ranRecord.batch!.batchId}: 1 load(s), one dbt build`);
    expect(text).toMatch(/ {2}time {12}load \d+\.\d s, checks \d+\.\d s, dbt \d+\.\d s/);
    expect(text).toMatch(/all 1 run\(s\) shown succeeded\.$/);
  });

  it('prints the records themselves with --json', async () => {
    expect(await chartflow(['status', '--json'])).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toEqual({ lake: path.join(home, 'lake'), runs: [ranRecord], stuck: [] });
  });

  it('puts a later failed run first, names its failed checks and dbt’s message, and exits 1', async () => {
    await new RunRecords(new FsObjectStore({ root: path.join(home, 'lake') })).write({
      ...ranRecord,
      runId: '20260802T060000000Z-ffff0001',
      loadId: '20260802T060100000Z-ffff0002',
      chartDate: '2026-08-02',
      status: 'transform_failed',
      checks: [
        ...ranRecord.checks,
        { name: 'chart_has_no_gaps', passed: false, detail: 'positions 12 to 14 are missing' },
      ],
      transform: {
        taskId: 'local-task-1',
        startedAt: '2026-08-02T06:02:00.000Z',
        finishedAt: '2026-08-02T06:02:09.000Z',
        message: 'Compilation Error in model fct_chart_entries',
      },
    });

    const code = await chartflow(['status']);

    expect(code).toBe(1);
    const text = out.join('\n');
    expect(text.indexOf('br 2026-08-02: transform_failed')).toBeGreaterThan(-1);
    expect(text.indexOf('br 2026-08-02: transform_failed')).toBeLessThan(
      text.indexOf('br 2026-08-01: succeeded'),
    );
    expect(text).toContain('    ✗ chart_has_no_gaps: positions 12 to 14 are missing');
    expect(text).toContain('  dbt said        Compilation Error in model fct_chart_entries');
    expect(text).toMatch(/1 of the 2 run\(s\) shown failed: br 2026-08-02 \(transform_failed\)\.$/);

    // --last 1 and --date keep to what was asked for; the exit code follows what is shown.
    expect(await chartflow(['status', '--last', '1'])).toBe(1);
    expect(out.join('\n')).not.toContain('2026-08-01');
    expect(await chartflow(['status', '--date', '2026-08-01'])).toBe(0);
    expect(out.join('\n')).not.toContain('2026-08-02');
    expect(await chartflow(['status', '--chart', 'global'])).toBe(0);
    expect(out).toEqual([`no runs recorded of global in ${path.join(home, 'lake')}.`]);
  });

  it('refuses a bad --last as a usage mistake', async () => {
    expect(await chartflow(['status', '--last', '0'])).toBe(2);
    expect(notes).toEqual(['chartflow: --last: must be at least 1.']);
    expect(await chartflow(['status', '--last', 'ten'])).toBe(2);
    expect(notes).toEqual(['chartflow: --last: must be a whole number.']);
  });
});

describe('Function: chartflow status on a home that has never run', () => {
  it('says that no run is recorded, exits 0, and creates nothing', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'chartflow-cli-status-empty-'));
    const home = path.join(root, 'home');
    const out: string[] = [];
    try {
      const code = await main(['node', 'chartflow', 'status'], {
        config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
        clock: systemClock,
        processEnv: {},
        out: (t) => out.push(t),
        note: () => undefined,
      });
      expect(code).toBe(0);
      expect(out).toEqual([`no runs recorded in ${path.join(home, 'lake')}.`]);
      expect(existsSync(home)).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
