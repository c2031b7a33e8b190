import { describeIssues, ProviderRejectedError } from '../../../shared/errors.js';
import type { AttributeCache, CachedTrack } from './attribute-cache.js';
import { reccobeatsLimits, type ReccoBeatsClient } from '../../../shared/reccobeats/reccobeats-client.js';
import {
  reccobeatsAudioFeaturesSchema,
  reccobeatsTrackSchema,
  spotifyIdOfHref,
  type ReccoBeatsAudioFeatures,
  type ReccoBeatsTrack,
} from '../../../shared/reccobeats/schemas.js';
import type { SpotifyAccess } from '../../../shared/spotify/access.js';
import {
  audioFeaturesSchema,
  trackSchema,
  type AudioFeatures,
  type SpotifyTrack,
} from '../../../shared/spotify/schemas.js';
import { spotifyLimits, type SpotifyClient } from '../../../shared/spotify/spotify-client.js';
import { unitIntervalFeatures } from '../../../shared/records/stage-tables.js';
import type {
  AttributeColumns,
  AttributeProvider,
  LookupBatch,
  QuarantinedAnswer,
  TrackArtist,
  TrackLookup,
} from './attribute-provider.js';
import { bisectBatch, isEndpointError } from './bisect.js';

export interface AttributeEnricherOptions {
  readonly cache: AttributeCache;
  /** Absent for a user with no Spotify app: charts come from files, attributes from ReccoBeats. */
  readonly spotify?: SpotifyClient;
  /** What the Spotify app may call, learned once per process. */
  readonly access: SpotifyAccess;
  /** Absent when the user turned ReccoBeats off. */
  readonly reccobeats?: ReccoBeatsClient;
}

