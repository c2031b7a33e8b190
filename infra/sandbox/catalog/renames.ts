import { renamedArtist } from '../names.js';
import { createRng, hashString } from '../prng.js';
import type { DraftArtist } from './artists.js';
import { dateOfDay, dayNumber } from './days.js';
import { renameWindow, type ArtistRename, type CatalogTrack } from './model.js';

/**
 * Artists' renames: one charting artist about every 40 days through the rename window (so that no
 * 60-day window inside it lacks one), and a few others anywhere, charting or not. They draw from a
 * generator of their own, so that they never move the catalog's other draws.
 *
 * @param globalChartOn the global chart on a day, as catalog indices, best first
 */
export const drawRenames = (
  seedKey: string,
  artists: readonly DraftArtist[],
  tracks: readonly CatalogTrack[],
  evergreenCount: number,
  globalChartOn: (day: number) => readonly number[],
): void => {
  const renameRng = createRng(hashString(`${seedKey}:renames`));
  const renameFrom = dayNumber(renameWindow.from);
  const renameTo = dayNumber(renameWindow.to);
  const rename = (artist: DraftArtist, day: number) => {
    artist.rename = {
      artistId: artist.id,
      on: dateOfDay(day),
      before: artist.name,
      after: renamedArtist(renameRng, artist.homeMarket, artist.name),
    };
  };
  for (let slot = renameFrom + 20; slot <= renameTo; slot += 40) {
    const day = Math.min(renameTo, slot + renameRng.int(-8, 8));
    const charting = globalChartOn(day);
    const start = renameRng.int(0, charting.length - 1);
    for (let step = 0; step < charting.length; step += 1) {
      const track = tracks[charting[(start + step) % charting.length] as number] as CatalogTrack;
      const artist = artists.find((a) => a.id === track.artistIds[0]);
      if (artist && artist.index >= evergreenCount && !artist.rename) {
        rename(artist, day);
        break;
      }
    }
  }
  const extraRenames = Math.max(1, Math.round(artists.length * 0.01));
  for (let r = 0; r < extraRenames; r += 1) {
    const artist = artists[renameRng.int(evergreenCount, artists.length - 1)] as DraftArtist;
    if (!artist.rename) rename(artist, renameRng.int(renameFrom, renameTo));
  }
};

/** Every rename, by date (then artist id). */
export const renamesByDate = (artists: readonly DraftArtist[]): ArtistRename[] =>
  artists
    .flatMap((a) => (a.rename ? [a.rename] : []))
    .sort((x, y) => x.on.localeCompare(y.on) || x.artistId.localeCompare(y.artistId));
