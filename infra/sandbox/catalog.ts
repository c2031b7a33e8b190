import { z } from 'zod';
import { isoDate } from '../../shared/lake/keys.js';
import { createRng, gauss3, hashString, spotifyId, unit3, type Rng } from './prng.js';
import {
  albumTitle,
  artistName as generateArtistName,
  decorateTricky,
  renamedArtist,
  trackTitle,
  trickyTracks,
  type HomeMarket,
} from './names.js';

/**
 * The sandbox's synthetic catalog: artists, albums and tracks, and what the charts looked like on
 * any day. Everything is a pure function of the seed: the same seed gives the same answers,
 * whatever was asked before and in whatever order.
 *
 * How a chart is made: every released track has a score on a day,
 *   appeal × weight(chart) × curve(days since release) × season × momentum noise × daily noise,
 * and the chart is the top N scores. The curve rises over a few days after release, decays with a
 * track-specific half-life, and leaves a slowly fading tail, so recent releases climb in, old hits
 * slide out, and tracks near the cut-off drop out and come back a few days later (re-entries).
 * The momentum noise moves slowly (a knot a week), the daily noise does not.
 *
 * Besides the charts, a catalog sample (`catalogSampleFor`) stands for the non-charting catalog: a
 * fixed ~2% of the tracks, of which a day holds those released and on none of the charts that day
 * (at most 100). The sandbox serves it as a playlist of the app's user under the chart id
 * `catalog-sample`, so that the warehouse can compare charting tracks with the rest.
 */

/** The charts the sandbox serves, with their sizes (positions 1..N). */
export const chartSizes = { global: 200, us: 150, gb: 100, br: 50 } as const satisfies Record<string, number>;

export type ChartId = keyof typeof chartSizes;

export const chartIds: readonly ChartId[] = ['global', 'us', 'gb', 'br'];

export const chartIdSchema = z.enum(chartIds as [ChartId, ...ChartId[]]);

/**
 * The chart id of the sandbox's catalog sample: a playlist of tracks that are not on any of the
 * sandbox's charts, served like a chart playlist so that the pipeline, which only sees tracks
 * through chart sources, can compare the charting catalog with the rest. It is not a chart: it has
 * no `chartSizes` entry, `chartFor` refuses it, and no Spotify Charts CSV is made for it.
 */
export const catalogSampleChartId = 'catalog-sample';

/** Every chart id the sandbox serves a playlist for: the real charts and the catalog sample. */
export type SandboxChartId = ChartId | typeof catalogSampleChartId;

/**
 * The chart ids the sandbox serves as playlists, the real charts first: what `--chart` accepts in
 * sandbox mode. `chartIds` lists the real charts only.
 */
export const sandboxChartIds: readonly SandboxChartId[] = Object.freeze([...chartIds, catalogSampleChartId]);

/** The share of the catalog that is ever in the catalog sample (chosen by hash, see `catalogSampleFor`). */
export const catalogSampleShare = 0.02;

/** The catalog sample holds at most this many tracks on a day. */
export const catalogSampleMaxSize = 100;

/**
 * Each playlist's sandbox id (22 base62 characters), by the chart id it stands for: one per chart
 * and one for the catalog sample, all owned by the app's user. They do not depend on the seed, so
 * that a configuration can name them once.
 */
export const sandboxPlaylistIds: Readonly<Record<SandboxChartId, string>> = Object.freeze(
  Object.fromEntries(sandboxChartIds.map((c) => [c, spotifyId(`chartflow-sandbox:playlist:${c}`)])) as Record<
    SandboxChartId,
    string
  >,
);

/** The sandbox playlist that holds a chart (or the catalog sample). */
export const sandboxPlaylistId = (chartId: SandboxChartId): string => sandboxPlaylistIds[chartId];

/** The sandbox playlist that holds the catalog sample (`catalog-sample`). */
export const sandboxCatalogSamplePlaylistId: string = sandboxPlaylistIds[catalogSampleChartId];

/** The chart (or the catalog sample) a sandbox playlist holds, or `undefined` for any other id. */
export const chartIdForPlaylist = (playlistId: string): SandboxChartId | undefined =>
  sandboxChartIds.find((c) => sandboxPlaylistIds[c] === playlistId);

