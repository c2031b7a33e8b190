import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../../shared/ports/clock.js';
import { ProviderAnswerError, reccobeatsError, spotifyError } from '../errors.js';
import type { SandboxProvider } from '../stats.js';
import { apiPathOf, isReccobeatsRequest } from './paths.js';

/** Extra fields of an error body, and headers of the answer. */
export interface ErrorExtras {
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

/** A refusal in the provider's own error shape, for a hook or a handler to throw. */
export type ProviderErrorOf = (
  provider: SandboxProvider,
  request: FastifyRequest,
  status: number,
  message: string,
  options?: ErrorExtras,
) => ProviderAnswerError;

/** Refusals dated by the sandbox clock (ReccoBeats's error bodies carry a timestamp). */
export const providerErrorOf =
  (clock: Pick<Clock, 'now'>): ProviderErrorOf =>
  (provider, request, status, message, options = {}) =>
    provider === 'spotify'
      ? spotifyError(status, message, options)
      : reccobeatsError(status, clock.now(), apiPathOf(request), message, options);

/**
 * Every refusal the routes throw is written as it is; Fastify's own refusals (unsupported media
 * type, bad body…) and unknown paths are answered in the shape of the provider the path is under.
 */
export const installErrorAnswers = (app: FastifyInstance, clock: Pick<Clock, 'now'>): void => {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ProviderAnswerError) {
      return reply.code(error.status).headers(error.headers).send(error.body);
    }
    // Fastify's own refusals keep their status.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    const message = status >= 500 ? 'Server error.' : (error as Error).message;
    const answer = isReccobeatsRequest(request)
      ? reccobeatsError(status, clock.now(), apiPathOf(request), message)
      : spotifyError(status, message);
    return reply.code(status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const answer = isReccobeatsRequest(request)
      ? reccobeatsError(404, clock.now(), apiPathOf(request), 'No static resource found.')
      : spotifyError(404, 'Service not found');
    return reply.code(404).send(answer.body);
  });
};