/** What the day's lookups learned of one track, group by group, each with where it came from. */
interface Knowledge {
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

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * Track attributes from every source the user has, cheapest first, each group of fields with its
 * provenance:
 * - what never changes (metadata, artists' ids, audio features) comes from the lake's cache when
 *   the track was seen before, so a day with 10 new tracks among 200 looks up about 10;
 * - popularity, which changes, is looked up daily: Spotify's multi-id `/tracks` (extended access,
 *   which also brings metadata and today's artist names), else ReccoBeats' `/track`;
 * - metadata of new tracks: the same multi-id answer, or single `/tracks/{id}` lookups when
 *   multi-id lookups are closed (Development Mode), or ReccoBeats without a Spotify app;
 * - audio features of new tracks: Spotify's `/audio-features` where open, else ReccoBeats.
 * Results are matched by id, never by position. A closed endpoint is learned once and never asked
 * again; what a run could not get is stated on its rows, and the run goes on.
 */
export class AttributeEnricher implements AttributeProvider {
  constructor(private readonly options: AttributeEnricherOptions) {}

  async lookup(trackIds: readonly string[], chartDate: string): Promise<LookupBatch> {
    const ids = [...new Set(trackIds)];
    const cached = await this.options.cache.read(ids);
    const known = new Map<string, Knowledge>(ids.map((id) => [id, { missing: [] }]));
    const raw: Record<string, unknown[]> = {};
    const quarantine: QuarantinedAnswer[] = [];
    const keep = (endpoint: string, answers: readonly unknown[]) => (raw[endpoint] ??= []).push(...answers);

    for (const [id, entry] of cached) {
      const k = known.get(id)!;
      if (entry.metadata) k.metadata = { ...entry.metadata };
      if (entry.features) k.features = { ...entry.features };
      if (
        entry.featuresMissing &&
        daysBetween(entry.featuresMissing.fetchedOn, chartDate) < featuresRecheckDays
      ) {
        k.featuresMissing = { ...entry.featuresMissing, learnedToday: false };
      }
    }

    await this.#spotifyTracks(ids, chartDate, known, keep, quarantine);
    await this.#spotifySingleTracks(ids, chartDate, known, keep, quarantine);
    await this.#reccobeatsTracks(ids, chartDate, known, keep, quarantine);
    await this.#audioFeatures(ids, chartDate, known, keep, quarantine);

    await this.options.cache.write(cacheUpdates(ids, known, cached));
    const results = new Map<string, TrackLookup>(ids.map((id) => [id, toLookup(known.get(id)!)]));
    return { results, raw, quarantine };
  }

  /** Extended access: up to 50 tracks a call, with popularity, metadata and today's artist names. */
  async #spotifyTracks(
    ids: string[],
    chartDate: string,
    known: Map<string, Knowledge>,
    keep: Keep,
    quarantine: QuarantinedAnswer[],
  ) {
    const { spotify, access } = this.options;
    if (!spotify || access.state('multiTracks') === 'closed') return;
    try {
      await eachAnswer({
        ids,
        size: spotifyLimits.tracksPerCall,
        endpoint: 'spotify_tracks',
        keep,
        fetch: async (part) => {
          const answer = await spotify.tracks(part, { asOf: chartDate });
          access.open('multiTracks');
          return answer;
        },
        idOf: (item) => (item as { id?: unknown }).id,
        onFailure: (id, reason) => (known.get(id)!.failed = `spotify tracks: ${reason}`),
        onAnswer: (id, item) => {
          if (item === undefined) known.get(id)!.notFound = 'spotify does not know this track id';
          else this.#learnSpotifyTrack(id, item, chartDate, known, quarantine);
        },
      });
    } catch (error) {
      if (!closedEndpoint(error)) throw error;
      access.close('multiTracks', `HTTP ${(error as ProviderRejectedError).status} on GET /v1/tracks?ids=`);
    }
  }

  /** Development Mode: one `/tracks/{id}` per track never seen before (no popularity). */
  async #spotifySingleTracks(
    ids: string[],
    chartDate: string,
    known: Map<string, Knowledge>,
    keep: Keep,
    quarantine: QuarantinedAnswer[],
  ) {
    const { spotify, access } = this.options;
    if (!spotify || access.state('multiTracks') !== 'closed') return;
    const unknown = ids.filter((id) => !known.get(id)!.metadata);
    // The provider's limiter paces these; they run side by side up to it.
    await Promise.all(
      unknown.map(async (id) => {
        try {
          const item = await spotify.track(id, { asOf: chartDate });
          keep('spotify_track', [item]);
          this.#learnSpotifyTrack(id, item, chartDate, known, quarantine);
        } catch (error) {
          if (error instanceof ProviderRejectedError && [400, 404].includes(error.status)) {
            known.get(id)!.notFound = `spotify does not know this track id (HTTP ${error.status})`;
          } else if (isEndpointError(error)) {
            throw error;
          } else {
            known.get(id)!.failed = `spotify track: ${(error as Error).message}`;
          }
        }
      }),
    );
  }

