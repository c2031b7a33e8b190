import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { AccessTokens } from './access-tokens.js';
import type { ProviderPluginOptions } from './provider-plugin.js';

/**
 * Spotify's accounts service: `POST /api/token`, the client credentials flow. Its errors are
 * OAuth's (`{"error","error_description"}`), not the Web API's.
 */

export interface AccountsOptions extends ProviderPluginOptions {
  /** The only client credentials the token endpoint accepts. */
  readonly credentials: { readonly clientId: string; readonly clientSecret: string };
  readonly tokens: AccessTokens;
  readonly tokenTtlSeconds: number;
}

const tokenFormSchema = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const parseBasicAuth = (header: string | undefined): { id: string; secret: string } | undefined => {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
};

/** The grant and the client, from HTTP Basic auth or the form (Spotify takes either). */
const tokenRequestOf = (request: FastifyRequest) => {
  const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  // Anything but a form reads as an empty one: it names no grant.
  const form = tokenFormSchema.safeParse(isForm ? request.body : {});
  const body = form.success ? form.data : {};
  const basic = parseBasicAuth(request.headers.authorization);
  return {
    grantType: body.grant_type,
    id: basic?.id ?? body.client_id,
    secret: basic?.secret ?? body.client_secret,
  };
};

export const accountsPlugin: FastifyPluginAsync<AccountsOptions> = async (app, options) => {
  const { credentials, tokens, tokenTtlSeconds, clock, guardOf } = options;

  app.post('/api/token', guardOf('token'), async (request, reply) => {
    const { grantType, id, secret } = tokenRequestOf(request);
    if (grantType === undefined) {
      return reply
        .code(400)
        .send({ error: 'unsupported_grant_type', error_description: 'grant_type parameter is missing' });
    }
    if (grantType !== 'client_credentials') {
      return reply.code(400).send({
        error: 'unsupported_grant_type',
        error_description: 'grant_type must be client_credentials (the only flow the sandbox supports)',
      });
    }
    if (id !== credentials.clientId) {
      return reply.code(400).send({ error: 'invalid_client', error_description: 'Invalid client' });
    }
    if (secret !== credentials.clientSecret) {
      return reply.code(400).send({ error: 'invalid_client', error_description: 'Invalid client secret' });
    }
    const accessToken = tokens.issue(clock.now().getTime(), tokenTtlSeconds);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: tokenTtlSeconds };
  });
};
