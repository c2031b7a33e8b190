import type { CellValue } from '../../../shared/records/csv.js';
import type { AttributeGroup, MissingKind } from '../../../shared/records/missing-reasons.js';

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
  /**
   * No source could be asked today (a quota, a provider error at every source): the track still
   * gets its row, its groups NULL, and the reason led by its kind; it goes to the backlog.
   */
  | { readonly status: 'missing'; readonly reason: string };

/** A group a track could not get today for a reason worth asking again (`quota`, `provider_error`). */
export interface MissingGap {
  readonly group: AttributeGroup;
  readonly kind: MissingKind;
  /** The reason as the row says it, led by its kind. */
  readonly reason: string;
  /** A quota's Retry-After: asking again before it has passed is pointless. */
  readonly retryAfterMs?: number;
}

/** An answer that failed validation, kept in quarantine with its reason even when other sources filled the gap. */
export interface QuarantinedAnswer {
  readonly trackId: string;
  readonly provider: string;
  readonly reason: string;
  readonly raw: unknown;
}

/**
 * A batch's answers by id, the payloads as received (for the lake), the answers that failed
 * validation, and by id the groups worth asking again later (absent: none).
 */
export interface LookupBatch {
  readonly results: ReadonlyMap<string, TrackLookup>;
  readonly gaps?: ReadonlyMap<string, readonly MissingGap[]>;
  readonly raw: unknown;
  readonly quarantine: readonly QuarantinedAnswer[];
}

/** Where track attributes come from: Spotify's multi-id endpoints, single lookups, ReccoBeats. */
export interface AttributeProvider {
  /**
   * Looks up the ids as of a chart day. A provider's failure (a quota, a 5xx after retries, an open
   * breaker) is not thrown: what it kept from the tracks is in their rows and `gaps`.
   */
  lookup(trackIds: readonly string[], chartDate: string): Promise<LookupBatch>;
}