/** Renames are spread over this window so that any 60 days inside it see a charting artist rebrand. */
export const renameWindow = { from: '2024-01-01', to: '2027-12-31' } as const;

export type AlbumType = 'album' | 'single' | 'compilation';
export type ReleaseDatePrecision = 'day' | 'month' | 'year';

export interface CatalogArtist {
  readonly id: string;
  readonly index: number;
  /** The name the artist started with; see `Catalog.artistName` for the name on a given day. */
  readonly name: string;
  readonly homeMarket: HomeMarket;
  readonly rename: ArtistRename | undefined;
}

/** An artist's change of name: `before` until the day before `on`, `after` from `on`. */
export interface ArtistRename {
  readonly artistId: string;
  readonly on: string;
  readonly before: string;
  readonly after: string;
}

export interface CatalogAlbum {
  readonly id: string;
  readonly name: string;
  readonly albumType: AlbumType;
  /** As Spotify gives it: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, depending on the precision. */
  readonly releaseDate: string;
  readonly releaseDatePrecision: ReleaseDatePrecision;
  /** The day it actually came out, whatever the precision says. */
  readonly releasedOn: string;
  readonly totalTracks: number;
  readonly artistIds: readonly string[];
  readonly trackIds: readonly string[];
}

/** Spotify's audio features, with Spotify's field names; stable for a track. */
export interface AudioFeatures {
  readonly danceability: number;
  readonly energy: number;
  readonly key: number;
  readonly loudness: number;
  readonly mode: number;
  readonly speechiness: number;
  readonly acousticness: number;
  readonly instrumentalness: number;
  readonly liveness: number;
  readonly valence: number;
  readonly tempo: number;
  readonly time_signature: number;
  readonly duration_ms: number;
}

export interface CatalogTrack {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly albumId: string;
  /** In credit order: the first is the lead artist. */
  readonly artistIds: readonly string[];
  readonly trackNumber: number;
  readonly discNumber: number;
  readonly durationMs: number;
  readonly explicit: boolean;
  readonly isrc: string;
  /** The day it came out; it cannot chart, and the API does not know it, before then. */
  readonly releasedOn: string;
  /** `null` for the few tracks Spotify has no audio features for. */
  readonly audioFeatures: AudioFeatures | null;
}

export const catalogOptionsSchema = z.object({
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  tracks: z.number().int().min(2000).max(200_000).default(6000),
  artists: z.number().int().min(50).max(20_000).default(600),
  /** Releases are spread uniformly over this range; charts are realistic from a year after its start. */
  firstRelease: isoDate.default('2018-07-01'),
  lastRelease: isoDate.default('2029-12-31'),
});

export type CatalogOptions = z.input<typeof catalogOptionsSchema>;

/** The synthetic catalog and its charts. */
export interface Catalog {
  readonly seed: number | string;
  /**
   * The ordered track ids of a chart on a day: index 0 is position 1. Any day works; charts are
   * full and realistic from a year after the first release (2019-07 by default), shorter before.
   * Takes about 2 ms (every released track is scored); the latest few hundred are cached.
   */
  chartFor(chartId: ChartId, date: string): readonly string[];
  /**
   * The track ids of the catalog sample on a day, in playlist order: the members (a fixed ~2% of
   * the catalog, chosen by a hash of the seed and the track id) that are released by that day and
   * on none of the charts that day, at most `catalogSampleMaxSize`, in the order of that hash.
   * Membership is fixed, so the sample barely changes from one day to the next (warm days stay
   * cheap to enrich); it changes as members are released, enter or leave a chart, or pass the cap.
   */
  catalogSampleFor(date: string): readonly string[];
  track(id: string): CatalogTrack | undefined;
  album(id: string): CatalogAlbum | undefined;
  artist(id: string): CatalogArtist | undefined;
  /** Every track, charting or not: most never chart. */
  catalogTracks(): readonly CatalogTrack[];
  catalogAlbums(): readonly CatalogAlbum[];
  catalogArtists(): readonly CatalogArtist[];
  /** Whether a track had come out by that day. */
  isReleased(trackId: string, date: string): boolean;
  /** An artist's name as of a day (renames take effect on their day). */
  artistName(artistId: string, date: string): string;
  /** Spotify-style popularity, 0..100, as of a day: 0 before release. */
  popularity(trackId: string, date: string): number;
  /** Every rename, by date. */
  artistRenames(): readonly ArtistRename[];
}

