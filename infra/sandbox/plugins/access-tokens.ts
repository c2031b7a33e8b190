import { randomBytes } from 'node:crypto';

/** Why a bearer token is refused, in Spotify's words. */
export type TokenRefusal = 'No token provided' | 'Invalid access token' | 'The access token expired';

/** The bearer tokens the accounts service has issued, until they expire. */
export class AccessTokens {
  readonly #expiries = new Map<string, number>();

  /** A new token, valid for `ttlSeconds` from `nowMs`; expired ones are forgotten on the way. */
  issue(nowMs: number, ttlSeconds: number): string {
    for (const [token, expiresAt] of this.#expiries) if (expiresAt <= nowMs) this.#expiries.delete(token);
    const accessToken = `BQ${randomBytes(60).toString('base64url')}`;
    this.#expiries.set(accessToken, nowMs + ttlSeconds * 1000);
    return accessToken;
  }

  /** Why an `Authorization` header does not authorize a request at `nowMs`, or `undefined` when it does. */
  refusalOf(authorization: string | undefined, nowMs: number): TokenRefusal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return 'No token provided';
    const expiresAt = this.#expiries.get(match[1] as string);
    if (expiresAt === undefined) return 'Invalid access token';
    if (expiresAt <= nowMs) return 'The access token expired';
    return undefined;
  }
}
