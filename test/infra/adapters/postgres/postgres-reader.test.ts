import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresReader } from '../../../../infra/adapters/postgres/postgres-reader.js';
import { createTestDatabase, postgresAvailable, postgresUrl } from '../../../support/services.js';

describe('PostgresReader when the server ends its connection', () => {
  it('survives its idle connection being terminated, and answers the next query on a new one', async (context) => {
    if (!(await postgresAvailable())) return context.skip();
    const database = await createTestDatabase('reader_terminated');
    const reader = new PostgresReader(database.url);
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const pidOf = async () => (await reader.read('select pg_backend_pid() as pid')).rows[0]![0];
      const before = await pidOf();
      // A restart or an administrator ends the connection while `chartflow sql` or the report idles.
      await admin.query('select pg_terminate_backend($1)', [before]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await pidOf();
      expect(typeof after).toBe('number');
      expect(after).not.toBe(before);
    } finally {
      await admin.end();
      await reader.close();
      await database.drop();
    }
  });
});
