import type { CellValue } from '../../../shared/records/csv.js';

/** A track's attributes, as columns of `stage.song_attributes` (lineage and status excluded). */
export type AttributeColumns = Record<string, CellValue>;

/** One artist of a track, in the track's order. */
export interface TrackArtist {
  readonly artistId: string;
  readonly artistName: string;
}

/** What a lookup learned of one track id. */
export type TrackLookup =
  | { readonly status: 'ok'; readonly attributes: AttributeColumns; readonly artists: readonly TrackArtist[] }
  /** The provider does not know the id: a permanent answer, recorded with its reason. */
  | { readonly status: 'not_found'; readonly reason: string }
  /** The provider's answer for the id failed validation: kept in quarantine, recorded with its reason. */
  | { readonly status: 'quarantined'; readonly reason: string; readonly raw: unknown }
  /** The lookup itself failed (5xx, network): worth another delivery. */
  | { readonly status: 'failed'; readonly reason: string };

/** An answer that failed validation, kept in quarantine with its reason even when other sources filled the gap. */
export interface QuarantinedAnswer {
  readonly trackId: string;
  readonly provider: string;
  readonly reason: string;
  readonly raw: unknown;
}

/** A batch's answers by id, the payloads as received (for the lake), and the answers that failed validation. */
export interface LookupBatch {
  readonly results: ReadonlyMap<string, TrackLookup>;
  readonly raw: unknown;
  readonly quarantine: readonly QuarantinedAnswer[];
}

/** Where track attributes come from: Spotify's multi-id endpoints, single lookups, ReccoBeats. */
export interface AttributeProvider {
  /** Looks up the ids as of a chart day. Throws `RateLimitedError` to hand the whole batch back. */
  lookup(trackIds: readonly string[], chartDate: string): Promise<LookupBatch>;
}
