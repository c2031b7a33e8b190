import { parse } from 'csv-parse/sync';
import * as z from 'zod';
import { describeIssues, InvalidRecordError } from '../../../shared/errors.js';
import type { ChartDay } from '../../../shared/records/messages.js';
import type { ChartEntry, ChartSnapshot } from './chart-source.js';
import { parseChartsFileName, type ChartsFileIdentity } from './spotify-charts-csv-file-name.js';

/**
 * The column sets of Spotify Charts downloads:
 * - `current-daily`, `current-weekly`: charts.spotify.com, with a UTF-8 BOM; the text columns and
 *   the streams are quoted; `uri` is `spotify:track:<id>`; `artist_names` joins the artists with ", ";
 *   `source` is the label. Daily and weekly files differ only in `days_on_chart` / `weeks_on_chart`.
 * - `legacy`: spotifycharts.com (the site before charts.spotify.com), `Position,"Track Name",Artist,Streams,URL`
 *   with `URL` = `https://open.spotify.com/track/<id>`, most often under a note line
 *   (`,,,"Note that these figures are generated using a formula that protects against any
 *   artificial inflation of chart positions.",`).
 */
export const chartsCsvHeaders = {
  'current-daily': [
    'rank',
    'uri',
    'artist_names',
    'track_name',
    'source',
    'peak_rank',
    'previous_rank',
    'days_on_chart',
    'streams',
  ],
  'current-weekly': [
    'rank',
    'uri',
    'artist_names',
    'track_name',
    'source',
    'peak_rank',
    'previous_rank',
    'weeks_on_chart',
    'streams',
  ],
  legacy: ['Position', 'Track Name', 'Artist', 'Streams', 'URL'],
} as const;

export type ChartsCsvLayout = keyof typeof chartsCsvHeaders;

/** What a Spotify Charts file holds: its layout, its usable entries, and the rows it skipped with why. */
export interface ParsedChartsCsv {
  readonly layout: ChartsCsvLayout;
  readonly entries: readonly ChartEntry[];
  readonly skipped: ChartSnapshot['skipped'];
}

/** A skipped row as it is kept in quarantine: where it was, and its cells exactly as read. */
export interface ChartsCsvRawRow {
  readonly file: string;
  /** The row's place among the file's data rows (1 is the first row under the header). */
  readonly row: number;
  readonly header: readonly string[];
  readonly cells: readonly string[];
}

const rank = z
  .string()
  .regex(/^[1-9][0-9]*$/, 'not a positive whole number')
  .transform(Number);
// Real files have plain digits (quoted in today's files, bare in the older ones): no separators.
// An empty cell is a stream count the file does not give.
const streams = z
  .string()
  // A minus sign is a number we could read, but no stream count: say so, not "not a whole number".
  .refine((value) => !/^-[0-9]+$/.test(value.trim()), { message: 'must not be negative', abort: true })
  .regex(/^[0-9]*$/, 'not a whole number')
  .transform((value) => (value === '' ? null : Number(value)))
  .refine((value) => value === null || Number.isSafeInteger(value), 'too large');
const trackUri = z
  .string()
  .regex(/^spotify:track:[A-Za-z0-9]{22}$/, 'not a spotify:track:<22-character id> URI')
  .transform((uri) => uri.slice('spotify:track:'.length));
