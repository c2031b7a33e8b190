import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  customResourceResponse,
  parseCustomResourceRequest,
  sendCustomResourceResponse,
  type CustomResourceResponse,
} from '../../../services/warehouse-setup/custom-resource.js';
import { PermanentError, RetryableError } from '../../../shared/errors.js';
import {
  closedPort,
  startLocalHttpServer,
  type LocalAnswer,
  type LocalHttpServer,
} from '../../shared/http/local-http-server.js';
import { customResourceEventFactory } from '../../support/factories.js';

const request = parseCustomResourceRequest(
  customResourceEventFactory({ responseUrl: 'http://127.0.0.1:1/answer?X-Amz-Signature=secret' }),
);

const response: CustomResourceResponse = {
  Status: 'SUCCESS',
  PhysicalResourceId: 'chartflow-prod/chartflow/IAMR:chartflow-prod-warehouse',
  StackId: request.StackId,
  RequestId: request.RequestId,
  LogicalResourceId: request.LogicalResourceId,
  Data: { User: 'IAMR:chartflow-prod-warehouse' },
};

const logStream = '2026/12/04/[$LATEST]abc123';
const where = ` (log stream ${logStream})`;

describe('customResourceResponse', () => {
  it('keeps a reason that just fits whole, log stream included', () => {
    const message = 'x'.repeat(1_000 - where.length);
    const answer = customResourceResponse(request, { error: new Error(message), logStream });
    expect(answer.Reason).toBe(message + where);
    expect(answer.Reason).toHaveLength(1_000);
  });

  it('cuts a reason one character too long, marks the cut, and still names the log stream', () => {
    const message = `${'x'.repeat(1_000 - where.length - 1)}yz`;
    const answer = customResourceResponse(request, { error: new Error(message), logStream });
    expect(answer.Reason).toBe(`${'x'.repeat(1_000 - where.length - 1)}…${where}`);
    expect(answer.Reason).toHaveLength(1_000);
  });

  it('gives what was thrown as the reason when it is no Error, and no log stream when there is none', () => {
    expect(customResourceResponse(request, { error: 'refused' })).toEqual({
      Status: 'FAILED',
      Reason: 'refused',
      PhysicalResourceId: 'WarehouseSetup-not-created',
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: 'WarehouseSetup',
    });
  });
});

describe('sendCustomResourceResponse', () => {
  let cloudFormation: LocalHttpServer | undefined;
  let raw: Server | undefined;
  afterEach(async () => {
    await cloudFormation?.close();
    cloudFormation = undefined;
    raw?.closeAllConnections();
    await new Promise<void>((resolve) => (raw ? raw.close(() => resolve()) : resolve()));
    raw = undefined;
  });

  /** CloudFormation's pre-signed URL, answering with each of `answers` in turn, then always the last. */
  const urlAnswering = async (...answers: LocalAnswer[]) => {
    let next = 0;
    cloudFormation = await startLocalHttpServer(() => answers[Math.min(next++, answers.length - 1)]!);
    return `${cloudFormation.url}/cloudformation-custom-resource-response-euwest1/answer?X-Amz-Signature=secret`;
  };

  it('sends the answer again on a 500', async () => {
    const url = await urlAnswering({ status: 500, body: '' }, { status: 200, body: '' });
    await sendCustomResourceResponse(url, response, { retries: 2, minTimeoutMs: 10 });
    expect(cloudFormation!.received.map((r) => JSON.parse(r.body) as unknown)).toEqual([response, response]);
  });

  it('tries as many times again as told on a 5xx, then fails retryably', async () => {
    const url = await urlAnswering({ status: 503, body: 'Slow Down' });
    const error = await sendCustomResourceResponse(url, response, { retries: 2, minTimeoutMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe(
      `answering CloudFormation at ${cloudFormation!.url}/cloudformation-custom-resource-response-euwest1/answer: HTTP 503 Slow Down`,
    );
    expect(cloudFormation!.received).toHaveLength(3);
  });

  it('waits at least the minimum time given before trying again', async () => {
    const times: number[] = [];
    cloudFormation = await startLocalHttpServer(() => {
      times.push(Date.now());
      return times.length === 1 ? { status: 503, body: '' } : { status: 200, body: '' };
    });
    await sendCustomResourceResponse(`${cloudFormation.url}/answer`, response, {
      retries: 1,
      minTimeoutMs: 1_100,
    });
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1_100);
  });

  it('gives up on a 4xx, quoting the start of what the URL said and never its signature', async () => {
    const s3Error = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>${'<X-Amz-Expires>86400</X-Amz-Expires>'.repeat(10)}</Error>`;
    const url = await urlAnswering({ status: 403, body: s3Error });
    const error = await sendCustomResourceResponse(url, response, { retries: 2, minTimeoutMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toBe(
      `answering CloudFormation at ${cloudFormation!.url}/cloudformation-custom-resource-response-euwest1/answer: HTTP 403 ${s3Error.slice(0, 200)}`,
    );
    expect(cloudFormation!.received).toHaveLength(1);
  });

  it('fails retryably on a network error, keeping it as the cause, and never shows the signature', async () => {
    const port = await closedPort();
    const error = await sendCustomResourceResponse(
      `http://127.0.0.1:${port}/answer?X-Amz-Signature=secret`,
      response,
      { retries: 1, minTimeoutMs: 10 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(
      new RegExp(`^answering CloudFormation at http://127\\.0\\.0\\.1:${port}/answer: fetch failed`),
    );
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('treats a 5xx whose body is cut off like any 5xx: tried again, then a retryable failure', async () => {
    let tries = 0;
    raw = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        tries += 1;
        res.writeHead(502, { 'content-length': '100' });
        res.write('Bad Gat');
        setTimeout(() => res.destroy(), 20);
      });
    });
    await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', resolve));
    const { port } = raw.address() as AddressInfo;
    const error = await sendCustomResourceResponse(`http://127.0.0.1:${port}/answer`, response, {
      retries: 1,
      minTimeoutMs: 10,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe(
      `answering CloudFormation at http://127.0.0.1:${port}/answer: HTTP 502 `,
    );
    expect(tries).toBe(2);
  });
});
