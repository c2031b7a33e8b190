import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../shared/config/config.js';
import { systemClock } from '../../shared/ports/clock.js';
import { main } from '../../infra/local/cli/main.js';

describe('Function: chartflow run --json, end to end', () => {
  let home: string;
  const out: string[] = [];
  const notes: string[] = [];
  let code: number;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-cli-run-'));
    code = await main(['node', 'chartflow', 'run', '--date', '2026-08-01', '--chart', 'br', '--json'], {
      config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
      clock: systemClock,
      processEnv: process.env,
      out: (t) => out.push(t),
      note: (t) => notes.push(t),
    });
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('exits 0 and prints the summary as exactly one JSON object', () => {
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const summary = JSON.parse(out[0]!);
    expect(summary).toMatchObject({
      chartId: 'br',
      chartDate: '2026-08-01',
      status: 'succeeded',
      rows: { stage: { chart_songs: 50 }, chartEntriesThisDay: 50 },
      checks: { failed: [] },
      deadLettered: [],
      quarantined: [],
    });
    expect(summary.requests.spotify).toBeGreaterThan(0);
    for (const phase of ['extract', 'enrich', 'load', 'checks', 'dbt'])
      expect(summary.timingsMs[phase]).toBeGreaterThan(0);
  });

  it('keeps progress notes off standard output', () => {
    expect(notes.join('\n')).toMatch(/using the sandbox/);
  });
});
