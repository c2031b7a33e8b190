import type { Context } from 'aws-lambda';
import type { AwsDeps } from './adapters/aws/aws-deps.js';

/** A handler as Lambda calls it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * A Lambda entry point whose handler is built from the function's environment at the first
 * invocation, not at import: the local runtime and the tests import the services' handler files
 * without an AWS environment (and without loading the AWS SDK). A failed build (an incomplete
 * environment) is tried again on the next invocation.
 *
 * @param build - the service's handler, from the dependencies the composition root gives it
 */
export const lambdaEntry = <E, R>(build: (deps: AwsDeps) => LambdaHandler<E, R>): LambdaHandler<E, R> => {
  let built: LambdaHandler<E, R> | undefined;
  return async (event, context) => {
    if (!built) {
      const { lambdaDeps } = await import('./adapters/aws/aws-deps.js');
      built = build(lambdaDeps());
    }
    return built(event, context);
  };
};
