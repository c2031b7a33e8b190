import { describe, expect, it } from 'vitest';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { stageTableNames } from '../../../shared/records/stage-tables.js';
import { stageSlices, uniqueSlices } from '../../../shared/transform/stage-slices.js';

const slice = (runId: string, chartId: string, chartDate: string) => ({ runId, chartId, chartDate });

describe('Function: uniqueSlices', () => {
  it('keeps each slice once, in the order first seen, and tells apart slices that differ in any part', () => {
    const slices = [
      slice('run-00000002', 'global', '2026-11-18'),
      slice('run-00000001', 'global', '2026-11-18'),
      slice('run-00000002', 'global', '2026-11-18'),
      slice('run-00000001', 'us', '2026-11-18'),
      slice('run-00000001', 'global', '2026-11-19'),
      slice('run-00000001', 'us', '2026-11-18'),
    ];
    expect(uniqueSlices(slices)).toEqual([
      slice('run-00000002', 'global', '2026-11-18'),
      slice('run-00000001', 'global', '2026-11-18'),
      slice('run-00000001', 'us', '2026-11-18'),
      slice('run-00000001', 'global', '2026-11-19'),
    ]);
  });
});

describe('Function: stageSlices', () => {
  it('finds every slice any stage table holds, each once', async () => {
    const queries: string[] = [];
    const warehouse = {
      ensureStage: async () => undefined,
      query: async (sql: string) => {
        queries.push(sql);
        const table = stageTableNames.findIndex((t) => sql.endsWith(`.${t}`));
        // Every table holds the first run's slice; each holds a run of its own too.
        return [
          { run_id: 'run-00000001', chart_id: 'global', chart_date: '2026-11-18' },
          { run_id: `run-0000010${table}`, chart_id: 'global', chart_date: '2026-11-18' },
        ];
      },
    } as unknown as Warehouse;
    expect(await stageSlices(warehouse)).toEqual([
      slice('run-00000001', 'global', '2026-11-18'),
      ...stageTableNames.map((_, i) => slice(`run-0000010${i}`, 'global', '2026-11-18')),
    ]);
    expect(queries).toHaveLength(stageTableNames.length);
  });
});
