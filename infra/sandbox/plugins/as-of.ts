import type { FastifyRequest } from 'fastify';
import { isoDate } from '../../../shared/lake/keys.js';
import type { SandboxProvider } from '../stats.js';
import type { ProviderErrorOf } from './provider-errors.js';

/** The request header that sets the day an answer is given as of (`YYYY-MM-DD`). */
export const asOfHeader = 'x-chartflow-as-of';

/** The day a request asks about: its `x-chartflow-as-of` header, or today. */
export type AsOfOf = (request: FastifyRequest, provider: SandboxProvider) => string;

/**
 * Reads the as-of day of a request; a malformed header is refused with a 400 in the provider's
 * shape (the provider's own wording, which is why this is not `parseOrThrow`).
 */
export const asOfReader =
  (today: () => string, errorOf: ProviderErrorOf): AsOfOf =>
  (request, provider) => {
    const parsed = isoDate.optional().safeParse(request.headers[asOfHeader]);
    if (!parsed.success) {
      throw errorOf(provider, request, 400, `Invalid ${asOfHeader} header: expected a date as YYYY-MM-DD`);
    }
    return parsed.data ?? isoDate.parse(today());
  };
