import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxPlaylistIds } from '../../../../infra/sandbox/catalog.js';
import { startSandbox, type Sandbox } from '../../../../infra/sandbox/server.js';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../../../bin/chartflow.js');

/** The CLI in its own process: its exit code, and what it said on stderr. */
const chartflow = async (args: string[], env: Record<string, string>) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('Function: chartflow run and backfill in live mode with playlists (a playlist captures only today)', () => {
  let sandbox: Sandbox;
  let root: string;
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // The sandbox plays Spotify, as `chartflow sandbox` prints it: live mode calls it as it would Spotify.
    sandbox = await startSandbox();
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-live-history-cli-'));
    home = path.join(root, 'home');
    env = {
      CHARTFLOW_HOME: home,
      CHARTFLOW_MODE: 'live',
      SPOTIFY_API_URL: sandbox.apiUrl,
      SPOTIFY_ACCOUNTS_URL: sandbox.accountsUrl,
      SPOTIFY_CLIENT_ID: sandbox.credentials.clientId,
      SPOTIFY_CLIENT_SECRET: sandbox.credentials.clientSecret,
      RECCOBEATS_API_URL: sandbox.reccobeatsUrl,
      CHARTFLOW_CHART_PLAYLISTS: `global=${sandboxPlaylistIds.global}`,
    };
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Everything under the home, as paths: nothing may be written by a refused command. */
  const written = async () =>
    existsSync(home) ? await readdir(home, { recursive: true }) : ([] as string[]);

  it('run --date <yesterday> exits 2, says a playlist captures only today, and writes nothing', async () => {
    const yesterday = day(-1);
    const result = await chartflow(['run', '--date', yesterday], env);

    expect(result.stderr).toMatch(
      new RegExp(
        `^chartflow: ${yesterday} is not today \\(\\d{4}-\\d{2}-\\d{2} UTC\\), and a playlist captures only today`,
      ),
    );
    expect(result.stderr).toContain('"chartflow ingest"');
    expect(result.code).toBe(2);
    expect(await written()).toEqual([]);
    expect(sandbox.stats.total).toBe(0);
  }, 90_000);

  it('backfill over past days exits 2 the same way, pointing to ingest, and writes nothing', async () => {
    const result = await chartflow(['backfill', '--from', day(-3), '--to', day(-1)], env);

    expect(result.stderr).toMatch(/^chartflow: 3 of the days asked for are past days, the first /);
    expect(result.stderr).toContain('with "chartflow ingest"');
    expect(result.code).toBe(2);
    expect(await written()).toEqual([]);
    expect(sandbox.stats.total).toBe(0);
  }, 90_000);
});
