import {
  kindReason,
  kindsOf,
  leadingKind,
  reasonSeparator,
  retryableKinds,
  type AttributeGroup,
  type MissingKind,
} from '../../../shared/records/missing-reasons.js';
import type { CachedTrack } from './attribute-cache.js';
import type {
  AttributeColumns,
  LookupBatch,
  MissingGap,
  QuarantinedAnswer,
  TrackArtist,
  TrackLookup,
} from './attribute-provider.js';

/** Why a lookup failed, with its kind (and a quota's Retry-After). */
export interface LookupFailure {
  readonly kind: MissingKind;
  readonly reason: string;
  readonly retryAfterMs?: number;
}

/** What the day's lookups learned of one track, group by group, each with where it came from. */
export interface TrackKnowledge {
  metadata?: { columns: AttributeColumns; source: string; artists: TrackArtist[]; fetchedOn: string };
  popularity?: { value: number; source: string };
  /** Artist names as of the day, by artist id, from the day's answers (names change; ids do not). */
  artistNames?: Map<string, string>;
  features?: { columns: AttributeColumns; source: string; fetchedOn: string };
  /** Every source said it has no features for the track (cached, so it is not asked daily). */
  featuresMissing?: { reason: string; fetchedOn: string; learnedToday: boolean };
  /** Why a group is missing, each reason led by its kind (shared/records/missing-reasons.ts). */
  missing: string[];
  /** The groups worth asking again later (a quota, a provider error), for the backlog. */
  gaps: MissingGap[];
  /** The preferred source of metadata failed for the track (another may still have answered). */
  failed?: LookupFailure;
  notFound?: string;
  /** The provider's answer for the track failed validation: why, and the answer. */
  invalid?: { reason: string; raw: unknown };
}

/**
 * A track no source has features for is asked again after this many days, not daily: sources do
 * add tracks, but rarely within weeks.
 */
export const featuresRecheckDays = 30;

const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/**
 * One `lookup()` call: the ids asked (each once), the chart day they are asked as of, what the
 * passes learned of each so far, every answer as received, and the answers quarantined. The passes
 * read and write it instead of threading five arguments through each other; it starts from what
 * the attribute cache already knows and ends as the batch's results and the cache's new entries.
 */
export class LookupSession {
  /** Every answer as received, by endpoint (`spotify_tracks`, `reccobeats_audio_features`…), for the lake. */
  readonly raw: Record<string, unknown[]> = {};
  readonly quarantine: QuarantinedAnswer[] = [];
  readonly #known: Map<string, TrackKnowledge>;
  /**
   * What Spotify said of a track's audio features when it gave none (it has none, the call failed,
   * the answer was invalid, the endpoint is closed): said first when the track ends without them.
   */
  readonly #spotifyFeaturesNotes = new Map<string, LookupFailure>();

  constructor(
    readonly ids: readonly string[],
    readonly chartDate: string,
    private readonly cached: ReadonlyMap<string, CachedTrack>,
  ) {
    this.#known = new Map(ids.map((id) => [id, { missing: [], gaps: [] }]));
    for (const [id, entry] of cached) {
      const k = this.of(id);
      if (entry.metadata) k.metadata = { ...entry.metadata };
      if (entry.features) k.features = { ...entry.features };
      // An absence is trusted for a while, then asked again (`featuresRecheckDays`).
      if (
        entry.featuresMissing &&
        daysBetween(entry.featuresMissing.fetchedOn, chartDate) < featuresRecheckDays
      ) {
        k.featuresMissing = { ...entry.featuresMissing, learnedToday: false };
      }
    }
  }

  /** What is known of one of the session's ids. */
  of(id: string): TrackKnowledge {
    return this.#known.get(id)!;
  }

  /** The session's ids, in order, whose knowledge passes the test. */
  idsWhere(test: (k: TrackKnowledge) => boolean): string[] {
    return this.ids.filter((id) => test(this.of(id)));
  }

  /** Tracks known to exist whose audio features are neither known nor known to be absent. */
  needingFeatures(): string[] {
    return this.idsWhere((k) => !k.features && !k.featuresMissing && k.metadata !== undefined);
  }

  /** Keeps answers as received under their endpoint (an arrow, so that it can be handed on). */
  readonly keep = (endpoint: string, answers: readonly unknown[]): void => {
    (this.raw[endpoint] ??= []).push(...answers);
  };

