import pg from 'pg';

/**
 * Whether the PostgreSQL server the tests use is reachable. In CI a missing server is a failure;
 * elsewhere the tests that need it skip, and say why.
 */
export const postgresUrl = process.env.CHARTFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const postgresAvailable = async (): Promise<boolean> => {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (error) {
    if (process.env.CI) {
      throw new Error(`PostgreSQL is required in CI and is not reachable at ${postgresUrl}`, { cause: error });
    }
    console.warn(`Skipping PostgreSQL tests: no server at ${postgresUrl} (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};
