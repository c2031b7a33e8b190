/**
 * Timestamps in the lake's CSV files: UTC, `YYYY-MM-DD HH:MM:SS.sss`, no zone suffix, which
 * DuckDB, PostgreSQL and Redshift COPY all read into a timestamp without guessing.
 */
export const csvTimestamp = (at: Date): string => at.toISOString().replace('T', ' ').replace('Z', '');
