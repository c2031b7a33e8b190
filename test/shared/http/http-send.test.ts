import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { httpSend } from '../../../shared/http/http-send.js';

/** A server on 127.0.0.1 answering with `handle`; counts the connections it was given. */
const serve = async (handle: Parameters<typeof createServer>[1]) => {
  const server: Server = createServer(handle);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
};

describe('Function: httpSend', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('reads a gzipped answer as its text, with its status and headers', async () => {
    const server = await serve((req, res) => {
      expect(req.headers['accept-encoding']).toContain('gzip');
      res.writeHead(429, { 'content-encoding': 'gzip', 'retry-after': '3' });
      res.end(gzipSync(JSON.stringify({ said: 'é 👩‍🎤', path: req.url })));
    });
    servers.push(server);

    const answer = await httpSend(`${server.url}/v1/x?ids=a,b`, {
      method: 'GET',
      headers: {},
      timeoutMs: 5_000,
    });

    expect(answer.status).toBe(429);
    expect(answer.header('retry-after')).toBe('3');
    expect(JSON.parse(answer.text)).toEqual({ said: 'é 👩‍🎤', path: '/v1/x?ids=a,b' });
  });

  it('sends its method, headers and body, and keeps the connection for the next request', async () => {
    const seen: string[] = [];
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push(`${req.method} ${req.headers['content-type']} ${body}`);
        res.end('{}');
      });
    });
    servers.push(server);
    const post = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      timeoutMs: 5_000,
    };

    await httpSend(`${server.url}/token`, { ...post, body: 'grant_type=client_credentials' });
    await httpSend(`${server.url}/token`, { ...post, body: 'again' });

    expect(seen).toEqual([
      'POST application/x-www-form-urlencoded grant_type=client_credentials',
      'POST application/x-www-form-urlencoded again',
    ]);
    expect(server.connections()).toBe(1);
  });

  it('gives up on an answer that does not come in time', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"partial":');
      // …and never ends.
    });
    servers.push(server);

    await expect(
      httpSend(`${server.url}/slow`, { method: 'GET', headers: {}, timeoutMs: 200 }),
    ).rejects.toThrow(/abort|timeout/i);
  });

  it('rejects an answer cut short of its length', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"cut":', () => req.socket.destroy());
    });
    servers.push(server);

    await expect(
      httpSend(`${server.url}/cut`, { method: 'GET', headers: {}, timeoutMs: 5_000 }),
    ).rejects.toThrow();
  });
  it('joins a header the answer gives more than once', async () => {
    const server = await serve((_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('{}');
    });
    servers.push(server);

    const answer = await httpSend(`${server.url}/`, { method: 'GET', headers: {}, timeoutMs: 5_000 });

    expect(answer.header('set-cookie')).toBe('a=1, b=2');
    expect(answer.header('x-absent')).toBeUndefined();
  });

  it("rejects an answer that says it is gzipped but is not, with zlib's error", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end('{"plain": true}');
    });
    servers.push(server);

    await expect(
      httpSend(`${server.url}/`, { method: 'GET', headers: {}, timeoutMs: 5_000 }),
    ).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
  });

  it('speaks TLS to an https URL', async () => {
    // A bare TCP peer: it sees the first bytes the client sends, then hangs up.
    const firstBytes: Buffer[] = [];
    const tcp: NetServer = createNetServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        firstBytes.push(chunk);
        socket.destroy();
      });
    });
    await new Promise<void>((done) => tcp.listen(0, '127.0.0.1', done));
    servers.push({ close: () => new Promise<void>((done) => tcp.close(() => done())) });
    const { port } = tcp.address() as AddressInfo;

    await expect(
      httpSend(`https://127.0.0.1:${port}/`, { method: 'GET', headers: {}, timeoutMs: 5_000 }),
    ).rejects.toThrow();

    // A TLS handshake record (0x16), not a plain HTTP request line.
    expect(firstBytes).toHaveLength(1);
    expect(firstBytes[0]![0]).toBe(0x16);
  });
});
