/**
 * Spotify Charts CSV files as the two sites write them, for tests. The shapes follow real downloads:
 * charts.spotify.com starts with a UTF-8 BOM, quotes the text columns and the streams and leaves the
 * other numbers bare (`1,"spotify:track:…","Ryan Castro, Kapo","LA VILLA","AWOO Corp.",1,1,9,"1989059"`);
 * spotifycharts.com wrote a note line, then `Position,"Track Name",Artist,Streams,URL`, quoting only
 * cells that need it (`3,SAD!,XXXTENTACION,28909080,https://open.spotify.com/track/…`).
 */

import type { Catalog, ChartId } from '../../../../infra/sandbox/catalog.js';

/** One chart row; what a real file has beyond chartflow's columns is filled in plausibly. */
export interface ChartsCsvRowSpec {
  readonly trackId: string;
  readonly trackName: string;
  readonly artistNames: string;
  readonly streams?: number | null;
  /** Defaults to the row's place (1-based). */
  readonly rank?: number | string;
  /** The whole `uri` / `URL` cell, to write a broken one. */
  readonly link?: string;
}

/**
 * The sandbox's chart of a day, as a Spotify Charts file would list it: streams falling from
 * `topStreams` by `step` a place.
 */
export const sandboxChartRows = (
  catalog: Catalog,
  chartId: ChartId,
  date: string,
  streams: { readonly topStreams: number; readonly step: number },
): ChartsCsvRowSpec[] =>
  catalog.chartFor(chartId, date).map((trackId, i) => {
    const track = catalog.track(trackId)!;
    return {
      trackId,
      trackName: track.name,
      artistNames: track.artistIds.map((a) => catalog.artistName(a, date)).join(', '),
      streams: streams.topStreams - i * streams.step,
    };
  });

export interface ChartsCsvOptions {
  /** Line ends between records (names keep their own). */
  readonly eol?: '\r\n' | '\n';
}

const quote = (cell: string) => `"${cell.replace(/"/g, '""')}"`;
// spotifycharts.com quoted a cell only when it had to (or had a space, as "In My Feelings" was).
const quoteIfNeeded = (cell: string) => (/[\s,"]/.test(cell) ? quote(cell) : cell);

const streamsOf = (row: ChartsCsvRowSpec, index: number) =>
  row.streams === null ? '' : String(row.streams ?? 5_000_000 - index * 7_919);

/** A charts.spotify.com file (`rank,uri,artist_names,track_name,source,…`), BOM included. */
export const currentChartsCsv = (
  rows: readonly ChartsCsvRowSpec[],
  options: ChartsCsvOptions & { readonly period?: 'daily' | 'weekly'; readonly bom?: boolean } = {},
): string => {
  const eol = options.eol ?? '\r\n';
  const onChart = options.period === 'weekly' ? 'weeks_on_chart' : 'days_on_chart';
  const header = `rank,uri,artist_names,track_name,source,peak_rank,previous_rank,${onChart},streams`;
  const lines = rows.map((row, i) => {
    const rank = String(row.rank ?? i + 1);
    return [
      rank,
      quote(row.link ?? `spotify:track:${row.trackId}`),
      quote(row.artistNames),
      quote(row.trackName),
      quote(i % 2 ? 'Columbia' : 'Rimas Entertainment LLC.'),
      String(Math.max(1, i - 2)),
      i % 5 === 4 ? '-1' : String(i + 2),
      String(3 + i),
      quote(streamsOf(row, i)),
    ].join(',');
  });
  return `${options.bom === false ? '' : '\uFEFF'}${[header, ...lines].join(eol)}${eol}`;
};

/** The note spotifycharts.com put above the header of its files. */
export const legacyNoteLine =
  ',,,"Note that these figures are generated using a formula that protects against any artificial inflation of chart positions.",';

/** A spotifycharts.com file (`Position,"Track Name",Artist,Streams,URL`), with its note line unless told. */
export const legacyChartsCsv = (
  rows: readonly ChartsCsvRowSpec[],
  options: ChartsCsvOptions & { readonly note?: boolean } = {},
): string => {
  const eol = options.eol ?? '\n';
  const lines = rows.map((row, i) =>
    [
      String(row.rank ?? i + 1),
      quoteIfNeeded(row.trackName),
      quoteIfNeeded(row.artistNames),
      streamsOf(row, i),
      row.link ?? `https://open.spotify.com/track/${row.trackId}`,
    ].join(','),
  );
  const head = options.note === false ? [] : [legacyNoteLine];
  return [...head, 'Position,"Track Name",Artist,Streams,URL', ...lines].join(eol) + eol;
};

/** A 22-character id shaped like Spotify's, distinct for each number. */
export const fakeTrackId = (n: number): string => `Trk${String(n).padStart(19, '0')}`;
