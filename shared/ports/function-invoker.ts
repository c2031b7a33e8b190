/**
 * Calls a deployed function and waits for its answer: a Lambda invoked RequestResponse on AWS
 * (`LambdaFunctionInvoker`). How the CLI asks the deployed stack to replay a day.
 */
export interface FunctionInvoker {
  /**
   * Invokes the function with `payload` (sent as JSON) and returns its answer, parsed from JSON but
   * not validated: the caller parses it with its own schema.
   *
   * @throws {PermanentError} when the function itself failed, its message holding the function's
   * error type and message; {@link RetryableError} when the call could not be made for now.
   */
  invoke(functionName: string, payload: unknown): Promise<unknown>;
}
