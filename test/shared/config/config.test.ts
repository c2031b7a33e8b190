import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProviderUrls, loadLocalConfig, parseLocalConfig } from '../../../shared/config/config.js';
import { ConfigError } from '../../../shared/errors.js';

const cwd = '/srv/chartflow-work';

const failure = (env: Record<string, string | undefined>): string => {
  try {
    parseLocalConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('parseLocalConfig accepted the environment');
};

const credentials = { SPOTIFY_CLIENT_ID: 'app-id', SPOTIFY_CLIENT_SECRET: 'app-secret' };

describe('Function: parseLocalConfig', () => {
  it('runs the sandbox from ./.chartflow with DuckDB when nothing is set', () => {
    const config = parseLocalConfig({}, cwd);
    expect(config).toEqual({
      home: '/srv/chartflow-work/.chartflow',
      lakeRoot: '/srv/chartflow-work/.chartflow/lake',
      duckdbPath: '/srv/chartflow-work/.chartflow/warehouse.duckdb',
      mode: 'sandbox',
      sandboxAccess: 'extended',
      reccobeats: { apiUrl: 'https://api.reccobeats.com/v1' },
      rateLimits: {
        spotify: { requests: 90, windowMs: 30_000 },
        reccobeats: { requests: 60, windowMs: 30_000 },
      },
      breakers: { failures: 5, budgetMs: 180_000 },
      spotify: undefined,
      chartPlaylists: {},
      warehouse: { kind: 'duckdb' },
      projectRoot: config.projectRoot,
    });
  });

  it('puts everything under CHARTFLOW_HOME, relative to the working directory; blank means the default', () => {
    expect(parseLocalConfig({ CHARTFLOW_HOME: 'data/cf' }, cwd)).toMatchObject({
      home: '/srv/chartflow-work/data/cf',
      lakeRoot: '/srv/chartflow-work/data/cf/lake',
      duckdbPath: '/srv/chartflow-work/data/cf/warehouse.duckdb',
    });
    expect(parseLocalConfig({ CHARTFLOW_HOME: ' /var/lib/cf ' }, cwd).home).toBe('/var/lib/cf');
    expect(parseLocalConfig({ CHARTFLOW_HOME: '   ' }, cwd).home).toBe('/srv/chartflow-work/.chartflow');
  });

  it('calls the real Spotify with the app credentials, live by default then', () => {
    const config = parseLocalConfig({ ...credentials }, cwd);
    expect(config.mode).toBe('live');
    expect(config.spotify).toEqual({
      apiUrl: defaultProviderUrls.spotifyApi,
      accountsUrl: defaultProviderUrls.spotifyAccounts,
      clientId: 'app-id',
      clientSecret: 'app-secret',
    });
    expect(defaultProviderUrls.spotifyApi).toBe('https://api.spotify.com/v1');
    expect(defaultProviderUrls.spotifyAccounts).toBe('https://accounts.spotify.com');
  });

  it('reads the Spotify endpoints the user names, and CHARTFLOW_MODE over the default', () => {
    const config = parseLocalConfig(
      {
        ...credentials,
        SPOTIFY_API_URL: 'http://127.0.0.1:4010/v1',
        SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:4011',
        CHARTFLOW_MODE: 'sandbox',
      },
      cwd,
    );
    expect(config.mode).toBe('sandbox');
    expect(config.spotify).toMatchObject({
      apiUrl: 'http://127.0.0.1:4010/v1',
      accountsUrl: 'http://127.0.0.1:4011',
    });
    expect(parseLocalConfig({ CHARTFLOW_MODE: 'live' }, cwd)).toMatchObject({
      mode: 'live',
      spotify: undefined,
    });
  });

  it('names the credential that is missing when only one is set; blank counts as unset', () => {
    expect(failure({ SPOTIFY_CLIENT_ID: 'app-id' })).toBe(
      'SPOTIFY_CLIENT_SECRET is required when SPOTIFY_CLIENT_ID is set.',
    );
    expect(failure({ SPOTIFY_CLIENT_SECRET: 'app-secret', SPOTIFY_CLIENT_ID: ' ' })).toBe(
      'SPOTIFY_CLIENT_ID is required when SPOTIFY_CLIENT_SECRET is set.',
    );
  });

  it('refuses Spotify endpoints without the credentials to call them', () => {
    const message =
      'SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required when SPOTIFY_API_URL or SPOTIFY_ACCOUNTS_URL is set.';
    expect(failure({ SPOTIFY_API_URL: 'http://127.0.0.1:4010/v1' })).toBe(message);
    expect(failure({ SPOTIFY_ACCOUNTS_URL: 'http://127.0.0.1:4011' })).toBe(message);
  });

  it('reads the chart playlists, and refuses them live without a Spotify app to read them', () => {
    const playlists = ' global=37i9dQZEVXbMDoHDwVN2tF , us-top=37i9dQZEVXbLRQDuF5jeBp,';
    expect(parseLocalConfig({ CHARTFLOW_CHART_PLAYLISTS: playlists }, cwd).chartPlaylists).toEqual({
      global: '37i9dQZEVXbMDoHDwVN2tF',
      'us-top': '37i9dQZEVXbLRQDuF5jeBp',
    });
    expect(
      parseLocalConfig({ ...credentials, CHARTFLOW_CHART_PLAYLISTS: playlists }, cwd).chartPlaylists,
    ).toEqual({ global: '37i9dQZEVXbMDoHDwVN2tF', 'us-top': '37i9dQZEVXbLRQDuF5jeBp' });
    expect(failure({ CHARTFLOW_MODE: 'live', CHARTFLOW_CHART_PLAYLISTS: playlists })).toBe(
      'SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required to read the playlists of CHARTFLOW_CHART_PLAYLISTS.',
    );
    expect(parseLocalConfig({ CHARTFLOW_MODE: 'live' }, cwd).chartPlaylists).toEqual({});
  });

  it('names CHARTFLOW_CHART_PLAYLISTS and the pair that is not chart=playlistId', () => {
    for (const pair of [
      'global',
      '=37i9dQZEVXbMDoHDwVN2tF',
      'global=',
      'Global=37i9dQZEVXbMDoHDwVN2tF',
      'global=37i9dQZ-EVXbMDoHDwVN2tF',
      'x global=37i9dQZEVXbMDoHDwVN2tF',
      'global=37i9dQZEVXbMDoHDwVN2tF x',
    ]) {
      expect(failure({ CHARTFLOW_CHART_PLAYLISTS: `us=37i9dQZEVXbLRQDuF5jeBp,${pair}` })).toBe(
        `CHARTFLOW_CHART_PLAYLISTS is invalid: "${pair}" is not chart=playlistId (chart: a-z, 0-9, -).`,
      );
    }
  });

  it('names the provider URL that is not http(s)', () => {
    for (const name of ['SPOTIFY_API_URL', 'SPOTIFY_ACCOUNTS_URL', 'RECCOBEATS_API_URL']) {
      for (const value of ['ftp://example.com/v1', 'example.com/v1', 'xhttps://example.com']) {
        expect(failure({ ...credentials, [name]: value })).toBe(
          `${name} is invalid: ${name} must be an http(s) URL.`,
        );
      }
    }
  });

  it('reads ReccoBeats: its URL, or off', () => {
    expect(parseLocalConfig({ RECCOBEATS_API_URL: 'http://127.0.0.1:4020/v1' }, cwd).reccobeats).toEqual({
      apiUrl: 'http://127.0.0.1:4020/v1',
    });
    expect(parseLocalConfig({ CHARTFLOW_RECCOBEATS: 'off' }, cwd).reccobeats).toBeUndefined();
    expect(failure({ CHARTFLOW_RECCOBEATS: 'no' })).toMatch(/^CHARTFLOW_RECCOBEATS is invalid: /);
  });

  it('reads the rate limits as requests/seconds, and names the malformed one', () => {
    expect(
      parseLocalConfig({ SPOTIFY_RATE_LIMIT: '10/30', RECCOBEATS_RATE_LIMIT: ' 5/1.5 ' }, cwd).rateLimits,
    ).toEqual({
      spotify: { requests: 10, windowMs: 30_000 },
      reccobeats: { requests: 5, windowMs: 1_500 },
    });
    expect(failure({ RECCOBEATS_RATE_LIMIT: 'fast' })).toMatch(
      /^RECCOBEATS_RATE_LIMIT is invalid: must be requests\/seconds/,
    );
  });

  it('reads the warehouse: DuckDB, or PostgreSQL at CHARTFLOW_PG_URL (a local test database by default)', () => {
    expect(parseLocalConfig({ CHARTFLOW_WAREHOUSE: 'postgres' }, cwd).warehouse).toEqual({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(
      parseLocalConfig(
        { CHARTFLOW_WAREHOUSE: 'postgres', CHARTFLOW_PG_URL: 'postgres://cf@db.internal:5433/charts' },
        cwd,
      ).warehouse,
    ).toEqual({ kind: 'postgres', url: 'postgres://cf@db.internal:5433/charts' });
    expect(
      parseLocalConfig({ CHARTFLOW_PG_URL: 'postgres://cf@db.internal:5433/charts' }, cwd).warehouse,
    ).toEqual({ kind: 'duckdb' });
    expect(failure({ CHARTFLOW_WAREHOUSE: 'postgres', CHARTFLOW_PG_URL: 'not a url' })).toBe(
      'CHARTFLOW_PG_URL is invalid: CHARTFLOW_PG_URL must be a postgres:// URL.',
    );
    expect(failure({ CHARTFLOW_WAREHOUSE: 'sqlite' })).toMatch(/^CHARTFLOW_WAREHOUSE is invalid: /);
  });

  it('reads the sandbox user, and names a mode or access it does not know', () => {
    expect(parseLocalConfig({ CHARTFLOW_SANDBOX_ACCESS: 'none' }, cwd).sandboxAccess).toBe('none');
    expect(failure({ CHARTFLOW_SANDBOX_ACCESS: 'admin' })).toMatch(/^CHARTFLOW_SANDBOX_ACCESS is invalid: /);
    expect(failure({ CHARTFLOW_MODE: 'prod' })).toMatch(/^CHARTFLOW_MODE is invalid: /);
    expect(parseLocalConfig({ CHARTFLOW_MODE: '' }, cwd).mode).toBe('sandbox');
  });
  it('says the environment itself is invalid when it is not a set of variables', () => {
    expect(failure(undefined as never)).toMatch(/^environment is invalid: /);
  });
});

describe('Function: loadLocalConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("parses this process's environment", () => {
    vi.stubEnv('CHARTFLOW_HOME', '/var/lib/chartflow-load');
    vi.stubEnv('CHARTFLOW_WAREHOUSE', 'postgres');
    expect(loadLocalConfig()).toMatchObject({
      home: '/var/lib/chartflow-load',
      warehouse: { kind: 'postgres' },
    });
    vi.stubEnv('CHARTFLOW_MODE', 'prod');
    expect(() => loadLocalConfig()).toThrow(/^CHARTFLOW_MODE is invalid: /);
  });
});