  #learnSpotifyTrack(
    id: string,
    item: unknown,
    chartDate: string,
    known: Map<string, Knowledge>,
    quarantine: QuarantinedAnswer[],
  ) {
    const k = known.get(id)!;
    const parsed = trackSchema.safeParse(item);
    if (!parsed.success || parsed.data.id !== id) {
      const reason = parsed.success
        ? `answered for ${parsed.data.id}`
        : `invalid track: ${describeIssues(parsed.error.issues)}`;
      quarantine.push({ trackId: id, provider: 'spotify', reason, raw: item });
      k.invalid = { reason, raw: item };
      return;
    }
    const track = parsed.data;
    k.artistNames = new Map(track.artists.map((a) => [a.id, a.name]));
    k.metadata ??= {
      columns: spotifyMetadata(track),
      source: 'spotify',
      artists: track.artists.map((a) => ({ artistId: a.id, artistName: a.name })),
      fetchedOn: chartDate,
    };
    if (track.popularity !== undefined && track.popularity !== null)
      k.popularity = { value: track.popularity, source: 'spotify' };
  }

  /** ReccoBeats for what Spotify did not give today: popularity (and metadata without a Spotify app). */
  async #reccobeatsTracks(
    ids: string[],
    chartDate: string,
    known: Map<string, Knowledge>,
    keep: Keep,
    quarantine: QuarantinedAnswer[],
  ) {
    const { reccobeats } = this.options;
    const wanted = ids.filter((id) => !known.get(id)!.popularity && !known.get(id)!.notFound);
    if (!reccobeats) {
      for (const id of wanted)
        known.get(id)!.missing.push('no popularity: Spotify gave none and ReccoBeats is off');
      return;
    }
    await eachAnswer({
      ids: wanted,
      size: reccobeatsLimits.idsPerCall,
      endpoint: 'reccobeats_tracks',
      keep,
      fetch: (part) => reccobeats.tracks(part, chartDate),
      idOf: reccobeatsSpotifyId,
      onFailure: (id, reason) => known.get(id)!.missing.push(`no popularity: reccobeats failed: ${reason}`),
      onAnswer: (id, item) => {
        const k = known.get(id)!;
        if (item === undefined)
          return void k.missing.push('no popularity: reccobeats does not know this track');
        const parsed = reccobeatsTrackSchema.safeParse(item);
        if (parsed.success) return learnReccoBeatsTrack(k, parsed.data, chartDate);
        const reason = `invalid reccobeats track: ${describeIssues(parsed.error.issues)}`;
        quarantine.push({ trackId: id, provider: 'reccobeats', reason, raw: item });
        k.missing.push(`no popularity: ${reason}`);
        // Without other metadata, this answer was the track's only one: the track is quarantined.
        if (!k.metadata) k.invalid = { reason, raw: item };
      },
    });
  }

  /** Audio features of tracks not known yet: Spotify where the app may, else ReccoBeats. */
  async #audioFeatures(
    ids: string[],
    chartDate: string,
    known: Map<string, Knowledge>,
    keep: Keep,
    quarantine: QuarantinedAnswer[],
  ) {
    const { spotify, access, reccobeats } = this.options;
    const needing = () =>
      ids.filter((id) => {
        const k = known.get(id)!;
        return !k.features && !k.featuresMissing && k.metadata !== undefined;
      });
    const spotifyReasons = new Map<string, string>();

    // Apps without extended access (Development Mode included) lost audio features in Nov 2024:
    // once multi-id lookups are known closed, asking for features would only spend a call on a 403.
    if (spotify && access.state('multiTracks') === 'closed' && access.state('audioFeatures') === 'unknown') {
      access.close(
        'audioFeatures',
        'closed with multi-id lookups: Development Mode apps have no audio features',
      );
    }
    if (spotify && access.state('audioFeatures') !== 'closed') {
      try {
        await eachAnswer({
          ids: needing(),
          size: spotifyLimits.audioFeaturesPerCall,
          endpoint: 'spotify_audio_features',
          keep,
          fetch: async (part) => {
            const answer = await spotify.audioFeatures(part, { asOf: chartDate });
            access.open('audioFeatures');
            return answer;
          },
          idOf: (item) => (item as { id?: unknown }).id,
          onFailure: (id, reason) => spotifyReasons.set(id, `spotify audio features failed: ${reason}`),
          onAnswer: (id, item) => {
            if (item === undefined) return void spotifyReasons.set(id, spotifyHasNone);
            const parsed = audioFeaturesSchema.safeParse(item);
            if (parsed.success) {
              known.get(id)!.features = {
                columns: spotifyFeatures(parsed.data),
                source: 'spotify',
                fetchedOn: chartDate,
              };
              return;
            }
            const reason = `invalid spotify audio features: ${describeIssues(parsed.error.issues)}`;
            quarantine.push({ trackId: id, provider: 'spotify', reason, raw: item });
            spotifyReasons.set(id, reason);
          },
        });
      } catch (error) {
        if (!closedEndpoint(error)) throw error;
        access.close(
          'audioFeatures',
          `HTTP ${(error as ProviderRejectedError).status} on GET /v1/audio-features`,
        );
      }
    }
    if (access.state('audioFeatures') === 'closed') {
      for (const id of needing())
        spotifyReasons.set(
          id,
          `spotify audio features closed to this app (${access.reason('audioFeatures')})`,
        );
    }

    // Tracks every source already said it has none for: the reason, as it was recorded then.
    for (const id of ids) {
      const k = known.get(id)!;
      if (!k.features && k.featuresMissing && !k.featuresMissing.learnedToday)
        k.missing.push(k.featuresMissing.reason);
    }

    const rest = needing();
    const missing = (id: string, why: string): string => {
      const before = spotifyReasons.get(id);
      const reason = `no audio features: ${before ? `${before}; ` : ''}${why}`;
      known.get(id)!.missing.push(reason);
      return reason;
    };
    if (!reccobeats) {
      for (const id of rest) {
        const reason = missing(id, spotify ? 'ReccoBeats is off' : 'no source: ReccoBeats is off');
        // Spotify, the only source, answered that it has none: that is known, not to be asked daily.
        if (spotifyReasons.get(id) === spotifyHasNone) absent(known.get(id)!, reason, chartDate);
      }
      return;
    }
    await eachAnswer({
      ids: rest,
      size: reccobeatsLimits.idsPerCall,
      endpoint: 'reccobeats_audio_features',
      keep,
      fetch: (part) => reccobeats.audioFeatures(part, chartDate),
      idOf: reccobeatsSpotifyId,
      onFailure: (id, reason) => missing(id, `reccobeats failed: ${reason}`),
      onAnswer: (id, item) => {
        if (item === undefined) {
          absent(known.get(id)!, missing(id, 'reccobeats has none for this track'), chartDate);
          return;
        }
        const parsed = reccobeatsAudioFeaturesSchema.safeParse(item);
        if (parsed.success) {
          known.get(id)!.features = {
            columns: reccobeatsFeatures(parsed.data),
            source: 'reccobeats',
            fetchedOn: chartDate,
          };
          return;
        }
        const reason = `invalid reccobeats audio features: ${describeIssues(parsed.error.issues)}`;
        quarantine.push({ trackId: id, provider: 'reccobeats', reason, raw: item });
        missing(id, reason);
      },
    });
  }
}

