import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLocalConfig } from '../../../shared/config/config.js';
import { LockWaitTimeoutError } from '../../../shared/errors.js';
import { lakeKeys } from '../../../shared/lake/keys.js';
import { FsObjectStore } from '../../../infra/adapters/embedded/fs-object-store.js';
import { thisHost } from '../../../infra/local/process-liveness.js';
import { LocalPipeline } from '../../../infra/local/runtime.js';

/**
 * A run whose transform finds the lock held by another live process on this machine: it says what
 * it waits for, who holds it and since when, once, and gives up after `waitMs` (docs/reliability.md,
 * "Interrupted runs"). Before, it handed its message back every minute, silently, for the lock's
 * 3-hour TTL.
 */
describe('Feature: waiting for the transform lock of another live process', () => {
  let home: string;
  let holder: ChildProcess;
  const acquiredAt = new Date().toISOString();
  const homes: string[] = [];
  /** A fresh home whose transform lock the live `holder` holds. */
  const heldHome = async () => {
    const made = await mkdtemp(path.join(tmpdir(), 'chartflow-lock-wait-'));
    homes.push(made);
    await new FsObjectStore({ root: path.join(made, 'lake') }).put(
      lakeKeys.transformLock(),
      JSON.stringify({
        batchId: '20261201T000000000Z-0badf00d',
        acquiredAt,
        pid: holder.pid,
        host: thisHost(),
        command: 'chartflow backfill',
      }),
    );
    return made;
  };
  beforeAll(async () => {
    holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300_000)']);
    home = await heldHome();
  });
  afterAll(async () => {
    holder.kill('SIGKILL');
    await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
  });

  it('says once whom it waits for, then gives up after waitMs with LockWaitTimeoutError naming the holder', async () => {
    const notes: string[] = [];
    const pipeline = await LocalPipeline.start({
      config: parseLocalConfig({ CHARTFLOW_HOME: home }),
      processEnv: process.env,
      waitMs: 2_000,
      note: (text) => notes.push(text),
    });
    const started = Date.now();
    try {
      const run = pipeline.run({ chartId: 'br', chartDate: '2026-08-01' });
      await expect(run).rejects.toThrow(LockWaitTimeoutError);
      await expect(run).rejects.toThrow(
        `batch 20261201T000000000Z-0badf00d holds it, process ${holder.pid} (chartflow backfill, since ${acquiredAt})`,
      );
    } finally {
      await pipeline.close();
    }
    // Fetch, enrichment and load take seconds; the wait itself two. It used to be hours.
    expect(Date.now() - started).toBeLessThan(60_000);
    const waits = notes.filter((n) => n.includes('waiting for the transform lock'));
    expect(waits).toEqual([
      `chartflow: waiting for the transform lock: batch 20261201T000000000Z-0badf00d holds it, process ${holder.pid} (chartflow backfill, since ${acquiredAt}); giving up after 2 s`,
    ]);
  });

  it('the CLI gives up after its default minute, exits 2 naming the holder, and ends', async () => {
    const held = await heldHome();
    const env: NodeJS.ProcessEnv = { ...process.env, CHARTFLOW_HOME: held };
    for (const name of Object.keys(env)) if (name.startsWith('SPOTIFY_')) delete env[name];
    const cli = spawn(
      process.execPath,
      [
        path.resolve(import.meta.dirname, '../../../bin/chartflow.js'),
        'run',
        '--date',
        '2026-08-01',
        '--chart',
        'br',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // Before, a wait that gave up left the run's polling going, and the process never ended.
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => cli.kill('SIGKILL'), 150_000);
      cli.once('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `chartflow: Gave up after 60 s waiting for the transform lock: batch 20261201T000000000Z-0badf00d holds it, process ${holder.pid} (chartflow backfill, since ${acquiredAt}).`,
    );
  }, 180_000);
});
