import pRetry, { AbortError } from 'p-retry';
import {
  CloudFormationCustomResourceCreateSchema,
  CloudFormationCustomResourceDeleteSchema,
  CloudFormationCustomResourceUpdateSchema,
} from '@aws-lambda-powertools/parser/schemas/cloudformation-custom-resource';
import * as z from 'zod';
import { PermanentError, RetryableError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/parse.js';

// A pre-signed S3 URL on AWS; the tests answer on loopback. Powertools' z.url() takes any scheme.
const answerable = { ResponseURL: z.url({ protocol: /^https?$/ }) };
// CloudFormation sends back on Update and Delete the id we answered; Powertools' schemas leave it out.
const answered = { ...answerable, PhysicalResourceId: z.string().min(1) };

const requestSchema = z.discriminatedUnion('RequestType', [
  CloudFormationCustomResourceCreateSchema.extend(answerable),
  CloudFormationCustomResourceUpdateSchema.extend(answered),
  CloudFormationCustomResourceDeleteSchema.extend(answered),
]);

/** A CloudFormation custom resource request, as CloudFormation invokes the resource's function with it. */
export type CustomResourceRequest = z.output<typeof requestSchema>;

/**
 * The request in a custom resource's event, read with Powertools' custom resource schemas.
 *
 * @throws {InvalidRecordError} naming the field, when the event is not such a request: there is
 *   then no URL to answer to, so the invocation itself fails.
 */
export const parseCustomResourceRequest = (event: unknown): CustomResourceRequest =>
  parseOrThrow(requestSchema, event, 'CloudFormation custom resource request');

/**
 * The resource's id as the request knows it: the one answered before, or — for a Create, which has
 * none yet — a stand-in that CloudFormation sends back on the Delete of a failed Create's rollback.
 */
export const physicalIdOf = (request: CustomResourceRequest): string =>
  request.RequestType === 'Create' ? `${request.LogicalResourceId}-not-created` : request.PhysicalResourceId;

/** What a custom resource's work came to, when it succeeded. */
export interface CustomResourceOutcome {
  /** The id CloudFormation keeps; a new one on Update means a replacement (CloudFormation then deletes the old). */
  readonly physicalResourceId: string;
  /** Attributes the template may read with Fn::GetAtt. */
  readonly data?: Readonly<Record<string, string>>;
}

/** The body of the answer CloudFormation waits for at the request's ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

// CloudFormation refuses a response body over 4 KiB; the reason is most of it.
const maxReasonLength = 1_000;

/**
 * The answer to a request: SUCCESS with the outcome, or FAILED with the error's message as the
 * reason CloudFormation shows in the stack's events (and where the log is).
 */
export const customResourceResponse = (
  request: CustomResourceRequest,
  result:
    { readonly outcome: CustomResourceOutcome } | { readonly error: unknown; readonly logStream?: string },
): CustomResourceResponse => {
  const ids = {
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  };
  if ('outcome' in result) {
    return {
      Status: 'SUCCESS',
      PhysicalResourceId: result.outcome.physicalResourceId,
      ...ids,
      ...(result.outcome.data ? { Data: result.outcome.data } : {}),
    };
  }
  const message = result.error instanceof Error ? result.error.message : String(result.error);
  const where = result.logStream ? ` (log stream ${result.logStream})` : '';
  const room = maxReasonLength - where.length;
  return {
    Status: 'FAILED',
    Reason: (message.length > room ? `${message.slice(0, room - 1)}…` : message) + where,
    PhysicalResourceId: physicalIdOf(request),
    ...ids,
  };
};

/** Options of {@link sendCustomResourceResponse}. */
export interface SendResponseOptions {
  /** Retries of a network error or a 5xx, with backoff. */
  readonly retries?: number;
  readonly minTimeoutMs?: number;
}

/**
 * PUTs the answer to the request's pre-signed ResponseURL. The URL was signed for a body without a
 * content type, so none is sent (fetch would otherwise add one to a text body, and S3 would refuse
 * the signature). A network error or a 5xx is retried; a 4xx is not (the URL has expired or was
 * answered already).
 *
 * @throws {RetryableError} when every try failed on the network or a 5xx: the invocation fails and
 *   Lambda's retry of the event answers again.
 * @throws {PermanentError} on a 4xx.
 */
export const sendCustomResourceResponse = async (
  responseUrl: string,
  response: CustomResourceResponse,
  options: SendResponseOptions = {},
): Promise<void> => {
  // Stryker disable next-line StringLiteral: Buffer.from reads an empty encoding as utf8
  const body = Buffer.from(JSON.stringify(response), 'utf8');
  const where = new URL(responseUrl);
  // The query string is the signature: never in a message.
  const shown = `${where.origin}${where.pathname}`;
  await pRetry(
    async () => {
      let answer: Response;
      try {
        answer = await fetch(responseUrl, { method: 'PUT', headers: { 'content-type': '' }, body });
      } catch (error) {
        throw new RetryableError(`answering CloudFormation at ${shown}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      // Drain it so the connection is freed.
      const text = await answer.text().catch(() => '');
      if (answer.ok) return;
      const failure = `answering CloudFormation at ${shown}: HTTP ${answer.status} ${text.slice(0, 200)}`;
      if (answer.status >= 500) throw new RetryableError(failure);
      throw new AbortError(new PermanentError(failure));
    },
    { retries: options.retries ?? 4, minTimeout: options.minTimeoutMs ?? 500, randomize: true },
  );
};
