import type { CachedTrack } from './attribute-cache.js';
import type {
  AttributeColumns,
  LookupBatch,
  QuarantinedAnswer,
  TrackArtist,
  TrackLookup,
} from './attribute-provider.js';

/** What the day's lookups learned of one track, group by group, each with where it came from. */
export interface TrackKnowledge {
  metadata?: { columns: AttributeColumns; source: string; artists: TrackArtist[]; fetchedOn: string };
  popularity?: { value: number; source: string };
  /** Artist names as of the day, by artist id, from the day's answers (names change; ids do not). */
  artistNames?: Map<string, string>;
  features?: { columns: AttributeColumns; source: string; fetchedOn: string };
  /** Every source said it has no features for the track (cached, so it is not asked daily). */
  featuresMissing?: { reason: string; fetchedOn: string; learnedToday: boolean };
  /** Why a group is missing, or a lookup failed. */
  missing: string[];
  failed?: string;
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
  readonly #spotifyFeaturesNotes = new Map<string, string>();

  constructor(
    readonly ids: readonly string[],
    readonly chartDate: string,
    private readonly cached: ReadonlyMap<string, CachedTrack>,
  ) {
    this.#known = new Map(ids.map((id) => [id, { missing: [] }]));
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

  noteSpotifyFeatures(id: string, note: string): void {
    this.#spotifyFeaturesNotes.set(id, note);
  }

  spotifyFeaturesNote(id: string): string | undefined {
    return this.#spotifyFeaturesNotes.get(id);
  }

  /** Records that a track goes without audio features today, Spotify's note first; returns the reason. */
  missFeatures(id: string, why: string): string {
    const before = this.#spotifyFeaturesNotes.get(id);
    const reason = `no audio features: ${before ? `${before}; ` : ''}${why}`;
    this.of(id).missing.push(reason);
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
      if (!k.features && k.featuresMissing && !k.featuresMissing.learnedToday)
        k.missing.push(k.featuresMissing.reason);
    }
  }

  /** The batch's answer: a row per id, the answers as received, and the quarantined ones. */
  results(): LookupBatch {
    const results = new Map<string, TrackLookup>(this.ids.map((id) => [id, toLookup(this.of(id))]));
    return { results, raw: this.raw, quarantine: this.quarantine };
  }

  /** The cache entries that learned something new today. */
  cacheUpdates(): CachedTrack[] {
    return this.ids.flatMap((id) => {
      const k = this.of(id);
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

/** A track's row: each group with its source, and why any group is missing. */
const toLookup = (k: TrackKnowledge): TrackLookup => {
  if (!k.metadata) {
    if (k.failed) return { status: 'failed', reason: k.failed };
    if (k.invalid) return { status: 'quarantined', reason: k.invalid.reason, raw: k.invalid.raw };
    return {
      status: 'not_found',
      reason: [k.notFound ?? 'no source knows this track', ...k.missing].join('; '),
    };
  }
  const missing = [...k.missing];
  if (!k.popularity && !missing.some((m) => m.startsWith('no popularity'))) missing.push('no popularity');
  const artists = k.metadata.artists.map((a) => ({
    artistId: a.artistId,
    artistName: k.artistNames?.get(a.artistId) ?? a.artistName,
  }));
  return {
    status: 'ok',
    attributes: {
      ...k.metadata.columns,
      metadata_source: k.metadata.source,
      popularity: k.popularity?.value ?? null,
      popularity_source: k.popularity?.source ?? null,
      ...(k.features?.columns ?? {}),
      features_source: k.features?.source ?? null,
      missing_reason: missing.length ? missing.join('; ') : null,
    },
    artists,
  };
};

/** Columns as JSON keeps them: an absent value is a null. */
const jsonColumns = (columns: AttributeColumns): Record<string, string | number | boolean | null> =>
  Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v ?? null]));
