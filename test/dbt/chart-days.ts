import type { StageTableName } from '../../shared/records/stage-tables.js';
import type { StageRow } from './test-warehouse.js';

/**
 * Two days of one chart as the stage receives them, and the marts they must produce. Names carry
 * what breaks naive CSV and SQL: commas, quotes, newlines, emoji, right-to-left text.
 */

export const chartId = 'global';

export interface ChartDay {
  readonly date: string;
  readonly runId: string;
  readonly extractedAt: string;
}

export const day1: ChartDay = { date: '2024-03-01', runId: 'run-day-1', extractedAt: '2024-03-01 06:00:00' };
export const day2: ChartDay = { date: '2024-03-02', runId: 'run-day-2', extractedAt: '2024-03-02 06:00:00' };

interface Track {
  readonly id: string;
  readonly name: string;
  readonly artistNames: string;
}

const helloWorld: Track = {
  id: 'trk1',
  name: 'Hello, "World"\nsecond line 🎶',
  artistNames: 'Ana, "Bo" & محمد عبده',
};
const plainSong: Track = { id: 'trk2', name: 'Plain Song', artistNames: 'Cleo' };
const shalom: Track = { id: 'trk3', name: 'שלום עולם', artistNames: 'Dee' };
const newEntry: Track = { id: 'trk4', name: "New Entry (it's 🔥)", artistNames: 'Eve, Ana, "Bo"' };

const metadataColumns = [
  'album_id',
  'album_name',
  'album_type',
  'release_date',
  'release_date_precision',
  'duration_ms',
  'is_explicit',
  'isrc',
  'metadata_source',
] as const;
const featureColumns = [
  'danceability',
  'energy',
  'speechiness',
  'acousticness',
  'instrumentalness',
  'liveness',
  'valence',
  'loudness',
  'tempo',
  'musical_key',
  'mode',
  'time_signature',
  'features_source',
] as const;
const allNull = (columns: readonly string[]): StageRow => Object.fromEntries(columns.map((c) => [c, null]));
const noMetadata = allNull(metadataColumns);
const noFeatures = allNull(featureColumns);

const helloWorldMetadata: StageRow = {
  album_id: 'alb1',
  album_name: 'Album, "One"',
  album_type: 'single',
  release_date: '2023',
  release_date_precision: 'year',
  duration_ms: 201_000,
  is_explicit: true,
  isrc: 'USRC17607839',
  metadata_source: 'spotify',
};
const helloWorldFeatures: StageRow = {
  danceability: 0.81,
  energy: 0.62,
  speechiness: 0.05,
  acousticness: 0.1,
  instrumentalness: 0,
  liveness: 0.12,
  valence: 0.7,
  loudness: -5.5,
  tempo: 118.02,
  musical_key: 5,
  mode: 1,
  time_signature: 4,
  features_source: 'reccobeats',
};
const shalomMetadata: StageRow = {
  album_id: 'alb3',
  album_name: 'אלבום',
  album_type: 'album',
  release_date: '2024-02-14',
  release_date_precision: 'day',
  duration_ms: 180_000,
  is_explicit: false,
  isrc: 'ILA012400001',
  metadata_source: 'spotify',
};
// Day 2 says the album is the deluxe edition: the latest day's metadata wins.
const shalomMetadataDay2: StageRow = { ...shalomMetadata, album_name: 'אלבום (Deluxe)' };
const shalomFeatures: StageRow = {
  danceability: 0.4,
  energy: 0.3,
  speechiness: 0.04,
  acousticness: 0.9,
  instrumentalness: 0.2,
  liveness: 0.1,
  valence: 0.25,
  loudness: -12.25,
  tempo: 72.5,
  musical_key: 0,
  mode: 0,
  time_signature: 3,
  features_source: 'reccobeats',
};
// A track without audio features (ReccoBeats does not know it).
const newEntryMetadata: StageRow = {
  album_id: 'alb4',
  album_name: 'New, Entry',
  album_type: 'single',
  release_date: '2024-03',
  release_date_precision: 'month',
  duration_ms: 150_500,
  is_explicit: true,
  isrc: 'GBUM72400001',
  metadata_source: 'spotify',
};

const artists = {
  ana: { id: 'art1', name: 'Ana, "Bo"' },
  mohammed: { id: 'art2', name: 'محمد عبده' },
  dee: { id: 'art4', name: 'Dee' },
  eve: { id: 'art5', name: 'Eve' },
} as const;

// --- stage row factories -----------------------------------------------------------------------

const lineage = (day: ChartDay, extractedAt = day.extractedAt): StageRow => ({
  chart_id: chartId,
  chart_date: day.date,
  run_id: day.runId,
  extracted_at: extractedAt,
});

const chartSong = (day: ChartDay, position: number, track: Track, streams: number | null): StageRow => ({
  ...lineage(day),
  position,
  track_id: track.id,
  track_name: track.name,
  artist_names: track.artistNames,
  streams,
  source: 'sandbox-playlist',
});

