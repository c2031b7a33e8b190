import type { LocalConfig } from '../../shared/config/config.js';

/** The dbt profile's variables for the configured warehouse (dbt/profiles.yml reads them). */
export const dbtProfileEnv = (config: LocalConfig): Record<string, string> => {
  if (config.warehouse.kind === 'duckdb') return { CHARTFLOW_DUCKDB_PATH: config.duckdbPath };
  const url = new URL(config.warehouse.url);
  return {
    CHARTFLOW_PG_HOST: url.hostname,
    CHARTFLOW_PG_PORT: url.port || '5432',
    CHARTFLOW_PG_USER: decodeURIComponent(url.username || 'postgres'),
    CHARTFLOW_PG_PASSWORD: decodeURIComponent(url.password),
    CHARTFLOW_PG_DATABASE: url.pathname.replace(/^\//, '') || 'postgres',
  };
};
