import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ConfigError } from '../errors.js';
import { rateLimitSetting, type RateLimit } from '../http/rate-limiter.js';

/** A variable that may be unset or blank: both mean "not given". */
export const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** An http(s) URL; the message names the variable. */
export const url = (name: string) =>
  z.url({ message: `${name} must be an http(s) URL` }).refine((value) => /^https?:\/\//.test(value), {
    message: `${name} must be an http(s) URL`,
  });

/** `chart=playlist,chart=playlist` → a map; chart ids are what the lake's `chart=` partitions hold. */
export const chartPlaylists = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const map: Record<string, string> = {};
    for (const pair of value.split(',').filter(Boolean)) {
      const [chart, playlist] = pair.split('=').map((s) => s.trim());
      if (!chart || !playlist || !/^[a-z0-9-]+$/.test(chart) || !/^[A-Za-z0-9]+$/.test(playlist)) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not chart=playlistId (chart: a-z, 0-9, -)` });
        return z.NEVER;
      }
      map[chart] = playlist;
    }
    return map;
  });

/** A whole number of at least 1 from a variable; unset or blank means `fallback`. The message names the variable. */
export const positiveWholeNumber = (name: string, fallback: number) =>
  optionalText.pipe(
    z.coerce
      .number<string>({ message: `${name} must be a whole number` })
      .int({ message: `${name} must be a whole number` })
      .min(1, { message: `${name} must be at least 1` })
      .default(fallback),
  );

/**
 * The circuit breakers' settings (docs/reliability.md, "Failing providers"): failed attempts in a
 * row that switch an endpoint off, and the seconds of trouble it may cost first.
 */
export const breakerVariables = {
  CHARTFLOW_BREAKER_FAILURES: positiveWholeNumber('CHARTFLOW_BREAKER_FAILURES', 5),
  CHARTFLOW_ENDPOINT_BUDGET_SECONDS: positiveWholeNumber('CHARTFLOW_ENDPOINT_BUDGET_SECONDS', 180),
};

/** The breakers' settings, as the clients take them. */
export interface BreakerConfig {
  readonly failures: number;
  readonly budgetMs: number;
}

export const breakerConfigOf = (e: {
  CHARTFLOW_BREAKER_FAILURES: number;
  CHARTFLOW_ENDPOINT_BUDGET_SECONDS: number;
}): BreakerConfig => ({
  failures: e.CHARTFLOW_BREAKER_FAILURES,
  budgetMs: e.CHARTFLOW_ENDPOINT_BUDGET_SECONDS * 1_000,
});

const environmentSchema = z.object({
  CHARTFLOW_HOME: optionalText,
  SPOTIFY_CLIENT_ID: optionalText,
  SPOTIFY_CLIENT_SECRET: optionalText,
  SPOTIFY_API_URL: optionalText.pipe(url('SPOTIFY_API_URL').optional()),
  SPOTIFY_ACCOUNTS_URL: optionalText.pipe(url('SPOTIFY_ACCOUNTS_URL').optional()),
  CHARTFLOW_CHART_PLAYLISTS: optionalText.pipe(chartPlaylists.optional()),
  CHARTFLOW_WAREHOUSE: z.enum(['duckdb', 'postgres']).default('duckdb'),
  CHARTFLOW_PG_URL: optionalText.pipe(
    z.url({ message: 'CHARTFLOW_PG_URL must be a postgres:// URL' }).optional(),
  ),
  CHARTFLOW_MODE: optionalText.pipe(z.enum(['sandbox', 'live']).optional()),
  CHARTFLOW_SANDBOX_ACCESS: z.enum(['extended', 'development', 'none']).default('extended'),
  RECCOBEATS_API_URL: optionalText.pipe(url('RECCOBEATS_API_URL').optional()),
  CHARTFLOW_RECCOBEATS: z.enum(['on', 'off']).default('on'),
  SPOTIFY_RATE_LIMIT: optionalText.pipe(rateLimitSetting.optional()),
  RECCOBEATS_RATE_LIMIT: optionalText.pipe(rateLimitSetting.optional()),
  ...breakerVariables,
});

/**
 * Default limits, per rolling window. Spotify counts over 30 seconds and publishes no number;
 * ReccoBeats publishes none either. These stay well below what either has been seen to allow.
 */
export const defaultRateLimits: Readonly<Record<'spotify' | 'reccobeats', RateLimit>> = {
  spotify: { requests: 90, windowMs: 30_000 },
  reccobeats: { requests: 60, windowMs: 30_000 },
};

/** Where the real providers answer when no URL is configured. */
export const defaultProviderUrls = {
  spotifyApi: 'https://api.spotify.com/v1',
  spotifyAccounts: 'https://accounts.spotify.com',
  reccobeatsApi: 'https://api.reccobeats.com/v1',
} as const;

/** Where the Spotify API is and who we are to it. */
export interface SpotifyConfig {
  readonly apiUrl: string;
  readonly accountsUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The configuration of a chartflow process on one machine. */
export interface LocalConfig {
  /** Everything the pipeline keeps: the lake, the warehouse file, run records. */
  readonly home: string;
  readonly lakeRoot: string;
  readonly duckdbPath: string;
  /**
   * `sandbox` (the default without Spotify credentials) serves Spotify and ReccoBeats from the
   * in-process sandbox; `live` calls the real services: Spotify with the app's credentials (if any:
   * without an app, charts come from Spotify Charts files and attributes from ReccoBeats).
   */
  readonly mode: 'sandbox' | 'live';
  /** The user the sandbox plays: an app with extended access, one in Development Mode, or no Spotify app at all. */
  readonly sandboxAccess: 'extended' | 'development' | 'none';
  /** ReccoBeats' base URL, or `undefined` when it is turned off. */
  readonly reccobeats: { readonly apiUrl: string } | undefined;
  readonly rateLimits: Readonly<Record<'spotify' | 'reccobeats', RateLimit>>;
  /** When a provider endpoint is switched off for the rest of the run. */
  readonly breakers: BreakerConfig;
  /** The Spotify app, when credentials are configured. */
  readonly spotify: SpotifyConfig | undefined;
  /** Playlist id per chart id, when the user names their own; the sandbox knows its own. */
  readonly chartPlaylists: Readonly<Record<string, string>>;
  readonly warehouse: { readonly kind: 'duckdb' } | { readonly kind: 'postgres'; readonly url: string };
  /** The repository root: dbt's project and the virtualenv live there. */
  readonly projectRoot: string;
}

/**
 * The repository root, found from this module upwards: it runs from its source (tests, tsx) and
 * bundled into dist/ (bin/build.js), at different depths.
 */
const findProjectRoot = (from: string): string => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'dbt', 'dbt_project.yml'))) return dir;
    if (path.dirname(dir) === dir) throw new ConfigError(`no chartflow repository above ${from}.`);
  }
};

/**
 * Parses the environment once, failing fast with the variable's name. Nothing else reads
 * `process.env`: what a process needs is passed down from here.
 */
export const parseLocalConfig = (
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): LocalConfig => {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${variable} is invalid: ${issue.message}.`);
  }
  const e = parsed.data;
  const home = path.resolve(cwd, e.CHARTFLOW_HOME ?? '.chartflow');

  const hasId = e.SPOTIFY_CLIENT_ID !== undefined;
  const hasSecret = e.SPOTIFY_CLIENT_SECRET !== undefined;
  if (hasId !== hasSecret) {
    const missing = hasId ? 'SPOTIFY_CLIENT_SECRET' : 'SPOTIFY_CLIENT_ID';
    throw new ConfigError(
      `${missing} is required when ${hasId ? 'SPOTIFY_CLIENT_ID' : 'SPOTIFY_CLIENT_SECRET'} is set.`,
    );
  }
  if (!hasId && (e.SPOTIFY_API_URL || e.SPOTIFY_ACCOUNTS_URL)) {
    throw new ConfigError(
      'SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required when SPOTIFY_API_URL or SPOTIFY_ACCOUNTS_URL is set.',
    );
  }
  const spotify =
    // Stryker disable next-line LogicalOperator: hasId === hasSecret here (a mismatch threw above), so && and || agree
    hasId && hasSecret
      ? {
          apiUrl: e.SPOTIFY_API_URL ?? defaultProviderUrls.spotifyApi,
          accountsUrl: e.SPOTIFY_ACCOUNTS_URL ?? defaultProviderUrls.spotifyAccounts,
          clientId: e.SPOTIFY_CLIENT_ID!,
          clientSecret: e.SPOTIFY_CLIENT_SECRET!,
        }
      : undefined;
  const mode = e.CHARTFLOW_MODE ?? (spotify ? 'live' : 'sandbox');
  if (e.CHARTFLOW_CHART_PLAYLISTS && mode === 'live' && !spotify) {
    throw new ConfigError(
      'SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required to read the playlists of CHARTFLOW_CHART_PLAYLISTS.',
    );
  }

  const warehouse =
    e.CHARTFLOW_WAREHOUSE === 'postgres'
      ? { kind: 'postgres' as const, url: e.CHARTFLOW_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' }
      : { kind: 'duckdb' as const };

  return {
    home,
    lakeRoot: path.join(home, 'lake'),
    duckdbPath: path.join(home, 'warehouse.duckdb'),
    mode,
    sandboxAccess: e.CHARTFLOW_SANDBOX_ACCESS,
    reccobeats:
      e.CHARTFLOW_RECCOBEATS === 'off'
        ? undefined
        : { apiUrl: e.RECCOBEATS_API_URL ?? defaultProviderUrls.reccobeatsApi },
    rateLimits: {
      spotify: e.SPOTIFY_RATE_LIMIT ?? defaultRateLimits.spotify,
      reccobeats: e.RECCOBEATS_RATE_LIMIT ?? defaultRateLimits.reccobeats,
    },
    breakers: breakerConfigOf(e),
    spotify,
    chartPlaylists: e.CHARTFLOW_CHART_PLAYLISTS ?? {},
    warehouse,
    projectRoot: findProjectRoot(path.dirname(fileURLToPath(import.meta.url))),
  };
};

/** The configuration of this process, parsed from its environment. */
export const loadLocalConfig = (): LocalConfig => parseLocalConfig(process.env);
