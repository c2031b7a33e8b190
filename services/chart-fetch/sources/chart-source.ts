/** One entry of a day's chart, normalized. */
export interface ChartEntry {
  readonly position: number;
  readonly trackId: string;
  readonly trackName: string;
  /** As displayed: the artists' names joined with ", ". */
  readonly artistNames: string;
  readonly streams: number | null;
}

/** A source's answer for one day: the entries, what it skipped and why, and the payload as received. */
export interface ChartSnapshot {
  /** Where the entries came from, recorded on every row (`spotify-playlist:<id>`, `sandbox-playlist:<id>`). */
  readonly source: string;
  readonly entries: readonly ChartEntry[];
  readonly skipped: readonly { readonly position: number; readonly reason: string; readonly raw: unknown }[];
  /** Exactly what the source returned, kept in the lake. */
  readonly raw: unknown;
}

/** Where a chart comes from: a playlist, Spotify Charts files, the sandbox. */
export interface ChartSource {
  /**
   * The source can only tell today's chart (UTC): a Spotify playlist is what it holds now, so
   * asking it for a past day would store today's entries under that day (docs/reliability.md,
   * "Playlists capture only today"). Unset: the source has history (chart files, the sandbox).
   */
  readonly onlyToday?: boolean;
  fetch(chartId: string, chartDate: string): Promise<ChartSnapshot>;
}

/** Why a source that captures only today refuses another day, and where history comes from instead. */
export const onlyTodayRefusal = (chartDate: string, today: string): string =>
  `${chartDate} is not today (${today} UTC), and a playlist captures only today: reading it now would store ` +
  `today's playlist as the chart of ${chartDate}. Load past days from Spotify Charts CSV files with "chartflow ingest"`;
