import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';

/** A provider's answer, read whole: its status, a header by its lower-case name, its body as text. */
export interface HttpAnswer {
  readonly status: number;
  header(name: string): string | undefined;
  readonly text: string;
}

export interface HttpSendOptions {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The whole exchange, body included, is abandoned after this long. */
  readonly timeoutMs: number;
}

// One connection pool per scheme for the process, kept alive between requests as fetch keeps them.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * One HTTP request with Node.js's own client, its answer read whole (gzip undone). The provider
 * clients send through this rather than `fetch`: for the same requests fetch (undici, with its web
 * streams and text decoder) took about 1.7 s of a one-year backfill's busiest thread, and the year
 * ran 0.87 of its time without it (docs/benchmark.md). A network error, a timeout or a cut body
 * rejects with Node's error.
 */
export const httpSend = (url: string, options: HttpSendOptions): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: the agent chosen below decides: http.request with an https.Agent speaks TLS, https.request with an http.Agent plain HTTP
    const client = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const request = client.request(
      target,
      {
        method: options.method,
        headers: { 'accept-encoding': 'gzip', ...options.headers },
        agent,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            let body = Buffer.concat(chunks);
            if (response.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
            const headers = response.headers;
            resolve({
              status: response.statusCode ?? 0,
              header: (name) => {
                const value = headers[name];
                return Array.isArray(value) ? value.join(', ') : value;
              },
              text: body.toString('utf8'),
            });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
