import { Worker } from 'node:worker_threads';
import type { Sandbox, SandboxOptions } from './server.js';

/**
 * What a caller of the sandbox needs to reach it: its addresses and credentials, and how to stop
 * it. An in-process {@link Sandbox} is one; so is a sandbox on a thread ({@link startSandboxThread}).
 */
export type SandboxEndpoints = Pick<
  Sandbox,
  'url' | 'accountsUrl' | 'apiUrl' | 'reccobeatsUrl' | 'port' | 'credentials' | 'close'
>;

/** The options a sandbox on a thread takes: those that can cross to it (no clock, no function). */
export type SandboxThreadOptions = Omit<SandboxOptions, 'clock' | 'today'>;

/**
 * How much nicer than its caller the sandbox's thread runs on Linux (niceness 0 is the default, 19
 * the lowest priority). A one-year backfill against the sandbox took 3 to 4 % less time with it
 * (docs/benchmark.md): the pipeline's thread, the busiest, waits less for a core.
 */
export const sandboxThreadNiceness = 10;

/** What the thread says: it listens (its endpoints), it failed to start, or it has closed. */
export type SandboxThreadMessage =
  | { readonly kind: 'listening'; readonly endpoints: Omit<SandboxEndpoints, 'close'> }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'closed' };

/**
 * Where the thread's code is: the built entry `dist/sandbox-thread.js` when this module is part of
 * the build (bin/build.js), or, run from the sources, `thread-source.mjs` beside it, which loads
 * tsx in the thread first.
 */
const threadEntry = (): URL => {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./thread-source.mjs', here);
  return new URL('sandbox-thread.js', here.slice(0, here.lastIndexOf('/dist/') + '/dist/'.length));
};

/**
 * Starts the sandbox on a worker thread of its own and resolves once it listens. The same server
 * as {@link startSandbox}, answering over loopback HTTP as before; only its work (building the
 * answers, serialising them, the sockets) leaves the caller's thread, for the machine's other core.
 * A backfill, whose every day is a megabyte of synthetic JSON, spends a fifth of its time there
 * (docs/benchmark.md). Tests that inspect the sandbox (its stats, faults, catalog) start it in
 * process instead.
 */
export const startSandboxThread = (options: SandboxThreadOptions = {}): Promise<SandboxEndpoints> => {
  const worker = new Worker(threadEntry(), { workerData: options });
  return new Promise<SandboxEndpoints>((resolve, reject) => {
    const early = (error: unknown) => reject(error instanceof Error ? error : new Error(String(error)));
    worker.once('error', early);
    worker.once('exit', (code) =>
      reject(new Error(`the sandbox thread ended (code ${code}) before it listened`)),
    );
    worker.once('message', (message: SandboxThreadMessage) => {
      worker.removeAllListeners('exit');
      worker.off('error', early);
      if (message.kind !== 'listening') {
        void worker.terminate();
        reject(
          new Error(
            `the sandbox did not start: ${message.kind === 'failed' ? message.message : message.kind}`,
          ),
        );
        return;
      }
      resolve({
        ...message.endpoints,
        close: async () => {
          const exited = new Promise<void>((done) => worker.once('exit', () => done()));
          worker.postMessage('close');
          await exited;
        },
      });
    });
  });
};