type Keep = (endpoint: string, answers: readonly unknown[]) => void;

const spotifyHasNone = 'spotify has no audio features for this track';

/**
 * A track no source has features for is asked again after this many days, not daily: sources do
 * add tracks, but rarely within weeks.
 */
export const featuresRecheckDays = 30;

const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

const absent = (k: Knowledge, reason: string, chartDate: string): void => {
  k.featuresMissing = { reason, fetchedOn: chartDate, learnedToday: true };
};

/**
 * Asks for ids in batches of the endpoint's size, bisecting a failed batch so that only the ids
 * that break it fail, keeps every answer as received, and hands each asked id the item answered for
 * it (matched by id, never by position), or `undefined` when the answer left it out.
 */
const eachAnswer = async (lookup: {
  ids: readonly string[];
  size: number;
  endpoint: string;
  keep: Keep;
  fetch: (ids: readonly string[]) => Promise<unknown[]>;
  idOf: (item: object) => unknown;
  onFailure: (id: string, reason: string) => void;
  onAnswer: (id: string, item: unknown) => void;
}): Promise<void> => {
  for (const batch of chunk(lookup.ids, lookup.size)) {
    const outcome = await bisectBatch(batch, lookup.fetch);
    for (const [id, reason] of outcome.failures) lookup.onFailure(id, reason);
    for (const { ids: asked, answer } of outcome.answers) {
      lookup.keep(lookup.endpoint, answer);
      const found = byId(answer, lookup.idOf);
      for (const id of asked) lookup.onAnswer(id, found.get(id));
    }
  }
};

