import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxPlaylistIds } from '../../infra/sandbox/catalog.js';
import { startSandbox, type Sandbox } from '../../infra/sandbox/server.js';
import { chartflowChild, type ChildRun } from '../support/chartflow-child.js';
import { leakedForms, secretForms } from '../support/secret-forms.js';

/**
 * The Spotify client secret, given as a user gives it (the environment), never leaves the process
 * in any form: not in the lake (every file under the home), not in any line the command writes,
 * at the most talkative log level. The sandbox plays Spotify over HTTP with credentials of its own,
 * so the token request really carries them (HTTP Basic, base64 of id:secret).
 */
describe('the Spotify secret never leaks: not to the lake, not to a log line, in any form', () => {
  let sandbox: Sandbox;
  let root: string;
  let home: string;
  let run: ChildRun;
  let forms: Record<string, string>;

  beforeAll(async () => {
    sandbox = await startSandbox();
    root = await mkdtemp(path.join(tmpdir(), 'chartflow-secrets-'));
    home = path.join(root, 'home');
    const { clientId, clientSecret } = sandbox.credentials;
    forms = secretForms(clientId, clientSecret);
    run = await chartflowChild(home, ['run', '--chart', 'global'], {
      CHARTFLOW_MODE: 'live',
      SPOTIFY_API_URL: sandbox.apiUrl,
      SPOTIFY_ACCOUNTS_URL: sandbox.accountsUrl,
      SPOTIFY_CLIENT_ID: clientId,
      SPOTIFY_CLIENT_SECRET: clientSecret,
      RECCOBEATS_API_URL: sandbox.reccobeatsUrl,
      CHARTFLOW_CHART_PLAYLISTS: `global=${sandboxPlaylistIds.global}`,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    });
  }, 300_000);
  afterAll(async () => {
    await sandbox?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('runs the day against Spotify (the sandbox over HTTP), asking for a token with the credentials', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(sandbox.stats.total).toBeGreaterThan(0);
  });

  it('can tell a leak: every form is found where it is written', () => {
    const all = `>${Object.values(forms).join(' ')}<`;
    expect(leakedForms(all, forms).sort()).toEqual(Object.keys(forms).sort());
  });

  it('writes none of its forms in any line, DEBUG logs included', () => {
    const output = `${run.stdout}\n${run.stderr}`;
    // The logs were on: Powertools' JSON lines of every level the pipeline writes (it has no DEBUG line).
    expect(output.match(/"level":"INFO"/g)?.length ?? 0).toBeGreaterThan(5);
    expect(leakedForms(output, forms)).toEqual([]);
  });

  it('writes none of its forms in any file under the home: the lake, the warehouse, dbt, the report', async () => {
    const files = (await readdir(home, { recursive: true })).map((f) => path.join(home, f));
    let read = 0;
    for (const file of files) {
      if (!(await stat(file)).isFile()) continue;
      const body = (await readFile(file)).toString('latin1');
      read += 1;
      expect({ file: path.relative(home, file), leaked: leakedForms(body, forms) }).toEqual({
        file: path.relative(home, file),
        leaked: [],
      });
    }
    expect(read).toBeGreaterThan(20);
  });
});
