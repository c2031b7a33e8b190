import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxPlaylistId, startSandbox, type Sandbox } from '../../../infra/sandbox/index.js';
import {
  sandboxThreadNiceness,
  startSandboxThread,
  type SandboxEndpoints,
} from '../../../infra/sandbox/thread.js';
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

  /** The niceness of each of this process's threads, by thread id (Linux: /proc/self/task). */
  const threadNiceness = (): Map<string, number> =>
    new Map(
      readdirSync('/proc/self/task').flatMap((tid) => {
        try {
          // Fields after the command's closing parenthesis; niceness is the stat file's 19th field.
          const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return [[tid, Number(fields[16])] as const];
        } catch {
          return []; // the thread ended meanwhile
        }
      }),
    );

  it.runIf(process.platform === 'linux')(
    'runs its thread at a lower priority, and leaves the caller at its own',
    async () => {
      const before = threadNiceness();
      const callerPriority = getPriority(0);
      const threaded = await startSandboxThread();
      started.push(threaded);

      const added = [...threadNiceness()].filter(([tid]) => !before.has(tid));
      expect(added.map(([, nice]) => nice)).toContain(Math.min(19, callerPriority + sandboxThreadNiceness));
      expect(getPriority(0)).toBe(callerPriority);
      expect(threadNiceness().get(String(process.pid))).toBe(callerPriority);
    },
  );

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