  /** Keeps an answer that failed validation, with why, whatever else the track gets. */
  quarantineAnswer(trackId: string, provider: string, reason: string, raw: unknown): void {
    this.quarantine.push({ trackId, provider, reason, raw });
  }

  /**
   * Records that a group goes without today, the reason led by its kind; a reason worth asking
   * again later is also a gap, for the backlog.
   */
  miss(id: string, group: AttributeGroup, failure: LookupFailure): void {
    const k = this.of(id);
    const reason = kindReason(failure.kind, failure.reason);
    k.missing.push(reason);
    if (retryableKinds.includes(failure.kind)) {
      k.gaps.push({
        group,
        kind: failure.kind,
        reason,
        ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      });
    }
  }

  /** What Spotify said of a track's audio features when it gave none; an absence unless told otherwise. */
  noteSpotifyFeatures(id: string, note: string, failure?: Omit<LookupFailure, 'reason'>): void {
    // Stryker disable next-line StringLiteral: the note's kind is read only by missFeatures, whose leadingKind also gets the last source's kind, at least 'not_found': a note without a failure never leads
    this.#spotifyFeaturesNotes.set(id, { kind: 'not_found', ...failure, reason: note });
  }

  spotifyFeaturesNote(id: string): string | undefined {
    return this.#spotifyFeaturesNotes.get(id)?.reason;
  }

