import { afterEach, describe, expect, it } from 'vitest';
import { sandboxPlaylistId, startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import { startSandboxThread, type SandboxEndpoints } from '../../../infra/sandbox/thread.js';
import { apiGet, tokenFor } from './sandbox-client.js';

describe('Function: startSandboxThread', () => {
  const started: SandboxEndpoints[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  /** A playlist page and a track lookup as a client sees them, the server's own address taken out. */
  const answers = async (sandbox: SandboxEndpoints) => {
    const token = await tokenFor(sandbox);
    const page = await apiGet(
      sandbox,
      token,
      `/playlists/${sandboxPlaylistId('global')}/items?limit=5`,
      '2026-03-02',
    );
    const missing = await apiGet(sandbox, token, '/tracks/0000000000000000000000');
    return [page.status, page.text.replaceAll(sandbox.url, 'SANDBOX'), missing.status, missing.text];
  };

  it('answers over HTTP exactly as the sandbox in process does', async () => {
    const threaded = await startSandboxThread({ seed: 7 });
    started.push(threaded);
    const inProcess: Sandbox = await startSandbox({ seed: 7 });
    started.push(inProcess);
    expect(threaded.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(threaded.port).not.toBe(inProcess.port);
    expect(threaded.credentials).toEqual(inProcess.credentials);
    const [status, text] = await answers(threaded);
    expect(status).toBe(200);
    expect(text).toContain('"items"');
    expect(await answers(threaded)).toEqual(await answers(inProcess));
  });

  it('stops listening and ends its thread on close', async () => {
    const threaded = await startSandboxThread();
    await threaded.close();
    await expect(fetch(`${threaded.accountsUrl}/api/token`, { method: 'POST' })).rejects.toThrow();
  });

  it('rejects, saying why, when the sandbox cannot start', async () => {
    const first = await startSandboxThread();
    started.push(first);
    await expect(startSandboxThread({ port: first.port })).rejects.toThrow(
      /the sandbox did not start: .*EADDRINUSE/,
    );
    await expect(startSandboxThread({ seed: '' })).rejects.toThrow(/the sandbox did not start: .*seed/s);
  });
});