const enriched = (
  day: ChartDay,
  track: Track,
  popularity: number,
  attributes: StageRow,
  extractedAt?: string,
): StageRow => ({
  ...lineage(day, extractedAt),
  track_id: track.id,
  enrichment_status: 'ok',
  missing_reason: null,
  track_name: track.name,
  popularity,
  popularity_source: 'reccobeats',
  ...attributes,
});

const notEnriched = (day: ChartDay, track: Track, status: string, reason: string): StageRow => ({
  ...lineage(day),
  track_id: track.id,
  enrichment_status: status,
  missing_reason: reason,
});

const credit = (
  day: ChartDay,
  track: Track,
  position: number,
  artist: { id: string; name: string },
  extractedAt?: string,
): StageRow => ({
  ...lineage(day, extractedAt),
  track_id: track.id,
  artist_position: position,
  artist_id: artist.id,
  artist_name: artist.name,
});

export type StageBatch = Readonly<Record<StageTableName, readonly StageRow[]>>;

/** Day 1: three tracks; one could not be enriched; a redelivered message duplicates rows. */
export const day1Stage: StageBatch = {
  chart_songs: [
    chartSong(day1, 1, helloWorld, 1_000_000),
    chartSong(day1, 2, plainSong, 800_000),
    chartSong(day1, 3, shalom, 500_000),
  ],
  song_attributes: [
    enriched(day1, helloWorld, 90, { ...helloWorldMetadata, ...helloWorldFeatures }),
    // the same message redelivered later, with a fresher popularity: this one counts
    enriched(day1, helloWorld, 91, { ...helloWorldMetadata, ...helloWorldFeatures }, '2024-03-01 06:05:00'),
    notEnriched(day1, plainSong, 'dead_lettered', 'Spotify 429: Retry-After 86400'),
    enriched(day1, shalom, 70, { ...shalomMetadata, ...shalomFeatures }),
  ],
  song_artists: [
    credit(day1, helloWorld, 1, artists.ana),
    credit(day1, helloWorld, 2, artists.mohammed),
    credit(day1, shalom, 1, artists.dee),
    credit(day1, shalom, 1, artists.dee, '2024-03-01 06:07:00'),
  ],
};

/**
 * Day 2: Plain Song leaves the chart, New Entry enters, Shalom climbs and its album becomes the
 * deluxe edition, Hello World's lookup fails, Dee is renamed Dee Dee.
 */
export const day2Stage: StageBatch = {
  chart_songs: [
    chartSong(day2, 1, shalom, 1_200_000),
    chartSong(day2, 2, helloWorld, 900_000),
    chartSong(day2, 3, newEntry, null),
  ],
  song_attributes: [
    enriched(day2, shalom, 75, { ...shalomMetadataDay2, ...shalomFeatures }),
    notEnriched(day2, helloWorld, 'not_found', 'track lookup answered 404'),
    enriched(day2, newEntry, 50, { ...newEntryMetadata, ...noFeatures }),
  ],
  song_artists: [
    credit(day2, shalom, 1, { ...artists.dee, name: 'Dee Dee' }),
    credit(day2, newEntry, 1, artists.eve),
    credit(day2, newEntry, 2, artists.ana),
  ],
};

/** A day whose chart has a position 0: the staging tests must stop the run. */
export const badDayStage: StageBatch = {
  chart_songs: [
    chartSong({ date: '2024-03-03', runId: 'run-day-3', extractedAt: '2024-03-03 06:00:00' }, 0, shalom, 1),
  ],
  song_attributes: [],
  song_artists: [],
};

// --- the marts they must produce ---------------------------------------------------------------

/** Where an entry stands in its chart run (the fact's run columns). */
interface ChartRun {
  readonly previous_position: number | null;
  readonly positions_moved: number | null;
  readonly is_new_entry: boolean;
  readonly is_re_entry: boolean;
  readonly first_charted_date: string;
  readonly last_charted_date: string | null;
  readonly days_on_chart: number;
  readonly total_days_on_chart: number;
  readonly chart_run_number: number;
}

/** A new entry, or the day after one at `previous`. */
const newEntryRun = (day: ChartDay): ChartRun => ({
  previous_position: null,
  positions_moved: null,
  is_new_entry: true,
  is_re_entry: false,
  first_charted_date: day.date,
  last_charted_date: null,
  days_on_chart: 1,
  total_days_on_chart: 1,
  chart_run_number: 1,
});
const nextDayRun = (previousDay: ChartDay, previous: number, position: number): ChartRun => ({
  previous_position: previous,
  positions_moved: previous - position,
  is_new_entry: false,
  is_re_entry: false,
  first_charted_date: previousDay.date,
  last_charted_date: previousDay.date,
  days_on_chart: 2,
  total_days_on_chart: 2,
  chart_run_number: 1,
});

const entry = (
  day: ChartDay,
  track: Track,
  position: number,
  streams: number | null,
  popularity: number | null,
  run: ChartRun,
) => ({
  chart_id: chartId,
  chart_date: day.date,
  track_id: track.id,
  position,
  streams,
  popularity,
  ...run,
  run_id: day.runId,
});

