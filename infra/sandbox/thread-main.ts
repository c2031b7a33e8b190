// The sandbox's thread (infra/sandbox/thread.ts): starts the server with the options it was
// given, says where it listens, and closes it when asked.
import { parentPort, workerData } from 'node:worker_threads';
import { startSandbox } from './server.js';
import type { SandboxThreadMessage, SandboxThreadOptions } from './thread.js';

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
