// The sandbox's thread (infra/sandbox/thread.ts): starts the server with the options it was
// given, says where it listens, and closes it when asked.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { startSandbox } from './server.js';
import { sandboxThreadNiceness, type SandboxThreadMessage, type SandboxThreadOptions } from './thread.js';

// The sandbox stands in for providers whose servers run elsewhere: on one machine, its thread lets
// the pipeline's own threads have the cores first (docs/benchmark.md). On Linux a priority set for
// pid 0 is the calling thread's alone; elsewhere it would be the whole process's, so it is left be.
if (process.platform === 'linux') {
  try {
    setPriority(0, Math.min(19, getPriority(0) + sandboxThreadNiceness));
  } catch {
    // A lower priority is a courtesy; the sandbox answers the same without it.
  }
}

const port = parentPort!;
const say = (message: SandboxThreadMessage) => port.postMessage(message);

try {
  const sandbox = await startSandbox(workerData as SandboxThreadOptions);
  const { url, accountsUrl, apiUrl, reccobeatsUrl, credentials } = sandbox;
  port.once('message', () => {
    void sandbox.close().then(() => {
      say({ kind: 'closed' });
      port.close();
    });
  });
  say({
    kind: 'listening',
    endpoints: { url, accountsUrl, apiUrl, reccobeatsUrl, port: sandbox.port, credentials },
  });
} catch (error) {
  say({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  port.close();
}
