/**
 * The stage tables, column by column. This one list gives the header of every CSV written for
 * COPY, the stage DDL of every warehouse, and the checks' schema test; dbt's sources describe the
 * same columns.
 */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'double' | 'boolean' | 'date' | 'timestamp';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

const col = (name: string, type: ColumnType, nullable = true): ColumnDef => ({ name, type, nullable });

/** Columns every lake record carries (docs/architecture.md describes the contracts). */
const lineage: readonly ColumnDef[] = [
  col('chart_id', 'text', false),
  col('chart_date', 'date', false),
  col('run_id', 'text', false),
  col('extracted_at', 'timestamp', false),
];

/** Audio features bounded to 0..1 by Spotify's definition; the checks hold them to it. */
export const unitIntervalFeatures = [
  'danceability',
  'energy',
  'speechiness',
  'acousticness',
  'instrumentalness',
  'liveness',
  'valence',
] as const;

export const stageTables = {
  /** One row per chart entry of a day. */
  chart_songs: [
    ...lineage,
    col('position', 'integer', false),
    col('track_id', 'text', false),
    col('track_name', 'text', false),
    col('artist_names', 'text', false),
    col('streams', 'bigint'),
    col('source', 'text', false),
  ],
  /** One row per track looked up for a day; a track that could not be enriched still has its row, with the reason. */
  song_attributes: [
    ...lineage,
    col('track_id', 'text', false),
    col('enrichment_status', 'text', false),
    col('missing_reason', 'text'),
    col('track_name', 'text'),
    col('album_id', 'text'),
    col('album_name', 'text'),
    col('album_type', 'text'),
    col('release_date', 'text'),
    col('release_date_precision', 'text'),
    col('duration_ms', 'integer'),
    col('is_explicit', 'boolean'),
    col('popularity', 'integer'),
    col('isrc', 'text'),
    ...unitIntervalFeatures.map((name) => col(name, 'double')),
    col('loudness', 'double'),
    col('tempo', 'double'),
    col('musical_key', 'integer'),
    col('mode', 'integer'),
    col('time_signature', 'integer'),
    col('metadata_source', 'text'),
    col('popularity_source', 'text'),
    col('features_source', 'text'),
  ],
  /** One row per artist of a track, in the track's order (position 1 is the lead). */
  song_artists: [
    ...lineage,
    col('track_id', 'text', false),
    col('artist_position', 'integer', false),
    col('artist_id', 'text', false),
    col('artist_name', 'text', false),
  ],
} as const satisfies Record<string, readonly ColumnDef[]>;

export type StageTableName = keyof typeof stageTables;

export const stageTableNames = Object.keys(stageTables) as StageTableName[];

/** The stage schema's name, in every warehouse. */
export const stageSchema = 'stage';

/** The column names of a stage table, in CSV order. */
export const columnNames = (table: StageTableName): string[] => stageTables[table].map((c) => c.name);