const trackUrl = z
  .string()
  .regex(
    /^https?:\/\/open\.spotify\.com\/track\/[A-Za-z0-9]{22}(?:[?#].*)?$/,
    'not an https://open.spotify.com/track/<22-character id> URL',
  )
  .transform((url) => /\/track\/([A-Za-z0-9]{22})/.exec(url)![1]!);

/** A row in chartflow's terms, whatever the layout. Names are kept exactly as written. */
interface ChartsCsvRow {
  readonly rank: number;
  readonly trackId: string;
  readonly trackName: string;
  readonly artistNames: string;
  readonly streams: number | null;
}

const currentRow = z
  .object({ rank, uri: trackUri, artist_names: z.string(), track_name: z.string(), streams })
  .transform((r): ChartsCsvRow => ({
    rank: r.rank,
    trackId: r.uri,
    trackName: r.track_name,
    artistNames: r.artist_names,
    streams: r.streams,
  }));
const legacyRow = z
  .object({ Position: rank, 'Track Name': z.string(), Artist: z.string(), Streams: streams, URL: trackUrl })
  .transform((r): ChartsCsvRow => ({
    rank: r.Position,
    trackId: r.URL,
    trackName: r['Track Name'],
    artistNames: r.Artist,
    streams: r.Streams,
  }));
const rowSchemas: Record<ChartsCsvLayout, z.ZodType<ChartsCsvRow, Record<string, string>>> = {
  'current-daily': currentRow,
  'current-weekly': currentRow,
  legacy: legacyRow,
};

const layoutOf = (cells: readonly string[]): ChartsCsvLayout | undefined =>
  (Object.keys(chartsCsvHeaders) as ChartsCsvLayout[]).find((layout) => {
    const expected = chartsCsvHeaders[layout];
    // Stryker disable next-line OptionalChaining: the length check before it makes every i a cell the CSV parser filled with a string, so cells[i] is never undefined
    return cells.length === expected.length && expected.every((name, i) => cells[i]?.trim() === name);
  });

// A line above the header that says something about the figures: at most one cell has text.
const isNoteLine = (cells: readonly string[]) => cells.filter((c) => c.trim() !== '').length <= 1;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a Spotify Charts CSV file (either layout, see {@link chartsCsvHeaders}). The header is
 * found, not assumed: note lines above it are passed over. Each row is validated; a row that fails
 * (no track id, a rank that is not a positive whole number or does not follow the rank before it,
 * streams that are not a whole number, cells that do not match the header) is skipped with a
 * reason starting with `invalid`, so that chart-fetch quarantines it, and the rest of the file goes
 * through. A track listed twice keeps its first place.
 *
 * Positions are dense, 1..N over the rows kept, in the file's order, as the pipeline's checks
 * require: when no row is skipped they are exactly the file's ranks. A skipped row's `position`
 * is its place among the file's data rows.
 *
 * @param where names the file in errors and in the quarantined rows.
 * @throws {InvalidRecordError} naming the file if it is not UTF-8 CSV, or its header is neither layout.
 */
export const parseChartsCsv = (body: string | Uint8Array, where: string): ParsedChartsCsv => {
  let records: string[][];
  try {
    const text = typeof body === 'string' ? body : decoder.decode(body);
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw new InvalidRecordError(`"${where}" is not a readable CSV file: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const headerIndex = records.findIndex((cells) => !isNoteLine(cells));
  const header = records[headerIndex];
  const layout = header && layoutOf(header);
  if (!header || !layout) {
    const found = header ? `"${header.join(',')}"` : 'no header at all';
    throw new InvalidRecordError(
      `"${where}" is not a Spotify Charts file: its header is ${found}, expected "${chartsCsvHeaders['current-daily'].join(',')}" ` +
        `(or weeks_on_chart for a weekly chart) or "${chartsCsvHeaders.legacy.join(',')}"`,
    );
  }

  const columns = chartsCsvHeaders[layout];
  const entries: ChartEntry[] = [];
  const skipped: { position: number; reason: string; raw: ChartsCsvRawRow }[] = [];
  const seen = new Set<string>();
  let lastRank = 0;
  records.slice(headerIndex + 1).forEach((cells, index) => {
    const row = index + 1;
    const skip = (reason: string) =>
      skipped.push({ position: row, reason, raw: { file: where, row, header, cells } });
    if (cells.length !== columns.length) {
      return skip(`invalid row: ${cells.length} cells where the header has ${columns.length}`);
    }
    const parsed = rowSchemas[layout].safeParse(Object.fromEntries(columns.map((c, i) => [c, cells[i]!])));
    if (!parsed.success) return skip(`invalid row: ${describeIssues(parsed.error.issues)}`);
    const entry = parsed.data;
    // Positions follow the file's order, so that order must be the ranks' (it is, in every real
    // file); a row out of order (files pasted together, a re-sorted export) would take a wrong place.
    if (entry.rank <= lastRank) {
      return skip(`invalid rank: ${entry.rank} does not follow rank ${lastRank} above it`);
    }
    lastRank = entry.rank;
    if (seen.has(entry.trackId)) return skip(`duplicate of ${entry.trackId}: its first position is kept`);
    seen.add(entry.trackId);
    entries.push({
      position: entries.length + 1,
      trackId: entry.trackId,
      trackName: entry.trackName,
      artistNames: entry.artistNames,
      streams: entry.streams,
    });
  });
  return { layout, entries, skipped };
};

/** A Spotify Charts file read as one day of one chart. */
export interface ChartsCsvFile {
  readonly identity: ChartsFileIdentity;
  readonly day: ChartDay;
  readonly layout: ChartsCsvLayout;
  /** `source` is `spotify-charts-csv:<file name>`; `raw` is the file's bytes as received. */
  readonly snapshot: ChartSnapshot;
}

/** The source name recorded on every row of a chart read from a Spotify Charts file. */
export const chartsCsvSourceName = 'spotify-charts-csv';

/**
 * Reads a Spotify Charts file: the chart and the day from its name ({@link parseChartsFileName}),
 * the entries from its contents ({@link parseChartsCsv}).
 *
 * @throws {InvalidRecordError} naming the file if its name or its header is not a Spotify Charts
 *   file's, or if its header says daily and its name weekly (or the other way round).
 */
export const readChartsCsvFile = (
  fileName: string,
  body: string | Uint8Array,
  options: { readonly latestDate?: string } = {},
): ChartsCsvFile => {
  const identity = parseChartsFileName(fileName, options);
  const parsed = parseChartsCsv(body, fileName);
  if (parsed.layout !== 'legacy' && parsed.layout !== `current-${identity.period}`) {
    throw new InvalidRecordError(
      `"${fileName}" is named as a ${identity.period} chart, but its header is a ${parsed.layout.slice('current-'.length)} chart's`,
    );
  }
  return {
    identity,
    day: { chartId: identity.chartId, chartDate: identity.chartDate },
    layout: parsed.layout,
    snapshot: {
      source: `${chartsCsvSourceName}:${identity.inboxFileName}`,
      entries: parsed.entries,
      skipped: parsed.skipped,
      raw: body,
    },
  };
};
