import type { ReccoBeatsClient } from '../../../shared/reccobeats/reccobeats-client.js';
import type { SpotifyAccess } from '../../../shared/spotify/access.js';
import type { SpotifyClient } from '../../../shared/spotify/spotify-client.js';
import type { AttributeCache } from './attribute-cache.js';
import type { AttributeProvider, LookupBatch } from './attribute-provider.js';
import { InFlightLookups } from './each-answer.js';
import { LookupSession } from './lookup-session.js';
import { reccobeatsAudioFeatures, reccobeatsTracks } from './reccobeats-passes.js';
import {
  closeFeaturesWithMultiTracks,
  noteFeaturesClosed,
  spotifyAudioFeatures,
  spotifyHasNoFeatures,
  spotifySingleTracks,
  spotifyTracks,
} from './spotify-passes.js';

export interface AttributeEnricherOptions {
  readonly cache: AttributeCache;
  /** Absent for a user with no Spotify app: charts come from files, attributes from ReccoBeats. */
  readonly spotify?: SpotifyClient;
  /** What the Spotify app may call, learned once per process. */
  readonly access: SpotifyAccess;
  /** Absent when the user turned ReccoBeats off. */
  readonly reccobeats?: ReccoBeatsClient;
}

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
  /**
   * Audio features never depend on the day asked about: lookups of several days at once (a
   * backfill) ask for a track new on several of them once.
   */
  readonly #inFlight = new InFlightLookups();

  constructor(private readonly options: AttributeEnricherOptions) {}

  async lookup(trackIds: readonly string[], chartDate: string): Promise<LookupBatch> {
    const { cache, spotify, access, reccobeats } = this.options;
    const ids = [...new Set(trackIds)];
    const session = new LookupSession(ids, chartDate, await cache.read(ids));
    // Each pass asks only what the passes before it left open; multi-id lookups that turn out
    // closed hand over to single lookups in the same call.
    const cutOff =
      spotify && access.state('multiTracks') !== 'closed' && !(await spotifyTracks(session, spotify, access));
    if (spotify && access.state('multiTracks') === 'closed') await spotifySingleTracks(session, spotify);
    await reccobeatsTracks(session, reccobeats);
    // `/tracks` switched off by its breaker: what ReccoBeats did not know either is asked one by one.
    if (spotify && cutOff) await spotifySingleTracks(session, spotify);
    await this.#audioFeatures(session);
    await cache.write(session.cacheUpdates());
    return session.results();
  }

  /** Audio features of tracks not known yet: Spotify where the app may, else ReccoBeats. */
  async #audioFeatures(session: LookupSession): Promise<void> {
    const { spotify, access, reccobeats } = this.options;
    if (spotify) {
      closeFeaturesWithMultiTracks(access);
      if (access.state('audioFeatures') !== 'closed')
        await spotifyAudioFeatures(session, spotify, access, this.#inFlight);
    }
    if (access.state('audioFeatures') === 'closed') noteFeaturesClosed(session, access);
    session.recallKnownAbsences();
    if (reccobeats) await reccobeatsAudioFeatures(session, reccobeats, this.#inFlight);
    else featuresWithoutReccoBeats(session, spotify !== undefined);
  }
}

/**
 * With ReccoBeats off, the tracks still needing features go without, saying why; when Spotify, the
 * only source, answered that it has none, that is known and not asked daily.
 */
const featuresWithoutReccoBeats = (session: LookupSession, hasSpotify: boolean): void => {
  for (const id of session.needingFeatures()) {
    const reason = session.missFeatures(
      id,
      hasSpotify ? 'ReccoBeats is off' : 'no source: ReccoBeats is off',
    );
    if (session.spotifyFeaturesNote(id) === spotifyHasNoFeatures) session.learnFeaturesAbsent(id, reason);
  }
};
