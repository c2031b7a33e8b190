import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Mutex } from 'async-mutex';
import { DuckDbWarehouse } from '../../../../infra/adapters/embedded/duckdb-warehouse.js';
import { FsObjectStore } from '../../../../infra/adapters/embedded/fs-object-store.js';
import { describeWarehouseContract } from '../../../shared/ports/warehouse.contract.js';

describeWarehouseContract('DuckDbWarehouse', async () => {
  const home = await mkdtemp(path.join(tmpdir(), 'chartflow-duckdb-'));
  const store = new FsObjectStore({ root: path.join(home, 'lake') });
  const warehouse = new DuckDbWarehouse({
    path: path.join(home, 'warehouse.duckdb'),
    lakeRoot: path.join(home, 'lake'),
    mutex: new Mutex(),
  });
  return { warehouse, store, cleanup: () => rm(home, { recursive: true, force: true }) };
});
