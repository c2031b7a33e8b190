import { albumTitle, decorateTricky, trackTitle, trickyTracks, type HomeMarket } from '../names.js';
import { spotifyId, type Rng } from '../prng.js';
import { trickyShare, type DraftArtist } from './artists.js';
import { clamp, drawAudioFeatures } from './audio-features.js';
import { drawTrackDynamics, setEvergreen, type ChartDynamics } from './chart-dynamics.js';
import { dateOfDay, dayNumber } from './days.js';
import type { AlbumType, CatalogAlbum, CatalogArtist, CatalogTrack, ReleaseDatePrecision } from './model.js';

/**
 * The catalog's releases: albums and their tracks, drawn one after the other from the catalog's
 * one generator, each track with the chart parameters that move it.
 */

const noFeaturesShare = 0.05;

const isrcCountries: Record<HomeMarket, readonly string[]> = {
  us: ['US'],
  gb: ['GB'],
  br: ['BR'],
  other: ['SE', 'FR', 'DE', 'KR', 'CA', 'NL', 'QZ'],
};
const registrantChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** What the release steps fill in, in catalog order. */
export interface Releases {
  readonly tracks: CatalogTrack[];
  readonly albums: CatalogAlbum[];
  readonly dynamics: ChartDynamics;
}

/** Where the release steps draw from. */
export interface ReleaseDraw {
  readonly rng: Rng;
  readonly seedKey: string;
  readonly artists: readonly DraftArtist[];
  /** The number of evergreen hostile singles, whose artists no other release credits. */
  readonly evergreenCount: number;
}

const artistAt = (draw: ReleaseDraw, a: number) => draw.artists[a] as DraftArtist;

/** Any artist but the hostile ones, who only have their evergreen single. */
const drawRegularArtist = (draw: ReleaseDraw) =>
  artistAt(draw, draw.rng.int(draw.evergreenCount, draw.artists.length - 1));

const isrcFor = (rng: Rng, lead: CatalogArtist, releasedOn: string, index: number) => {
  const country = rng.pick(isrcCountries[lead.homeMarket]);
  const registrant = Array.from({ length: 3 }, () => rng.pick([...registrantChars])).join('');
  return `${country}${registrant}${releasedOn.slice(2, 4)}${String(index % 100000).padStart(5, '0')}`;
};

const releaseDateAs = (date: string, precision: ReleaseDatePrecision): string =>
  precision === 'day' ? date : precision === 'month' ? date.slice(0, 7) : date.slice(0, 4);

const addAlbum = (
  releases: Releases,
  album: Omit<CatalogAlbum, 'trackIds' | 'totalTracks'>,
  trackIds: string[],
) => {
  releases.albums.push({ ...album, totalTracks: trackIds.length, trackIds });
};

/**
 * The hostile names come first: one evergreen single each, so that they sit on the global chart
 * every day and every day's answers carry them.
 */
export const drawEvergreenSingles = (draw: ReleaseDraw, releases: Releases): void => {
  const { rng, seedKey } = draw;
  for (let k = 0; k < draw.evergreenCount; k += 1) {
    const spec = trickyTracks[k] as (typeof trickyTracks)[number];
    const lead = artistAt(draw, k);
    const releasedOn = dateOfDay(dayNumber('2018-01-05') + 17 * k);
    const precision: ReleaseDatePrecision = k === 7 ? 'year' : k === 8 ? 'month' : 'day';
    const albumId = spotifyId(`${seedKey}:album:tricky:${k}`);
    const id = spotifyId(`${seedKey}:track:${k}`);
    // Two of them are collaborations between hostile names, so artist lists carry them too.
    const artistIds =
      k === 4
        ? [lead.id, artistAt(draw, 5).id]
        : k === 1
          ? [lead.id, artistAt(draw, 0).id, artistAt(draw, 6).id]
          : [lead.id];
    const durationMs = 150_000 + 9_000 * k;
    releases.tracks.push({
      id,
      index: k,
      name: spec.name,
      albumId,
      artistIds,
      trackNumber: 1,
      discNumber: 1,
      durationMs,
      explicit: k % 3 === 0,
      isrc: isrcFor(rng, lead, releasedOn, k),
      releasedOn,
      // One evergreen without features guarantees the null answer reaches every day's chart.
      audioFeatures: k === 2 ? null : drawAudioFeatures(rng, durationMs),
    });
    addAlbum(
      releases,
      {
        id: albumId,
        name: spec.album,
        albumType: 'single',
        releaseDate: releaseDateAs(releasedOn, precision),
        releaseDatePrecision: precision,
        releasedOn,
        artistIds: [lead.id],
      },
      [id],
    );
    setEvergreen(rng, releases.dynamics, k, dayNumber(releasedOn), lead);
  }
};

