import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../../infra/local/cli/main.js';
import type { CliContext } from '../../../../infra/local/cli/context.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { thisHost } from '../../../../infra/local/process-liveness.js';
import { LocalPipeline } from '../../../../infra/local/runtime.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { RunRecords, type RunRecord } from '../../../../shared/lake/run-records.js';
import type { Clock } from '../../../../shared/ports/clock.js';

const now = new Date('2026-11-22T10:00:00.000Z');
const clock: Clock = { now: () => now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** A process id that was alive a moment ago and is gone now: a dead lock holder on this host. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  return child.pid;
};

const record = (overrides: Partial<RunRecord>): RunRecord => ({
  runId: '20261122T060000000Z-aaaa0001',
  loadId: '20261122T060100000Z-aaaa0002',
  chartId: 'global',
  chartDate: '2026-11-22',
  status: 'succeeded',
  rows: { chart_songs: 50, song_attributes: 50, song_artists: 60 },
  checks: [{ name: 'chart_has_no_gaps', passed: true }],
  timings: { loadMs: 900 },
  batch: { batchId: '20261122T060100000Z-aaaa0002', loads: 1, failedLoads: 0, failed: [] },
  updatedAt: '2026-11-22T06:02:00.000Z',
  ...overrides,
});

describe('Function: chartflow status exit codes (stuck, interrupted, not loaded, failed)', () => {
  let home: string;
  let store: FsObjectStore;
  let out: string[];

  const context = (): CliContext => ({
    config: () => parseLocalConfig({ CHARTFLOW_HOME: home }),
    clock,
    processEnv: {},
    out: (t) => out.push(t),
    note: (t) => out.push(t),
  });
  const status = async (...args: string[]) => {
    out = [];
    const code = await main(['node', 'chartflow', 'status', ...args], context());
    return { code, text: out.join('\n') };
  };
  const lock = (holder: Record<string, unknown>) =>
    store.put(
      lakeKeys.transformLock(),
      JSON.stringify({ batchId: '20261122T060100000Z-aaaa0002', ...holder }),
    );

  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-status-codes-'));
    store = new FsObjectStore({ root: path.join(home, 'lake') });
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('exits 0 for a run transforming under a live holder: it is under way', async () => {
    await new RunRecords(store).write(record({ status: 'transforming' }));
    await lock({ acquiredAt: '2026-11-22T09:55:00.000Z', pid: process.pid, host: thisHost() });

    const { code, text } = await status();

    expect(text).toContain('global 2026-11-22: transforming (under way)');
    expect(code).toBe(0);
  });

  it('exits 1 for a run stuck behind a dead holder, and says whose lock it is', async () => {
    await new RunRecords(store).write(record({ status: 'transforming' }));
    const pid = deadPid();
    await lock({ acquiredAt: '2026-11-22T09:55:00.000Z', pid, host: thisHost(), command: 'chartflow run' });

    const { code, text } = await status();

    expect(text).toContain('global 2026-11-22: transforming, STUCK');
    expect(text).toContain(
      `the transform lock's holder is gone (batch 20261122T060100000Z-aaaa0002, pid ${pid} on ${thisHost()} (chartflow run), since 2026-11-22T09:55:00.000Z)`,
    );
    expect(text).toMatch(/1 of the 1 run\(s\) shown failed: global 2026-11-22 \(transforming, stuck\)\.$/);
    expect(code).toBe(1);

    const json = await status('--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.text).stuck).toEqual([
      expect.objectContaining({
        loadId: '20261122T060100000Z-aaaa0002',
        reason: expect.stringMatching(/^stuck: /),
      }),
    ]);
  });

  it('exits 1 for a run waiting behind a lock older than its TTL, on a host that cannot tell', async () => {
    await new RunRecords(store).write(record({ status: 'loaded' }));
    await lock({ acquiredAt: '2026-11-22T06:00:00.000Z', pid: 4242, host: 'another-host' });

    const { code, text } = await status();

    expect(text).toContain('global 2026-11-22: loaded, STUCK');
    expect(text).toContain('the transform lock has been held for 4 h, longer than its 3 h TTL');
    expect(code).toBe(1);
  });

  it('exits 1 for a run that says transforming while nobody holds the lock', async () => {
    await new RunRecords(store).write(record({ status: 'transforming' }));

    const { code, text } = await status();

    expect(text).toContain('it says transforming, but nobody holds the transform lock');
    expect(code).toBe(1);
  });

  it('exits 1 for an interrupted run, with its reason', async () => {
    await new RunRecords(store).write(
      record({
        status: 'interrupted',
        reason: 'stopped by SIGINT during dbt; the next run completes the day',
      }),
    );

    const { code, text } = await status();

    expect(text).toContain(
      'global 2026-11-22: interrupted (stopped part-way; the next run completes the day)',
    );
    expect(text).toContain('  reason          stopped by SIGINT during dbt; the next run completes the day');
    expect(code).toBe(1);
  });

  it('exits 1 for a failed run', async () => {
    await new RunRecords(store).write(record({ status: 'checks_failed' }));

    expect((await status()).code).toBe(1);
  });

  it('exits 1 for a run that never loaded, recorded for real when chart-fetch fails for good', async () => {
    const pipeline = await LocalPipeline.start({
      config: parseLocalConfig({ CHARTFLOW_HOME: home }),
      processEnv: {},
      clock,
      retry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, maxInlineWaitMs: 10 },
    });
    try {
      pipeline.sandbox!.faults.serverErrors({ provider: 'spotify', endpoint: 'playlistItems', status: 503 });
      await expect(pipeline.run({ chartId: 'global', chartDate: '2026-11-21' })).rejects.toThrow();
    } finally {
      await pipeline.close();
    }

    const { code, text } = await status();

    expect(text).toMatch(/global 2026-11-21: not loaded \(run [0-9A-Za-z-]+, load [0-9A-Za-z-]+;/);
    expect(text).toMatch(/ {2}reason {10}chart-fetch failed for good: .*503/);
    expect(code).toBe(1);
  }, 120_000);
});
