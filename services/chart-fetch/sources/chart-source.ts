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
  fetch(chartId: string, chartDate: string): Promise<ChartSnapshot>;
}