export const fctDay1 = [
  entry(day1, helloWorld, 1, 1_000_000, 91, newEntryRun(day1)),
  entry(day1, plainSong, 2, 800_000, null, newEntryRun(day1)),
  entry(day1, shalom, 3, 500_000, 70, newEntryRun(day1)),
];
export const fctDay2 = [
  entry(day2, shalom, 1, 1_200_000, 75, nextDayRun(day1, 3, 1)),
  entry(day2, helloWorld, 2, 900_000, null, nextDayRun(day1, 1, 2)),
  entry(day2, newEntry, 3, null, 50, newEntryRun(day2)),
];

const dimTrack = (
  track: Track,
  metadata: StageRow & { as_of: string | null },
  features: StageRow & { as_of: string | null },
  firstSeen: ChartDay,
  lastSeen: ChartDay,
) => {
  const { as_of: metadataAsOf, ...metadataValues } = metadata;
  const { as_of: featuresAsOf, ...featureValues } = features;
  return {
    track_id: track.id,
    track_name: track.name,
    ...metadataValues,
    metadata_as_of_date: metadataAsOf,
    ...featureValues,
    features_as_of_date: featuresAsOf,
    first_seen_date: firstSeen.date,
    last_seen_date: lastSeen.date,
    run_id: lastSeen.runId,
  };
};

export const dimTracksAfterDay1 = [
  dimTrack(
    helloWorld,
    { ...helloWorldMetadata, as_of: day1.date },
    { ...helloWorldFeatures, as_of: day1.date },
    day1,
    day1,
  ),
  dimTrack(plainSong, { ...noMetadata, as_of: null }, { ...noFeatures, as_of: null }, day1, day1),
  dimTrack(
    shalom,
    { ...shalomMetadata, as_of: day1.date },
    { ...shalomFeatures, as_of: day1.date },
    day1,
    day1,
  ),
];
export const dimTracksAfterDay2 = [
  // day 2's lookup failed: day 1's attributes stay
  dimTrack(
    helloWorld,
    { ...helloWorldMetadata, as_of: day1.date },
    { ...helloWorldFeatures, as_of: day1.date },
    day1,
    day2,
  ),
  dimTrack(plainSong, { ...noMetadata, as_of: null }, { ...noFeatures, as_of: null }, day1, day1),
  dimTrack(
    shalom,
    { ...shalomMetadataDay2, as_of: day2.date },
    { ...shalomFeatures, as_of: day2.date },
    day1,
    day2,
  ),
  dimTrack(newEntry, { ...newEntryMetadata, as_of: day2.date }, { ...noFeatures, as_of: null }, day2, day2),
];

/** A version of an artist (SCD2): valid from `from` until `to` (exclusive), last seen on `lastSeen`. */
const dimArtist = (
  artist: { id: string; name: string },
  from: ChartDay,
  to: ChartDay | null,
  lastSeen: ChartDay,
) => ({
  artist_id: artist.id,
  artist_name: artist.name,
  valid_from: from.date,
  valid_to: to?.date ?? null,
  is_current: to === null,
  last_seen_date: lastSeen.date,
  run_id: lastSeen.runId,
});

export const dimArtistsAfterDay1 = [
  dimArtist(artists.ana, day1, null, day1),
  dimArtist(artists.mohammed, day1, null, day1),
  dimArtist(artists.dee, day1, null, day1),
];
// Dee is renamed Dee Dee on day 2: a new version, and the old one is kept, closed on day 2.
export const dimArtistsAfterDay2 = [
  dimArtist(artists.ana, day1, null, day2),
  dimArtist(artists.mohammed, day1, null, day1),
  dimArtist(artists.dee, day1, day2, day1),
  dimArtist({ ...artists.dee, name: 'Dee Dee' }, day2, null, day2),
  dimArtist(artists.eve, day2, null, day2),
];

const dimAlbum = (metadata: StageRow, releasedOn: string | null, asOf: ChartDay, firstSeen: ChartDay) => ({
  album_id: metadata.album_id,
  album_name: metadata.album_name,
  album_type: metadata.album_type,
  release_date: metadata.release_date,
  release_date_precision: metadata.release_date_precision,
  released_on: releasedOn,
  metadata_as_of_date: asOf.date,
  first_seen_date: firstSeen.date,
  last_seen_date: asOf.date,
  run_id: asOf.runId,
});

// Years and months become their first day. Hello World's day 2 lookup failed: its album stays as of day 1.
export const dimAlbumsAfterDay2 = [
  dimAlbum(helloWorldMetadata, '2023-01-01', day1, day1),
  dimAlbum(shalomMetadataDay2, '2024-02-14', day2, day1),
  dimAlbum(newEntryMetadata, '2024-03-01', day2, day2),
];

const credits = (track: Track, asOf: ChartDay, ...credited: { id: string }[]) =>
  credited.map((artist, index) => ({
    track_id: track.id,
    artist_position: index + 1,
    artist_id: artist.id,
    is_lead_artist: index === 0,
    credits_as_of_date: asOf.date,
    run_id: asOf.runId,
  }));

export const bridgeAfterDay2 = [
  ...credits(helloWorld, day1, artists.ana, artists.mohammed),
  ...credits(shalom, day2, artists.dee),
  ...credits(newEntry, day2, artists.eve, artists.ana),
];