const msPerDay = 86_400_000;

/** Days since 1970-01-01 for a `YYYY-MM-DD` date. */
export const dayNumber = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / msPerDay);

/** The `YYYY-MM-DD` date of a day number. */
export const dateOfDay = (day: number): string => new Date(day * msPerDay).toISOString().slice(0, 10);

// How charts move (tuned so that ~40% of the catalog ever charts, global sees ~6 entries a day,
// and the hostile evergreens stay on it). Momentum noise is the slow part (a knot every `knotDays`); daily noise is what
// makes a track near the cut-off flicker out and back.
const knotDays = 7;
const momentumSigma = 0.3;
const dailySigma = 0.06;
const holidayShare = 0.012;
const noFeaturesShare = 0.05;
const trickyShare = 0.02;

const marketWeights: readonly [HomeMarket, number][] = [
  ['us', 0.35],
  ['gb', 0.15],
  ['br', 0.2],
  ['other', 0.3],
];
const isrcCountries: Record<HomeMarket, readonly string[]> = {
  us: ['US'],
  gb: ['GB'],
  br: ['BR'],
  other: ['SE', 'FR', 'DE', 'KR', 'CA', 'NL', 'QZ'],
};
const registrantChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const pickMarket = (rng: Rng): HomeMarket => {
  let r = rng.next();
  for (const [market, weight] of marketWeights) {
    r -= weight;
    if (r < 0) return market;
  }
  return 'other';
};

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

const makeAudioFeatures = (rng: Rng, durationMs: number): AudioFeatures => {
  const timeSignatureRoll = rng.next();
  return {
    danceability: round(clamp(0.62 + 0.14 * rng.normal(), 0.05, 0.99), 3),
    energy: round(clamp(0.62 + 0.18 * rng.normal(), 0.01, 1), 3),
    key: rng.chance(0.03) ? -1 : rng.int(0, 11),
    // A few quiet recordings reach far below the usual -14..-3 dB.
    loudness: round(
      rng.chance(0.02) ? -20 - 30 * rng.next() : clamp(-6.5 + 2.5 * rng.normal(), -60, -0.2),
      3,
    ),
    mode: rng.chance(0.6) ? 1 : 0,
    speechiness: round(clamp(rng.logNormal(-2.8, 0.8), 0.022, 0.96), 4),
    acousticness: round(rng.next() ** 2, 4),
    instrumentalness: round(rng.chance(0.85) ? rng.next() * 0.001 : rng.next(), 6),
    liveness: round(clamp(rng.logNormal(-1.9, 0.5), 0.02, 0.99), 4),
    valence: round(0.04 + 0.92 * rng.next(), 3),
    tempo: round(clamp(120 + 28 * rng.normal(), 60, 200), 3),
    time_signature:
      timeSignatureRoll < 0.9
        ? 4
        : timeSignatureRoll < 0.96
          ? 3
          : timeSignatureRoll < 0.98
            ? 5
            : timeSignatureRoll < 0.99
              ? 6
              : 7,
    duration_ms: durationMs,
  };
};

const releaseDateAs = (date: string, precision: ReleaseDatePrecision): string =>
  precision === 'day' ? date : precision === 'month' ? date.slice(0, 7) : date.slice(0, 4);

