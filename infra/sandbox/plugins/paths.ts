import type { FastifyRequest } from 'fastify';

/** Where the ReccoBeats look-alike lives on the sandbox (ReccoBeats: `https://api.reccobeats.com`). */
export const reccobeatsPathPrefix = '/reccobeats';

/** Whether a request is ReccoBeats's, whose errors take ReccoBeats's shape. */
export const isReccobeatsRequest = (request: FastifyRequest): boolean =>
  request.url.startsWith(`${reccobeatsPathPrefix}/`);

/** The path as the real provider sees it: ReccoBeats's own `/v1/…`, without the query. */
export const apiPathOf = (request: FastifyRequest): string => {
  const path = request.url.split('?')[0] ?? '';
  return path.startsWith(reccobeatsPathPrefix) ? path.slice(reccobeatsPathPrefix.length) : path;
};
