import type { StageSlice, Warehouse } from '../ports/warehouse.js';
import { stageSchema, stageTableNames } from '../records/stage-tables.js';

/**
 * Every slice the stage holds, whatever the run records say: after an interruption, or a clean-up
 * that never came, rows may be there that no unfinished record names. Read by the local recovery
 * (infra/local/recovery.ts) and by the reconciler (docs/reliability.md, "The reconciler").
 */
export const stageSlices = async (warehouse: Warehouse): Promise<StageSlice[]> => {
  await warehouse.ensureStage();
  const found: StageSlice[] = [];
  for (const table of stageTableNames) {
    const rows = await warehouse.query<{ run_id: string; chart_id: string; chart_date: string }>(
      `select distinct run_id, chart_id, cast(chart_date as varchar) as chart_date from ${stageSchema}.${table}`,
    );
    found.push(...rows.map((r) => ({ runId: r.run_id, chartId: r.chart_id, chartDate: r.chart_date })));
  }
  return uniqueSlices(found);
};

/** The slices, each once, in the order first seen. */
export const uniqueSlices = (slices: readonly StageSlice[]): StageSlice[] => [
  ...new Map(
    slices.map(({ runId, chartId, chartDate }) => [
      `${runId}/${chartId}/${chartDate}`,
      { runId, chartId, chartDate },
    ]),
  ).values(),
];
