import { STATUS_CODES } from 'node:http';

/**
 * The sandbox's refusals, in each provider's error shape. They are the server's answers, not
 * errors of chartflow's (those live in shared/errors.ts): a hook or handler throws one and the
 * error handler writes its status, headers and body as they are.
 */
export class ProviderAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(`HTTP ${status}`, options);
    this.name = 'ProviderAnswerError';
  }
}

/**
 * Spotify's Web API error object, `{"error":{"status":N,"message":"…"}}`. The message is left out
 * when Spotify sends none (the audio-features 403 of a restricted app is `{"error":{"status":403}}`);
 * `extra` adds fields such as `reason`.
 */
export const spotifyError = (
  status: number,
  message: string | undefined,
  options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
): ProviderAnswerError =>
  new ProviderAnswerError(
    status,
    { error: { status, ...(message === undefined ? {} : { message }), ...options.extra } },
    options.headers,
  );

/**
 * ReccoBeats's error body. Its documentation shows none; its list answers are Spring Data pages
 * (`{"content":[…]}`), so its errors are taken to be Spring Boot's default error attributes:
 * `{"timestamp","status","error","message","path"}`, the path being the API's own (`/v1/…`).
 */
export const reccobeatsError = (
  status: number,
  at: Date,
  path: string,
  message: string,
  options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
): ProviderAnswerError =>
  new ProviderAnswerError(
    status,
    {
      timestamp: at.toISOString(),
      status,
      error: STATUS_CODES[status] ?? 'Error',
      message,
      path,
      ...options.extra,
    },
    options.headers,
  );
