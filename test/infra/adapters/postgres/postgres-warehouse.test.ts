import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PostgresWarehouse } from '../../../../infra/adapters/postgres/postgres-warehouse.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { describeWarehouseContract } from '../../../shared/ports/warehouse.contract.js';
import { createTestDatabase, postgresAvailable } from '../../../support/services.js';

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
