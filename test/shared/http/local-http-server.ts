import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the local server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query, as sent (`/v1/tracks?ids=a,b`). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the local server answers: a status, headers, and a body (objects are sent as JSON). */
export interface LocalAnswer {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | object | null;
}

/** A real HTTP peer on 127.0.0.1 for answers the sandbox never gives (garbled bodies, quotas, shuffled lists). */
export interface LocalHttpServer {
  /** `http://127.0.0.1:port`, no trailing slash. */
  readonly url: string;
  /** Every request received, in order. */
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a server on a free port that answers every request with `answer(request)`. */
export const startLocalHttpServer = async (
  answer: (request: ReceivedRequest) => LocalAnswer | Promise<LocalAnswer>,
): Promise<LocalHttpServer> => {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      Promise.resolve(answer(request)).then(
        ({ status = 200, headers = {}, body = null }) => {
          const text = typeof body === 'string' ? body : JSON.stringify(body);
          const contentType = typeof body === 'string' ? 'text/plain' : 'application/json';
          res.writeHead(status, { 'content-type': contentType, ...headers });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(`the test server's handler threw: ${String(error)}`);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      // fetch keeps connections alive; close them, or close() waits for them.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
};

/** A port nothing listens on (bound, then released), for network errors. */
export const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};
