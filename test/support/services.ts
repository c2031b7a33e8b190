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
      throw new Error(`PostgreSQL is required in CI and is not reachable at ${postgresUrl}`, {
        cause: error,
      });
    }
    console.warn(`Skipping PostgreSQL tests: no server at ${postgresUrl} (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * A fresh PostgreSQL database for one test file, so that files running in parallel never share the
 * fixed-name schemas (`stage`, `marts`…). `drop()` removes it.
 */
export const createTestDatabase = async (label: string): Promise<{ url: string; drop(): Promise<void> }> => {
  const name = `chartflow_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    // A database name cannot be a bound parameter; this one is built from [a-z0-9_] only.
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
};
