import type { ObjectStore } from '../../../shared/ports/object-store.js';
import type { StageSlice, Warehouse } from '../../../shared/ports/warehouse.js';
import { toStageCsv, type CellValue } from '../../../shared/records/csv.js';

type Rows = ReadonlyArray<Record<string, CellValue>>;

/** Writes a slice's rows as the three stage CSVs under `<runId>/` and loads them into the stage. */
export const stageSlice = async (
  store: ObjectStore,
  warehouse: Pick<Warehouse, 'loadStage'>,
  slice: StageSlice,
  rows: { chart_songs: Rows; song_attributes: Rows; song_artists: Rows },
): Promise<void> => {
  const files = {
    chart_songs: `${slice.runId}/chart.csv`,
    song_attributes: `${slice.runId}/attributes.csv`,
    song_artists: `${slice.runId}/artists.csv`,
  };
  await store.put(files.chart_songs, toStageCsv('chart_songs', rows.chart_songs));
  await store.put(files.song_attributes, toStageCsv('song_attributes', rows.song_attributes));
  await store.put(files.song_artists, toStageCsv('song_artists', rows.song_artists));
  await warehouse.loadStage({
    ...slice,
    files: {
      chart_songs: [files.chart_songs],
      song_attributes: [files.song_attributes],
      song_artists: [files.song_artists],
    },
  });
};