/** ReccoBeats names a track by its own id; the Spotify id is in its `href`. */
const reccobeatsSpotifyId = (item: object): string | undefined =>
  spotifyIdOfHref(String((item as { href?: unknown }).href ?? ''));

/** A 401/403/404 on a gated endpoint: closed to this app, not a bad id. */
const closedEndpoint = (error: unknown): boolean =>
  error instanceof ProviderRejectedError && [403, 404].includes(error.status);

const byId = (answers: readonly unknown[], idOf: (item: object) => unknown): Map<string, unknown> => {
  const map = new Map<string, unknown>();
  for (const item of answers) {
    if (item && typeof item === 'object') {
      const id = idOf(item);
      if (typeof id === 'string' && !map.has(id)) map.set(id, item);
    }
  }
  return map;
};

const learnReccoBeatsTrack = (k: Knowledge, track: ReccoBeatsTrack, chartDate: string): void => {
  if (track.popularity !== undefined && track.popularity !== null) {
    k.popularity = { value: track.popularity, source: 'reccobeats' };
  } else {
    k.missing.push('no popularity: reccobeats gave none');
  }
  const artists = track.artists.flatMap((a) => {
    const artistId = spotifyIdOfHref(a.href);
    return artistId ? [{ artistId, artistName: a.name }] : [];
  });
  k.artistNames ??= new Map(artists.map((a) => [a.artistId, a.artistName]));
  // Without a Spotify app, ReccoBeats is the only metadata there is: no album, but name, artists, duration, ISRC.
  k.metadata ??= {
    columns: { track_name: track.trackTitle, duration_ms: track.durationMs, isrc: track.isrc ?? null },
    source: 'reccobeats',
    artists,
    fetchedOn: chartDate,
  };
};

const spotifyMetadata = (track: SpotifyTrack): AttributeColumns => ({
  track_name: track.name,
  album_id: track.album.id,
  album_name: track.album.name,
  album_type: track.album.album_type ?? null,
  release_date: track.album.release_date ?? null,
  release_date_precision: track.album.release_date_precision ?? null,
  duration_ms: track.duration_ms,
  is_explicit: track.explicit,
  isrc: track.external_ids?.isrc ?? null,
});

const spotifyFeatures = (f: AudioFeatures): AttributeColumns => ({
  ...Object.fromEntries(unitIntervalFeatures.map((name) => [name, f[name]])),
  loudness: f.loudness,
  tempo: f.tempo,
  musical_key: f.key,
  mode: f.mode,
  time_signature: f.time_signature,
});

const reccobeatsFeatures = (f: ReccoBeatsAudioFeatures): AttributeColumns => ({
  ...Object.fromEntries(unitIntervalFeatures.map((name) => [name, f[name]])),
  loudness: f.loudness,
  tempo: f.tempo,
  musical_key: f.key,
  mode: f.mode,
  // ReccoBeats does not measure the time signature.
  time_signature: null,
});

/** A track's row: each group with its source, and why any group is missing. */
const toLookup = (k: Knowledge): TrackLookup => {
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

/** The cache entries that learned something new today. */
const cacheUpdates = (
  ids: string[],
  known: Map<string, Knowledge>,
  cached: Map<string, CachedTrack>,
): CachedTrack[] =>
  ids.flatMap((id) => {
    const k = known.get(id)!;
    const before = cached.get(id);
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
          ? { featuresMissing: { reason: k.featuresMissing.reason, fetchedOn: k.featuresMissing.fetchedOn } }
          : {}),
      },
    ];
  });

/** Columns as JSON keeps them: an absent value is a null. */
const jsonColumns = (columns: AttributeColumns): Record<string, string | number | boolean | null> =>
  Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v ?? null]));
