import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresWarehouse } from '../../../../infra/adapters/postgres/postgres-warehouse.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { describeWarehouseContract } from '../../../shared/ports/warehouse.contract.js';
import { createTestDatabase, postgresAvailable, postgresUrl } from '../../../support/services.js';

describeWarehouseContract('PostgresWarehouse', async () => {
  if (!(await postgresAvailable())) return undefined;
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-pg-'));
  const store = new FsObjectStore({ root: path.join(home, 'lake') });
  const database = await createTestDatabase('warehouse_contract');
  const warehouse = new PostgresWarehouse(database.url, store);
  return {
    warehouse,
    store,
    cleanup: async () => {
      await warehouse.close();
      await database.drop();
      await rm(home, { recursive: true, force: true });
    },
  };
});

describe('PostgresWarehouse when the server ends its connections', () => {
  it('survives an idle connection the server terminates, and answers the next query on a new one', async (context) => {
    if (!(await postgresAvailable())) return context.skip();
    const home = await mkdtemp(path.join(tmpdir(), 'chartflow-pg-'));
    const database = await createTestDatabase('warehouse_terminated');
    const warehouse = new PostgresWarehouse(
      database.url,
      new FsObjectStore({ root: path.join(home, 'lake') }),
    );
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const [before] = await warehouse.query<{ pid: number }>('select pg_backend_pid() as pid');
      // An administrator, a restart or idle_session_timeout ends the pooled connection while it idles:
      // pg reports that on the idle client, which must not become the process's uncaught error.
      await admin.query('select pg_terminate_backend($1)', [before!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [after] = await warehouse.query<{ pid: number }>('select pg_backend_pid() as pid');
      expect(after!.pid).not.toBe(before!.pid);
    } finally {
      await admin.end();
      await warehouse.close();
      await database.drop();
      await rm(home, { recursive: true, force: true });
    }
  });
});