  /**
   * Records that a track goes without audio features today, Spotify's note first; returns the
   * reason (without its kind). The kind is the most actionable of Spotify's and the last source's:
   * when either failed, the absence is not known.
   */
  missFeatures(id: string, why: string, failure?: Omit<LookupFailure, 'reason'>): string {
    const before = this.#spotifyFeaturesNotes.get(id);
    const reason = `no audio features: ${before ? `${before.reason}, then ` : ''}${why}`;
    // Stryker disable next-line StringLiteral: the other kind of the two is always a real one (at least 'not_found'), so an empty default never leads
    const kind = leadingKind([before?.kind ?? 'not_found', failure?.kind ?? 'not_found'])!;
    const retryAfterMs = failure?.retryAfterMs ?? before?.retryAfterMs;
    // Stryker disable next-line ConditionalExpression: an undefined retryAfterMs handed to miss gives the gap no retryAfterMs either (miss leaves it out)
    this.miss(id, 'features', { kind, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    return reason;
  }

  /** Every source asked has no features for the track: cached, so that it is not asked daily. */
  learnFeaturesAbsent(id: string, reason: string): void {
    this.of(id).featuresMissing = { reason, fetchedOn: this.chartDate, learnedToday: true };
  }

  /** Tracks every source already said it has no features for: the reason, as it was recorded then. */
  recallKnownAbsences(): void {
    for (const id of this.ids) {
      const k = this.of(id);
      if (!k.features && k.featuresMissing && !k.featuresMissing.learnedToday) {
        // Reasons cached before kinds were recorded have none: a known absence is `not_found`.
        const { reason } = k.featuresMissing;
        k.missing.push(kindsOf(reason).length ? reason : kindReason('not_found', reason));
      }
    }
  }

  /** The batch's answer: a row per id, the answers as received, the quarantined ones, and the gaps. */
  results(): LookupBatch {
    const results = new Map<string, TrackLookup>();
    const gaps = new Map<string, MissingGap[]>();
    for (const id of this.ids) {
      const k = this.of(id);
      results.set(id, toLookup(k));
      const all = [...metadataGaps(k), ...k.gaps];
      if (all.length) gaps.set(id, all);
    }
    return { results, gaps, raw: this.raw, quarantine: this.quarantine };
  }

  /**
   * The cache entries that learned something new today. A track with a gap is left out: what it
   * got instead (ReccoBeats' metadata when Spotify failed, an absence of features one source could
   * not confirm) is not what a healthy day would keep, and its next lookup asks again.
   */
  cacheUpdates(): CachedTrack[] {
    return this.ids.flatMap((id) => {
      const k = this.of(id);
      if (metadataGaps(k).length || k.gaps.length) return [];
      const before = this.cached.get(id);
      const newMetadata = k.metadata && !before?.metadata;
      const newFeatures = k.features && !before?.features;
      const newAbsence = k.featuresMissing?.learnedToday === true;
      if (!newMetadata && !newFeatures && !newAbsence) return [];
      return [
        {
          trackId: id,
          ...(k.metadata ? { metadata: { ...k.metadata, columns: jsonColumns(k.metadata.columns) } } : {}),
          ...(k.features ? { features: { ...k.features, columns: jsonColumns(k.features.columns) } } : {}),
          ...(k.featuresMissing && !k.features
            ? {
                featuresMissing: { reason: k.featuresMissing.reason, fetchedOn: k.featuresMissing.fetchedOn },
              }
            : {}),
        },
      ];
    });
  }
}

/** The gap a failed metadata lookup leaves: none when it was not worth asking again. */
const metadataGaps = (k: TrackKnowledge): MissingGap[] => {
  if (!k.failed && !(k.invalid && !k.metadata)) return [];
  const failure = k.failed ?? { kind: 'provider_error' as const, reason: k.invalid!.reason };
  const reason = kindReason(failure.kind, metadataFailure(k, failure));
  return [
    {
      group: 'metadata',
      kind: failure.kind,
      reason,
      ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    },
  ];
};

/** Why the track's metadata is not the preferred source's: it failed, and what stood in, if anything. */
const metadataFailure = (k: TrackKnowledge, failure: LookupFailure): string =>
  k.metadata ? `metadata from ${k.metadata.source}: ${failure.reason}` : failure.reason;

/** A track's row: each group with its source, and why any group is missing, each reason led by its kind. */
const toLookup = (k: TrackKnowledge): TrackLookup => {
  if (!k.metadata) {
    const join = (first: string) => [first, ...k.missing].join(reasonSeparator);
    if (k.failed) return { status: 'missing', reason: join(kindReason(k.failed.kind, k.failed.reason)) };
    if (k.invalid) {
      return {
        status: 'quarantined',
        reason: kindReason('provider_error', k.invalid.reason),
        raw: k.invalid.raw,
      };
    }
    return {
      status: 'not_found',
      reason: join(kindReason('not_found', k.notFound ?? 'no source knows this track')),
    };
  }
  const missing = [...(k.failed ? metadataGaps(k).map((g) => g.reason) : []), ...k.missing];
  if (!k.popularity && !missing.some((m) => m.includes('no popularity')))
    missing.push(kindReason('not_found', 'no popularity'));
  const artists = k.metadata.artists.map((a) => ({
    artistId: a.artistId,
    artistName: k.artistNames?.get(a.artistId) ?? a.artistName,
  }));
  return {
    status: 'ok',
    attributes: attributeColumnsOf(k.metadata, k.popularity, k.features, missing),
    artists,
  };
};

const noColumns: AttributeColumns = {};

/**
 * A track's attribute columns, every one named, in `stage.song_attributes` order (a group not
 * known is `undefined`: an empty cell). Written out rather than spread from the groups' columns:
 * an object spread from two others of thirty columns becomes a slow dictionary, which cost a
 * one-year backfill more than a second here and again in every row made from it (docs/benchmark.md).
 */
const attributeColumnsOf = (
  metadata: NonNullable<TrackKnowledge['metadata']>,
  popularity: TrackKnowledge['popularity'],
  features: TrackKnowledge['features'],
  missing: readonly string[],
): AttributeColumns => {
  const m = metadata.columns;
  const f = features?.columns ?? noColumns;
  return {
    missing_reason: missing.length ? missing.join(reasonSeparator) : null,
    track_name: m.track_name,
    album_id: m.album_id,
    album_name: m.album_name,
    album_type: m.album_type,
    release_date: m.release_date,
    release_date_precision: m.release_date_precision,
    duration_ms: m.duration_ms,
    is_explicit: m.is_explicit,
    popularity: popularity?.value ?? null,
    isrc: m.isrc,
    danceability: f.danceability,
    energy: f.energy,
    speechiness: f.speechiness,
    acousticness: f.acousticness,
    instrumentalness: f.instrumentalness,
    liveness: f.liveness,
    valence: f.valence,
    loudness: f.loudness,
    tempo: f.tempo,
    musical_key: f.musical_key,
    mode: f.mode,
    time_signature: f.time_signature,
    metadata_source: metadata.source,
    popularity_source: popularity?.source ?? null,
    features_source: features?.source ?? null,
  };
};

/** Columns as JSON keeps them: an absent value is a null. */
const jsonColumns = (columns: AttributeColumns): Record<string, string | number | boolean | null> =>
  Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v ?? null]));
