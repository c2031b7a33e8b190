import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { processIsAlive, thisHost } from '../../../../infra/local/process-liveness.js';
import { parseLocalConfig } from '../../../../shared/config/config.js';
import { lakeKeys } from '../../../../shared/lake/keys.js';
import { readManifest } from '../../../../shared/lake/manifests.js';
import { chartflowChild, expectRefusal } from '../../../support/chartflow-child.js';

const chartDate = '2026-08-01';
const chartId = 'br';
const window = ['--from', chartDate, '--to', chartDate];

const chartflow = (home: string, ...args: string[]) => chartflowChild(home, args);

/** A pid that no process of this machine has: the holder of a lock whose process is gone. */
const deadPid = (): number => {
  // Past pid_max on Linux (4194304 at most), so no process can have it.
  for (let pid = 4_190_000; ; pid += 1) {
    if (processIsAlive({ pid, host: thisHost() }) === false) return pid;
  }
};

describe('Command: chartflow reconcile, in a child process, on a home where a sandbox day ran', () => {
  let home: string;
  let store: FsObjectStore;
  let runId: string;
  const lockFile = () => path.join(home, 'lake', 'control', 'locks', 'transform.json');

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'chartflow-reconcile-cli-'));
    const ran = await chartflow(home, 'run', '--date', chartDate, '--chart', chartId);
    expect(ran.code, ran.stderr).toBe(0);
    store = new FsObjectStore({ root: parseLocalConfig({ CHARTFLOW_HOME: home }).lakeRoot });
    runId = (await readManifest(store, { chartDate, chartId }))!.runId;
    // What lost events leave: the day as if its ObjectCreated never reached the loader (no claim,
    // no record), and the transform lock of a process that is gone.
    await store.delete(lakeKeys.claim(chartDate, chartId, runId));
    for (const { key } of await store.list(lakeKeys.runRecordsPrefix(chartDate, chartId)))
      await store.delete(key);
    await store.put(
      lakeKeys.transformLock(),
      JSON.stringify({
        batchId: '20260801T060000000Z-dead0001',
        acquiredAt: '2026-08-01T06:00:00.000Z',
        pid: deadPid(),
        host: thisHost(),
        command: 'chartflow run',
      }),
    );
  }, 600_000);
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('--dry-run says what it found, one line each, repairs nothing, and exits 1', async () => {
    const result = await chartflow(home, 'reconcile', ...window, '--dry-run');

    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(
      `reconcile ${chartDate} to ${chartDate}, every chart: found 2, repaired nothing (--dry-run)`,
    );
    expect(lines[1]).toMatch(
      /^ {2}found {2}stale_lock: batch 20260801T060000000Z-dead0001: the transform lock of batch .* is dead or silent/,
    );
    expect(lines[2]).toBe(
      `  found  unloaded: br ${chartDate} run ${runId}: every one of its ${
        (await readManifest(store, { chartDate, chartId }))!.trackIds.length
      } tracks is covered and the chart CSV is the run's, and the run was never claimed`,
    );
    expect(lines.some((l) => l.startsWith('  did'))).toBe(false);
    expect(existsSync(lockFile())).toBe(true);
    expect(await store.list(lakeKeys.claimsPrefix(chartDate, chartId))).toEqual([]);
  }, 300_000);

  it('repairs each, says what it did and how the day ended, and exits 0; a second finds nothing', async () => {
    const result = await chartflow(home, 'reconcile', ...window);

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`reconcile ${chartDate} to ${chartDate}, every chart: found 2, did 2`);
    expect(lines).toContain(
      '  did    released_lock: batch 20260801T060000000Z-dead0001: gave the transform lock back',
    );
    expect(lines).toContain(
      `  did    redelivered_object_created: br ${chartDate} run ${runId}: handed the stage loader an ObjectCreated event for ${lakeKeys.manifest(chartDate, chartId)}`,
    );
    expect(lines.find((l) => l.startsWith('  ended'))).toMatch(
      new RegExp(`^ {2}ended {2}br ${chartDate}: succeeded \\(load `),
    );
    expect(existsSync(lockFile())).toBe(false);

    const again = await chartflow(home, 'reconcile', ...window, '--json');
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as {
      findings: unknown[];
      actions: unknown[];
      freshness: unknown[];
    };
    expect(report.findings).toEqual([]);
    expect(report.actions).toEqual([]);
    // The sandbox's configured chart is global; only br ran in this home.
    expect(report.freshness).toEqual([{ chartId: 'global', lastSucceededAt: null, stale: true }]);
  }, 300_000);

  it('refuses a window that ends before it starts, exit 2', async () => {
    expectRefusal(
      await chartflow(home, 'reconcile', '--from', chartDate, '--to', '2026-07-31'),
      2,
      /--from must not be after --to/,
    );
  }, 60_000);
});
