import { artistName as generateArtistName, decorateTricky, trickyTracks, type HomeMarket } from '../names.js';
import { spotifyId, type Rng } from '../prng.js';
import type { ArtistRename, CatalogArtist } from './model.js';

/** An artist while the catalog is built: with the star power that scales their tracks' appeal. */
export interface DraftArtist extends CatalogArtist {
  readonly star: number;
  rename: ArtistRename | undefined;
}

/** The share of plain names (artists' and tracks') that get a hostile decoration. */
export const trickyShare = 0.02;

const marketWeights: readonly [HomeMarket, number][] = [
  ['us', 0.35],
  ['gb', 0.15],
  ['br', 0.2],
  ['other', 0.3],
];

const pickMarket = (rng: Rng): HomeMarket => {
  let r = rng.next();
  for (const [market, weight] of marketWeights) {
    r -= weight;
    if (r < 0) return market;
  }
  return 'other';
};

/**
 * The catalog's artists, in index order: the hostile names first (one per tricky track, from no
 * market in particular), then generated ones from a weighted home market.
 */
export const drawArtists = (rng: Rng, seedKey: string, count: number): DraftArtist[] => {
  const artists: DraftArtist[] = [];
  for (let a = 0; a < count; a += 1) {
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
  return artists;
};

/** The artists as the catalog shows them: without the builder's star power. */
export const publishedArtists = (artists: readonly DraftArtist[]): CatalogArtist[] =>
  artists.map(({ id, index, name, homeMarket, rename }) => ({ id, index, name, homeMarket, rename }));
