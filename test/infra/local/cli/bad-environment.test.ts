import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartflowChild, expectRefusal } from '../../../support/chartflow-child.js';

/**
 * Every variable of the local configuration (shared/config/config.ts), malformed, given to
 * `node bin/chartflow.js run` as a user would: exit 2, one sentence naming the variable and what is
 * wrong, before anything is written (docs/inputs.md, "Environment").
 */
describe('Command: chartflow, refusing a bad environment in a child process', () => {
  let root: string;
  let home: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-bad-environment-'));
    home = path.join(root, 'home');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it.each([
    [
      'CHARTFLOW_WAREHOUSE',
      'oracle',
      /^chartflow: CHARTFLOW_WAREHOUSE is invalid: Invalid option: expected one of "duckdb"\|"postgres"\.$/,
    ],
    [
      'CHARTFLOW_PG_URL',
      'not a url',
      /^chartflow: CHARTFLOW_PG_URL is invalid: CHARTFLOW_PG_URL must be a postgres:\/\/ URL\.$/,
    ],
    [
      'CHARTFLOW_MODE',
      'prod',
      /^chartflow: CHARTFLOW_MODE is invalid: Invalid option: expected one of "sandbox"\|"live"\.$/,
    ],
    [
      'CHARTFLOW_SANDBOX_ACCESS',
      'full',
      /^chartflow: CHARTFLOW_SANDBOX_ACCESS is invalid: Invalid option: expected one of "extended"\|"development"\|"none"\.$/,
    ],
    [
      'CHARTFLOW_RECCOBEATS',
      'maybe',
      /^chartflow: CHARTFLOW_RECCOBEATS is invalid: Invalid option: expected one of "on"\|"off"\.$/,
    ],
    [
      'CHARTFLOW_CHART_PLAYLISTS',
      'global',
      /^chartflow: CHARTFLOW_CHART_PLAYLISTS is invalid: "global" is not chart=playlistId/,
    ],
    [
      'SPOTIFY_API_URL',
      'ftp://example.com',
      /^chartflow: SPOTIFY_API_URL is invalid: SPOTIFY_API_URL must be an http\(s\) URL\.$/,
    ],
    [
      'SPOTIFY_ACCOUNTS_URL',
      'accounts',
      /^chartflow: SPOTIFY_ACCOUNTS_URL is invalid: SPOTIFY_ACCOUNTS_URL must be an http\(s\) URL\.$/,
    ],
    [
      'RECCOBEATS_API_URL',
      'localhost:9',
      /^chartflow: RECCOBEATS_API_URL is invalid: RECCOBEATS_API_URL must be an http\(s\) URL\.$/,
    ],
    [
      'SPOTIFY_RATE_LIMIT',
      'fast',
      /^chartflow: SPOTIFY_RATE_LIMIT is invalid: must be requests\/seconds, for example 60\/30\.$/,
    ],
    [
      'RECCOBEATS_RATE_LIMIT',
      '0/30',
      /^chartflow: RECCOBEATS_RATE_LIMIT is invalid: must allow at least one request in a positive window\.$/,
    ],
    [
      'CHARTFLOW_BREAKER_FAILURES',
      '0',
      /^chartflow: CHARTFLOW_BREAKER_FAILURES is invalid: CHARTFLOW_BREAKER_FAILURES must be at least 1\.$/,
    ],
    [
      'CHARTFLOW_ENDPOINT_BUDGET_SECONDS',
      '1.5',
      /^chartflow: CHARTFLOW_ENDPOINT_BUDGET_SECONDS is invalid: CHARTFLOW_ENDPOINT_BUDGET_SECONDS must be a whole number\.$/,
    ],
    [
      'SPOTIFY_CLIENT_SECRET',
      'only-the-secret',
      /^chartflow: SPOTIFY_CLIENT_ID is required when SPOTIFY_CLIENT_SECRET is set\.$/,
    ],
  ])('refuses %s=%s, naming it: exit 2, nothing written', async (variable, value, sentence) => {
    const run = await chartflowChild(home, ['run', '--date', '2026-11-01'], {
      [variable]: value,
      SPOTIFY_CLIENT_ID: undefined,
      ...(variable === 'SPOTIFY_CLIENT_SECRET' ? {} : { SPOTIFY_CLIENT_SECRET: undefined }),
    });
    expectRefusal(run, 2, sentence);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(home)).toBe(false);
  });

  it('refuses the Spotify URLs without the credentials they are for', async () => {
    const run = await chartflowChild(home, ['run', '--date', '2026-11-01'], {
      SPOTIFY_API_URL: 'http://127.0.0.1:9/v1',
      SPOTIFY_CLIENT_ID: undefined,
      SPOTIFY_CLIENT_SECRET: undefined,
    });
    expectRefusal(
      run,
      2,
      /^chartflow: SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required when SPOTIFY_API_URL or SPOTIFY_ACCOUNTS_URL is set\.$/,
    );
    expect(existsSync(home)).toBe(false);
  });

  it('refuses playlists to read in live mode without the credentials that read them', async () => {
    const run = await chartflowChild(home, ['run', '--date', '2026-11-01'], {
      CHARTFLOW_MODE: 'live',
      CHARTFLOW_CHART_PLAYLISTS: 'global=37i9dQZEVXbMDoHDwVN2tF',
      SPOTIFY_CLIENT_ID: undefined,
      SPOTIFY_CLIENT_SECRET: undefined,
    });
    expectRefusal(
      run,
      2,
      /^chartflow: SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required to read the playlists of CHARTFLOW_CHART_PLAYLISTS\.$/,
    );
    expect(existsSync(home)).toBe(false);
  });

  it('refuses a CHARTFLOW_HOME that is a file, naming it, and leaves the file as it was', async () => {
    const file = path.join(root, 'a-file');
    await writeFile(file, 'not a folder\n');
    const run = await chartflowChild(file, ['run', '--date', '2026-11-01']);
    expectRefusal(
      run,
      2,
      new RegExp(
        `^chartflow: CHARTFLOW_HOME ${file} cannot hold chartflow's files: ENOTDIR: not a directory`,
      ),
    );
    expect(await readFile(file, 'utf8')).toBe('not a folder\n');
  });

  it('reads a status with a malformed log level as Powertools does: its own default, and no refusal', async () => {
    // POWERTOOLS_LOG_LEVEL is Powertools' own variable, read by its Logger (shared/logger.ts): an
    // unknown level is not chartflow's to refuse, and must not stop a command.
    const run = await chartflowChild(home, ['status'], { POWERTOOLS_LOG_LEVEL: 'LOUD' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`no runs recorded in ${path.join(home, 'lake')}.\n`);
    expect(existsSync(home)).toBe(false);
  });
});
