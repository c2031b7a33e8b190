import type { Context } from 'aws-lambda';

/** A handler as Lambda calls it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * A Lambda entry point whose handler is built at the first invocation, not at import: tests import
 * the composition roots without an AWS environment. A failed build (an incomplete environment,
 * named by the config schema) is tried again on the next invocation.
 *
 * @param build - the function's handler, wired by its composition root
 */
export const lambdaEntry = <E, R>(build: () => LambdaHandler<E, R>): LambdaHandler<E, R> => {
  let built: LambdaHandler<E, R> | undefined;
  return async (event, context) => {
    built ??= build();
    return built(event, context);
  };
};