/** One release's shape, drawn before its tracks. */
interface ReleaseShape {
  readonly lead: DraftArtist;
  readonly albumType: AlbumType;
  readonly size: number;
  readonly releasedOn: string;
  readonly precision: ReleaseDatePrecision;
}

const drawReleaseShape = (draw: ReleaseDraw, tracksLeft: number, firstDay: number, lastDay: number) => {
  const { rng } = draw;
  const lead = drawRegularArtist(draw);
  const typeRoll = rng.next();
  const albumType: AlbumType = typeRoll < 0.55 ? 'single' : typeRoll < 0.95 ? 'album' : 'compilation';
  const size = Math.min(
    tracksLeft,
    albumType === 'single' ? (rng.chance(0.7) ? 1 : rng.int(2, 6)) : rng.int(8, 16),
  );
  const releasedOn = dateOfDay(rng.int(firstDay, lastDay));
  const precisionRoll = rng.next();
  const precision: ReleaseDatePrecision =
    precisionRoll < 0.9 ? 'day' : precisionRoll < 0.94 ? 'month' : 'year';
  return { lead, albumType, size, releasedOn, precision } satisfies ReleaseShape;
};

/** Track `t` of a release, and its chart parameters: the track is catalog index `i`. */
const drawReleaseTrack = (
  draw: ReleaseDraw,
  releases: Releases,
  shape: ReleaseShape,
  albumId: string,
  t: number,
): CatalogTrack => {
  const { rng, seedKey } = draw;
  const i = releases.tracks.length;
  const credited = shape.albumType === 'compilation' ? drawRegularArtist(draw) : shape.lead;
  const artistIds = [credited.id];
  const features = rng.chance(0.3) ? (rng.chance(0.25) ? 2 : 1) : 0;
  while (artistIds.length < 1 + features) {
    const featured = drawRegularArtist(draw);
    if (!artistIds.includes(featured.id)) artistIds.push(featured.id);
  }
  let name = trackTitle(rng, credited.homeMarket);
  if (rng.chance(trickyShare)) name = decorateTricky(rng, name);
  const durationMs = Math.round(clamp(rng.logNormal(Math.log(200_000), 0.2), 90_000, 480_000));
  const track: CatalogTrack = {
    id: spotifyId(`${seedKey}:track:${i}`),
    index: i,
    name,
    albumId,
    artistIds,
    trackNumber: t + 1,
    discNumber: 1,
    durationMs,
    explicit: rng.chance(credited.homeMarket === 'us' ? 0.4 : 0.2),
    isrc: isrcFor(rng, credited, shape.releasedOn, i),
    releasedOn: shape.releasedOn,
    audioFeatures: rng.chance(noFeaturesShare) ? null : drawAudioFeatures(rng, durationMs),
  };
  releases.tracks.push(track);
  // Lead singles carry an album; deep cuts and compilations rarely chart.
  const { albumType } = shape;
  const position =
    albumType === 'compilation' ? 0.05 : t === 0 ? 1 : albumType === 'single' ? 0.3 : t < 2 ? 0.6 : 0.05;
  drawTrackDynamics(rng, releases.dynamics, i, dayNumber(shape.releasedOn), credited, position);
  return track;
};

/**
 * Regular releases (singles, albums, compilations) spread uniformly over the release range, until
 * the catalog has `trackCount` tracks.
 */
export const drawRegularReleases = (
  draw: ReleaseDraw,
  releases: Releases,
  trackCount: number,
  releaseRange: { readonly firstDay: number; readonly lastDay: number },
): void => {
  for (let albumIndex = 0; releases.tracks.length < trackCount; albumIndex += 1) {
    const shape = drawReleaseShape(
      draw,
      trackCount - releases.tracks.length,
      releaseRange.firstDay,
      releaseRange.lastDay,
    );
    const albumId = spotifyId(`${draw.seedKey}:album:${albumIndex}`);
    const tracks = Array.from({ length: shape.size }, (_, t) =>
      drawReleaseTrack(draw, releases, shape, albumId, t),
    );
    const single = shape.albumType === 'single' && shape.size === 1;
    addAlbum(
      releases,
      {
        id: albumId,
        // A one-track single is named after its track, as on Spotify.
        name: single ? (tracks[0] as CatalogTrack).name : albumTitle(draw.rng, shape.lead.homeMarket),
        albumType: shape.albumType,
        releaseDate: releaseDateAs(shape.releasedOn, shape.precision),
        releaseDatePrecision: shape.precision,
        releasedOn: shape.releasedOn,
        artistIds: [shape.lead.id],
      },
      tracks.map((t) => t.id),
    );
  }
};
