import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const motoServer = path.join(root, '.venv-moto', 'bin', 'moto_server');

/** A moto server of one test file: its endpoint, and the credentials and region the clients use. */
export interface Moto {
  readonly endpoint: string;
  readonly region: string;
  /** What an AWS SDK v3 client needs to talk to this server. */
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly forcePathStyle: true;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** Forgets every resource (moto's reset), so that a test starts from nothing. */
  reset(): Promise<void>;
  /** Stops the server, by its PID. */
  stop(): Promise<void>;
}

/**
 * Whether moto server can run here (`bash infra/local/ensure-moto-venv.sh` installs it). In CI its
 * absence is a failure; elsewhere the tests that need it skip, and say why.
 */
export const motoAvailable = (): boolean => {
  if (existsSync(motoServer)) return true;
  const reason = `moto server is not installed at ${motoServer} (run: bash infra/local/ensure-moto-venv.sh)`;
  if (process.env.CI) throw new Error(`moto is required in CI: ${reason}`);
  console.warn(`Skipping AWS adapter tests: ${reason}`);
  return false;
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a moto server on a free loopback port and waits until it answers. */
export const startMoto = async (): Promise<Moto> => {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: moto logs every request.
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited at start: ${stderr}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/`);
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint} within 30 s: ${stderr}`);
    }
    await sleep(100);
  }

  const region = 'us-east-1';
  return {
    endpoint,
    region,
    clientConfig: {
      endpoint,
      region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    },
    reset: async () => {
      const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!answer.ok) throw new Error(`moto reset answered ${answer.status}`);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
};
