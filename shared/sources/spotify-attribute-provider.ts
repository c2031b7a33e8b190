import { describeIssues, ProviderRejectedError } from '../errors.js';
import type { SpotifyClient } from '../spotify/spotify-client.js';
import { spotifyLimits } from '../spotify/spotify-client.js';
import {
  audioFeaturesSchema,
  trackSchema,
  type AudioFeatures,
  type SpotifyTrack,
} from '../spotify/schemas.js';
import { unitIntervalFeatures } from '../records/stage-tables.js';
import type { AttributeColumns, AttributeProvider, LookupBatch, TrackLookup } from './attribute-provider.js';
import { bisectBatch } from './bisect.js';

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** Answers of several-ids endpoints, matched to the asked ids by the id each object carries. */
const byId = (answers: readonly unknown[]): Map<string, unknown> => {
  const map = new Map<string, unknown>();
  for (const answer of answers) {
    if (answer && typeof answer === 'object' && 'id' in answer && typeof answer.id === 'string') {
      map.set(answer.id, answer);
    }
  }
  return map;
};

/**
 * Attributes from Spotify's multi-id endpoints: `/v1/tracks` (50 ids a call) for metadata and
 * popularity, `/v1/audio-features` (100 a call) for the sound. Results are matched by id, never by
 * position. An app without audio features (closed since Nov 2024) gets its tracks without them, with
 * the reason on every row.
 */
export class SpotifyAttributeProvider implements AttributeProvider {
  constructor(private readonly client: SpotifyClient) {}

  async lookup(trackIds: readonly string[], chartDate: string): Promise<LookupBatch> {
    const ids = [...new Set(trackIds)];
    const rawTracks: unknown[] = [];
    const rawFeatures: unknown[] = [];
    const results = new Map<string, TrackLookup>();
    const tracks = new Map<string, SpotifyTrack>();

    for (const batch of chunk(ids, spotifyLimits.tracksPerCall)) {
      const { answers, failures } = await bisectBatch(batch, (part) =>
        this.client.tracks(part, { asOf: chartDate }),
      );
      for (const [id, reason] of failures)
        results.set(id, { status: 'failed', reason: `spotify tracks: ${reason}` });
      for (const { ids: asked, answer } of answers) {
        rawTracks.push(...answer);
        const found = byId(answer);
        for (const id of asked) {
          const raw = found.get(id);
          if (raw === undefined) {
            results.set(id, { status: 'not_found', reason: 'spotify does not know this track id' });
            continue;
          }
          const parsed = trackSchema.safeParse(raw);
          if (parsed.success) tracks.set(id, parsed.data);
          else
            results.set(id, {
              status: 'quarantined',
              reason: `invalid track: ${describeIssues(parsed.error.issues)}`,
              raw,
            });
        }
      }
    }

    const features = await this.#audioFeatures([...tracks.keys()], chartDate, rawFeatures);
    for (const [id, track] of tracks) {
      const feature = features.get(id) ?? { reason: 'no answer' };
      const missing = [
        track.popularity === undefined || track.popularity === null
          ? 'spotify gave no popularity'
          : undefined,
        'reason' in feature ? feature.reason : undefined,
      ].filter(Boolean);
      results.set(id, {
        status: 'ok',
        attributes: {
          ...trackColumns(track),
          ...featureColumns(feature),
          missing_reason: missing.length ? missing.join('; ') : null,
        },
        artists: track.artists.map((a) => ({ artistId: a.id, artistName: a.name })),
      });
    }
    return { results, raw: { tracks: rawTracks, audio_features: rawFeatures } };
  }

  /** Features per id, or why there are none. Failing to get features never fails the track. */
  async #audioFeatures(
    ids: readonly string[],
    chartDate: string,
    raw: unknown[],
  ): Promise<Map<string, AudioFeatures | { reason: string }>> {
    const out = new Map<string, AudioFeatures | { reason: string }>();
    for (const batch of chunk(ids, spotifyLimits.audioFeaturesPerCall)) {
      let outcome;
      try {
        outcome = await bisectBatch(batch, (part) => this.client.audioFeatures(part, { asOf: chartDate }));
      } catch (error) {
        // Closed to apps without extended access since Nov 2024 (403/404): the tracks keep their
        // metadata, and every row says why its features are missing. A rate limit goes back up.
        if (!(error instanceof ProviderRejectedError)) throw error;
        for (const id of batch)
          out.set(id, { reason: `spotify audio features unavailable (HTTP ${error.status})` });
        continue;
      }
      for (const [id, reason] of outcome.failures) {
        out.set(id, { reason: `spotify audio features unavailable: ${reason}` });
      }
      for (const { ids: asked, answer } of outcome.answers) {
        raw.push(...answer);
        const found = byId(answer);
        for (const id of asked) {
          const value = found.get(id);
          if (value === undefined) {
            out.set(id, { reason: 'spotify has no audio features for this track' });
            continue;
          }
          const parsed = audioFeaturesSchema.safeParse(value);
          out.set(
            id,
            parsed.success
              ? parsed.data
              : { reason: `invalid audio features: ${describeIssues(parsed.error.issues)}` },
          );
        }
      }
    }
    return out;
  }
}

const trackColumns = (track: SpotifyTrack): AttributeColumns => ({
  track_name: track.name,
  album_id: track.album.id,
  album_name: track.album.name,
  album_type: track.album.album_type ?? null,
  release_date: track.album.release_date ?? null,
  release_date_precision: track.album.release_date_precision ?? null,
  duration_ms: track.duration_ms,
  is_explicit: track.explicit,
  popularity: track.popularity ?? null,
  isrc: track.external_ids?.isrc ?? null,
  metadata_source: 'spotify',
  popularity_source: track.popularity === undefined || track.popularity === null ? null : 'spotify',
});

const featureColumns = (features: AudioFeatures | { reason: string }): AttributeColumns => {
  if ('reason' in features) return { features_source: null };
  return {
    ...Object.fromEntries(unitIntervalFeatures.map((name) => [name, features[name]])),
    loudness: features.loudness,
    tempo: features.tempo,
    musical_key: features.key,
    mode: features.mode,
    time_signature: features.time_signature,
    features_source: 'spotify',
  };
};
