import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartflowChild, type ChildRun } from '../support/chartflow-child.js';

/**
 * A replay reprocesses a day from the lake alone (docs/architecture.md): it must make no request
 * of any provider. The day is run against the sandbox, then replayed with every provider pointed
 * at a server on this machine that counts what it is asked and answers nothing useful.
 */
describe('replay fetches nothing', () => {
  let root: string;
  let home: string;
  let server: Server;
  const asked: string[] = [];
  let replay: ChildRun;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-replay-nothing-'));
    home = path.join(root, 'home');
    server = createServer((request, response) => {
      asked.push(`${request.method} ${request.url}`);
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const run = await chartflowChild(home, ['run', '--date', '2026-11-02', '--chart', 'global', '--json']);
    expect(run.code, run.stderr).toBe(0);
    replay = await chartflowChild(home, ['replay', '--date', '2026-11-02', '--json'], {
      SPOTIFY_CLIENT_ID: 'counting',
      SPOTIFY_CLIENT_SECRET: 'counting',
      SPOTIFY_API_URL: `${url}/v1`,
      SPOTIFY_ACCOUNTS_URL: url,
      RECCOBEATS_API_URL: `${url}/reccobeats`,
    });
  }, 300_000);
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('reloads and transforms the day again from the lake, successfully', () => {
    expect(replay.code, replay.stderr).toBe(0);
    const { days } = JSON.parse(replay.stdout) as { days: { chartId: string; status: string }[] };
    expect(days.map((d) => [d.chartId, d.status])).toEqual([['global', 'succeeded']]);
  });

  it('asks no provider anything: not Spotify, its accounts, nor ReccoBeats', () => {
    expect(asked).toEqual([]);
  });
});