/** Builds the catalog for a seed. Deterministic; takes a few hundred milliseconds. */
export const createCatalog = (options: CatalogOptions = {}): Catalog => {
  const opts = catalogOptionsSchema.parse(options);
  const seedKey = String(opts.seed);
  const seedHash = hashString(`chartflow-sandbox:${seedKey}`);
  const rng = createRng(seedHash);
  const firstDay = dayNumber(opts.firstRelease);
  const lastDay = dayNumber(opts.lastRelease);
  if (lastDay - firstDay < 365) throw new RangeError('the release range must span at least a year');

  // ---- artists
  const artists: (CatalogArtist & { star: number; rename: ArtistRename | undefined })[] = [];
  for (let a = 0; a < opts.artists; a += 1) {
    const tricky = trickyTracks[a];
    const homeMarket = tricky ? 'other' : pickMarket(rng);
    let name = tricky ? tricky.artist : generateArtistName(rng, homeMarket);
    if (!tricky && rng.chance(trickyShare)) name = decorateTricky(rng, name);
    artists.push({
      id: spotifyId(`${seedKey}:artist:${a}`),
      index: a,
      name,
      homeMarket,
      star: rng.logNormal(0, 1.3),
      rename: undefined,
    });
  }
  const artistAt = (a: number) => artists[a] as (typeof artists)[number];

  // ---- tracks and albums, with the parameters that move them on the charts
  const n = opts.tracks;
  const releaseDay = new Int32Array(n);
  const appeal = new Float64Array(n);
  const riseDays = new Float64Array(n);
  const tau = new Float64Array(n);
  const floorShare = new Float64Array(n);
  const tauLong = new Float64Array(n);
  const holiday = new Uint8Array(n);
  const noiseScale = new Float64Array(n).fill(1);
  const weights = Object.fromEntries(chartIds.map((c) => [c, new Float64Array(n)])) as Record<
    ChartId,
    Float64Array
  >;

  const tracks: CatalogTrack[] = [];
  const albums: CatalogAlbum[] = [];

  const isrcFor = (lead: CatalogArtist, releasedOn: string, index: number) => {
    const country = rng.pick(isrcCountries[lead.homeMarket]);
    const registrant = Array.from({ length: 3 }, () => rng.pick([...registrantChars])).join('');
    return `${country}${registrant}${releasedOn.slice(2, 4)}${String(index % 100000).padStart(5, '0')}`;
  };

  const setWeights = (i: number, lead: CatalogArtist) => {
    for (const c of chartIds) {
      weights[c][i] =
        c === 'global'
          ? 1
          : lead.homeMarket === c
            ? 3 * rng.logNormal(0, 0.25)
            : 0.45 * rng.logNormal(0, 0.5);
    }
  };

  const addAlbum = (album: Omit<CatalogAlbum, 'trackIds' | 'totalTracks'>, trackIds: string[]) => {
    albums.push({ ...album, totalTracks: trackIds.length, trackIds });
  };

  // The hostile names come first: evergreen singles, flat curves and little noise, so that they sit
  // on the global chart every day. Their appeal is calibrated below, once the chart's level is known.
  const trickyCount = Math.min(trickyTracks.length, opts.artists);
  for (let k = 0; k < trickyCount; k += 1) {
    const spec = trickyTracks[k] as (typeof trickyTracks)[number];
    const lead = artistAt(k);
    const releasedOn = dateOfDay(dayNumber('2018-01-05') + 17 * k);
    const precision: ReleaseDatePrecision = k === 7 ? 'year' : k === 8 ? 'month' : 'day';
    const albumId = spotifyId(`${seedKey}:album:tricky:${k}`);
    const id = spotifyId(`${seedKey}:track:${k}`);
    // Two of them are collaborations between hostile names, so artist lists carry them too.
    const artistIds =
      k === 4 ? [lead.id, artistAt(5).id] : k === 1 ? [lead.id, artistAt(0).id, artistAt(6).id] : [lead.id];
    const durationMs = 150_000 + 9_000 * k;
    tracks.push({
      id,
      index: k,
      name: spec.name,
      albumId,
      artistIds,
      trackNumber: 1,
      discNumber: 1,
      durationMs,
      explicit: k % 3 === 0,
      isrc: isrcFor(lead, releasedOn, k),
      releasedOn,
      // One evergreen without features guarantees the null answer reaches every day's chart.
      audioFeatures: k === 2 ? null : makeAudioFeatures(rng, durationMs),
    });
    addAlbum(
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
    releaseDay[k] = dayNumber(releasedOn);
    riseDays[k] = 0.01;
    tau[k] = 1e9;
    floorShare[k] = 1;
    tauLong[k] = 1e9;
    noiseScale[k] = 0.25;
    setWeights(k, lead);
  }

  let albumIndex = 0;
  while (tracks.length < n) {
    const lead = artistAt(rng.int(trickyCount, opts.artists - 1));
    const typeRoll = rng.next();
    const albumType: AlbumType = typeRoll < 0.55 ? 'single' : typeRoll < 0.95 ? 'album' : 'compilation';
    const size = Math.min(
      n - tracks.length,
      albumType === 'single' ? (rng.chance(0.7) ? 1 : rng.int(2, 6)) : rng.int(8, 16),
    );
    const releasedOn = dateOfDay(rng.int(firstDay, lastDay));
    const precisionRoll = rng.next();
    const precision: ReleaseDatePrecision =
      precisionRoll < 0.9 ? 'day' : precisionRoll < 0.94 ? 'month' : 'year';
    const albumId = spotifyId(`${seedKey}:album:${albumIndex}`);
    albumIndex += 1;
    const trackIds: string[] = [];
    let firstTrackName = '';
    for (let t = 0; t < size; t += 1) {
      const i = tracks.length;
      const credited = albumType === 'compilation' ? artistAt(rng.int(trickyCount, opts.artists - 1)) : lead;
      const artistIds = [credited.id];
      const features = rng.chance(0.3) ? (rng.chance(0.25) ? 2 : 1) : 0;
      while (artistIds.length < 1 + features) {
        const featured = artistAt(rng.int(trickyCount, opts.artists - 1));
        if (!artistIds.includes(featured.id)) artistIds.push(featured.id);
      }
      let name = trackTitle(rng, credited.homeMarket);
      if (rng.chance(trickyShare)) name = decorateTricky(rng, name);
      if (t === 0) firstTrackName = name;
      const durationMs = Math.round(clamp(rng.logNormal(Math.log(200_000), 0.2), 90_000, 480_000));
      const id = spotifyId(`${seedKey}:track:${i}`);
      trackIds.push(id);
      tracks.push({
        id,
        index: i,
        name,
        albumId,
        artistIds,
        trackNumber: t + 1,
        discNumber: 1,
        durationMs,
        explicit: rng.chance(credited.homeMarket === 'us' ? 0.4 : 0.2),
        isrc: isrcFor(credited, releasedOn, i),
        releasedOn,
        audioFeatures: rng.chance(noFeaturesShare) ? null : makeAudioFeatures(rng, durationMs),
      });
      // Lead singles carry an album; deep cuts and compilations rarely chart.
      const position =
        albumType === 'compilation' ? 0.05 : t === 0 ? 1 : albumType === 'single' ? 0.3 : t < 2 ? 0.6 : 0.05;
      const isHoliday = rng.chance(holidayShare);
      releaseDay[i] = dayNumber(releasedOn);
      appeal[i] = credited.star * rng.logNormal(0, 0.7) * position * (isHoliday ? 4 : 1);
      riseDays[i] = 1 + rng.logNormal(1, 0.6);
      tau[i] = rng.logNormal(Math.log(60), 0.7);
      // A few become evergreens that stay for years, as real charts keep their classics.
      const evergreen = rng.chance(0.04);
      floorShare[i] = evergreen ? 0.35 + 0.3 * rng.next() : 0.04 + 0.25 * rng.next() ** 2;
      tauLong[i] = isHoliday ? 1e9 : rng.logNormal(Math.log(evergreen ? 3000 : 900), 0.5);
      holiday[i] = isHoliday ? 1 : 0;
      setWeights(i, credited);
    }
    addAlbum(
      {
        id: albumId,
        name: albumType === 'single' && size === 1 ? firstTrackName : albumTitle(rng, lead.homeMarket),
        albumType,
        releaseDate: releaseDateAs(releasedOn, precision),
        releaseDatePrecision: precision,
        releasedOn,
        artistIds: [lead.id],
      },
      trackIds,
    );
  }

  // ---- scoring
  const momentumSalt = hashString(`${seedKey}:momentum`);
  const chartSalts = Object.fromEntries(
    chartIds.map((c) => [c, hashString(`${seedKey}:daily:${c}`)]),
  ) as Record<ChartId, number>;

  /** 0..1 in the weeks around Christmas, 0 elsewhere. */
  const seasonOf = (day: number): number => {
    const date = new Date(day * msPerDay);
    const peak = Date.UTC(date.getUTCFullYear(), 11, 22) / msPerDay;
    const distance = Math.min(Math.abs(day - peak), Math.abs(day - (peak - 365)));
    return Math.exp(-((distance / 14) ** 2));
  };

  /** How much a track is listened to on a day, before any chart's regional taste or daily noise. */
  const momentum = (i: number, day: number, season: number): number => {
    const age = day - (releaseDay[i] as number);
    if (age < 0) return 0;
    const rise = 1 - Math.exp(-(age + 1) / (riseDays[i] as number));
    const share = floorShare[i] as number;
    const body =
      (1 - share) * Math.exp(-age / (tau[i] as number)) + share * Math.exp(-age / (tauLong[i] as number));
    const seasonal = holiday[i] ? 0.05 + 1.5 * season : 1;
    // Value noise: smooth between weekly knots, so momentum drifts instead of jumping.
    const knot = Math.floor(day / knotDays);
    const f = (day - knot * knotDays) / knotDays;
    const g0 = gauss3(momentumSalt, i, knot);
    const g1 = gauss3(momentumSalt, i, knot + 1);
    const drift = g0 + (g1 - g0) * f * f * (3 - 2 * f);
    return (
      (appeal[i] as number) *
      rise *
      body *
      seasonal *
      Math.exp(momentumSigma * (noiseScale[i] as number) * drift)
    );
  };

  /** The top `size` tracks of a chart on a day, with their scores, best first. */
  const rank = (chartId: ChartId, day: number, size: number): { indices: number[]; scores: number[] } => {
    const weight = weights[chartId];
    const salt = chartSalts[chartId];
    const season = seasonOf(day);
    const scores = new Float64Array(n);
    const candidates: number[] = [];
    for (let i = 0; i < n; i += 1) {
      if ((releaseDay[i] as number) > day) continue;
      const m = momentum(i, day, season);
      if (m === 0) continue;
      scores[i] =
        m * (weight[i] as number) * Math.exp(dailySigma * (noiseScale[i] as number) * gauss3(salt, i, day));
      candidates.push(i);
    }
    // Ties are broken by catalog order, so the ranking is total and stable.
    candidates.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    const indices = candidates.slice(0, size);
    return { indices, scores: indices.map((i) => scores[i] as number) };
  };

  // ---- calibration: the evergreen hostile names sit well inside the global chart every day.
  const sampleDays = Array.from({ length: 16 }, (_, s) => dayNumber('2020-01-01') + s * 233);
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const cutOff = median(sampleDays.map((d) => rank('global', d, chartSizes.global).scores.at(-1) ?? 0));
  for (let k = 0; k < trickyCount; k += 1) appeal[k] = cutOff * (3 + 0.4 * k);

  // Popularity is a log of momentum, anchored so that a typical #1 reads about 90.
  const topMomentum = median(
    sampleDays.map((d) => {
      const top = rank('global', d, 1).indices[0];
      return top === undefined ? 1 : momentum(top, d, seasonOf(d));
    }),
  );

  // ---- renames: one charting artist about every 40 days through the window (so no 60-day window
  // inside it lacks one), and a few others anywhere, charting or not.
  const renameRng = createRng(hashString(`${seedKey}:renames`));
  const renameFrom = dayNumber(renameWindow.from);
  const renameTo = dayNumber(renameWindow.to);
  const rename = (artist: (typeof artists)[number], day: number) => {
    artist.rename = {
      artistId: artist.id,
      on: dateOfDay(day),
      before: artist.name,
      after: renamedArtist(renameRng, artist.homeMarket, artist.name),
    };
  };
  for (let slot = renameFrom + 20; slot <= renameTo; slot += 40) {
    const day = Math.min(renameTo, slot + renameRng.int(-8, 8));
    const charting = rank('global', day, chartSizes.global).indices;
    const start = renameRng.int(0, charting.length - 1);
    for (let step = 0; step < charting.length; step += 1) {
      const track = tracks[charting[(start + step) % charting.length] as number] as CatalogTrack;
      const artist = artists.find((a) => a.id === track.artistIds[0]);
      if (artist && artist.index >= trickyCount && !artist.rename) {
        rename(artist, day);
        break;
      }
    }
  }
  const extraRenames = Math.max(1, Math.round(opts.artists * 0.01));
  for (let r = 0; r < extraRenames; r += 1) {
    const artist = artistAt(renameRng.int(trickyCount, opts.artists - 1));
    if (!artist.rename) rename(artist, renameRng.int(renameFrom, renameTo));
  }

  // ---- lookups
  const trackById = new Map(tracks.map((t) => [t.id, t]));
  const albumById = new Map(albums.map((a) => [a.id, a]));
  const artistById = new Map(artists.map((a) => [a.id, a]));
  const renames = artists
    .flatMap((a) => (a.rename ? [a.rename] : []))
    .sort((x, y) => x.on.localeCompare(y.on) || x.artistId.localeCompare(y.artistId));
  const publicArtists: CatalogArtist[] = artists.map(({ id, index, name, homeMarket, rename: r }) => ({
    id,
    index,
    name,
    homeMarket,
    rename: r,
  }));

  // Paging asks for the same chart several times in a row; keep the latest few hundred. The
  // catalog sample is cached here too, under its own chart id.
  const chartCache = new Map<string, readonly string[]>();
  const cacheLimit = 512;
  const remember = (key: string, ids: readonly string[]) => {
    chartCache.set(key, ids);
    if (chartCache.size > cacheLimit) chartCache.delete(chartCache.keys().next().value as string);
    return ids;
  };

  const requireDate = (date: string): number => {
    if (!isoDate.safeParse(date).success)
      throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
    return dayNumber(date);
  };

  const chartFor = (chartId: ChartId, date: string): readonly string[] => {
    if (!chartIdSchema.safeParse(chartId).success) throw new RangeError(`unknown chart: ${String(chartId)}`);
    const day = requireDate(date);
    const key = `${chartId}:${day}`;
    return (
      chartCache.get(key) ??
      remember(
        key,
        Object.freeze(
          rank(chartId, day, chartSizes[chartId]).indices.map((i) => (tracks[i] as CatalogTrack).id),
        ),
      )
    );
  };

  // ---- the catalog sample: its members are fixed for the seed, each track in or out by a hash of
  // the seed and its id, and kept in the order of that hash, which is also the playlist's order. A
  // day only filters them, so the sample moves little and its tracks' attributes stay cached.
  const sampleMembers = tracks
    .map((t) => ({ index: t.index, key: hashString(`${seedKey}:${catalogSampleChartId}:${t.id}`) }))
    .filter((m) => m.key / 4294967296 < catalogSampleShare)
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((m) => m.index);

  const catalogSampleFor = (date: string): readonly string[] => {
    const day = requireDate(date);
    const key = `${catalogSampleChartId}:${day}`;
    const cached = chartCache.get(key);
    if (cached) return cached;
    const charting = new Set(chartIds.flatMap((c) => chartFor(c, date)));
    const sample: string[] = [];
    for (const i of sampleMembers) {
      if (sample.length === catalogSampleMaxSize) break;
      const id = (tracks[i] as CatalogTrack).id;
      if ((releaseDay[i] as number) <= day && !charting.has(id)) sample.push(id);
    }
    return remember(key, Object.freeze(sample));
  };

  return {
    seed: opts.seed,
    chartFor,
    catalogSampleFor,
    track: (id) => trackById.get(id),
    album: (id) => albumById.get(id),
    artist: (id) => {
      const a = artistById.get(id);
      return a && publicArtists[a.index];
    },
    catalogTracks: () => tracks,
    catalogAlbums: () => albums,
    catalogArtists: () => publicArtists,
    isReleased(trackId, date) {
      const track = trackById.get(trackId);
      return track !== undefined && (releaseDay[track.index] as number) <= requireDate(date);
    },
    artistName(artistId, date) {
      const artist = artistById.get(artistId);
      if (!artist) throw new RangeError(`unknown artist: ${artistId}`);
      requireDate(date);
      return artist.rename && artist.rename.on <= date ? artist.rename.after : artist.name;
    },
    popularity(trackId, date) {
      const track = trackById.get(trackId);
      if (!track) throw new RangeError(`unknown track: ${trackId}`);
      const day = requireDate(date);
      const m = momentum(track.index, day, seasonOf(day));
      if (m <= 0) return 0;
      // A small per-day wobble, as Spotify's own number moves a little every day.
      const wobble = (unit3(seedHash, track.index, day) - 0.5) * 2;
      return Math.round(clamp(90 + 3 * Math.log2(m / topMomentum) + wobble, 0, 100));
    },
    artistRenames: () => renames,
  };
};
