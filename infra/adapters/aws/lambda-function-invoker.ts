import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { ConfigError, InvalidRecordError, PermanentError } from '../../../shared/errors.js';
import { parseOrThrow } from '../../../shared/parse.js';
import type { FunctionInvoker } from '../../../shared/ports/function-invoker.js';
import { awsError } from './aws-errors.js';

/** Options of a {@link LambdaFunctionInvoker}. */
export interface LambdaFunctionInvokerOptions {
  /** An SDK v3 client, built by the caller (region, endpoint, credentials). */
  readonly client: LambdaClient;
}

const optionsSchema = z.object({
  client: z.instanceof(LambdaClient, { message: 'must be a LambdaClient' }),
});

// What Invoke answers, as far as we use it. A function's failure is still a 200: FunctionError says so.
const answerSchema = z.object({
  StatusCode: z.number().int(),
  FunctionError: z.string().optional(),
  Payload: z.instanceof(Uint8Array).optional(),
});

// Lambda's error payload: errorType is absent for some runtime failures (a timeout says only errorMessage).
const errorPayloadSchema = z.object({
  errorType: z.string().optional(),
  errorMessage: z.string().optional(),
});

/**
 * Invokes a Lambda function synchronously (`RequestResponse`) and returns its JSON answer. A function
 * that fails (Invoke's `FunctionError`: `Unhandled`, or `Handled` for runtimes that report it so)
 * becomes a {@link PermanentError} naming the function, its errorType and its errorMessage: the same
 * call would fail again. Failures of the call itself (throttling, network, a missing function or
 * permission) become a retryable or permanent error through {@link awsError}.
 */
export class LambdaFunctionInvoker implements FunctionInvoker {
  readonly #client: LambdaClient;

  /** @throws {ConfigError} if an option is malformed. */
  constructor(options: LambdaFunctionInvokerOptions) {
    this.#client = parseOrThrow(optionsSchema, options, 'LambdaFunctionInvoker options', ConfigError).client;
  }

  /** Lambda Invoke, RequestResponse: the function's answer parsed from JSON (`undefined` if it returned nothing). */
  async invoke(functionName: string, payload: unknown): Promise<unknown> {
    const what = `Lambda Invoke ${functionName}`;
    let raw;
    try {
      raw = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      );
    } catch (error) {
      throw awsError(what, error);
    }
    const { StatusCode, FunctionError, Payload } = parseOrThrow(answerSchema, raw, `${what}: the answer`);
    const text = Payload === undefined ? '' : new TextDecoder().decode(Payload);
    if (FunctionError !== undefined) throw functionFailed(functionName, FunctionError, text);
    if (StatusCode !== 200) throw new InvalidRecordError(`${what}: answered status ${StatusCode}, not 200`);
    if (text.trim() === '' || text.trim() === 'null') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new InvalidRecordError(`${what}: the function's answer is not JSON: ${text.slice(0, 200)}`, {
        cause: error,
      });
    }
  }
}

/** The function's own failure, in one sentence: `… failed (Unhandled): InvalidRecordError: replay event: …`. */
const functionFailed = (functionName: string, kind: string, text: string): PermanentError => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = errorPayloadSchema.safeParse(body);
  const detail = parsed.success
    ? [parsed.data.errorType, parsed.data.errorMessage].filter(Boolean).join(': ')
    : text.trim().slice(0, 500);
  return new PermanentError(
    `Lambda function ${functionName} failed (${kind})${detail ? `: ${detail}` : ', with no error message'}`,
  );
};
