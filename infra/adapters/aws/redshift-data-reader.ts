import { PermanentError } from '../../../shared/errors.js';
import type { SqlValue } from '../../../shared/ports/warehouse.js';
import {
  QueryRefusedError,
  type ResultTable,
  type ResultValue,
  type WarehouseReader,
} from '../../../shared/ports/warehouse-reader.js';
import type { RedshiftDataApi } from './redshift-data-api.js';

/**
 * The Redshift warehouse, read only, through the Data API: each query runs alone in a read-only
 * transaction of a Data API session ({@link RedshiftDataApi.readOnly}), as the caller's IAM
 * identity, so Redshift refuses a write with its own words and the caller's grants bound the rest.
 */
export class RedshiftDataReader implements WarehouseReader {
  constructor(
    private readonly api: RedshiftDataApi,
    readonly label: string,
  ) {}

  async read(sql: string, params: Readonly<Record<string, SqlValue>> = {}): Promise<ResultTable> {
    try {
      const { columns, rows } = await this.api.readOnly(sql, { ...params });
      return { columns, rows: rows as ResultValue[][] };
    } catch (error) {
      // A statement Redshift refused (FAILED) is permanent; an unreachable or busy service is not the query's fault.
      if (error instanceof PermanentError && !(error instanceof QueryRefusedError)) {
        throw new QueryRefusedError(error.message, { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {}
}
