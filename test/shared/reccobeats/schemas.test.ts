import { describe, expect, it } from 'vitest';
import { spotifyIdOfHref } from '../../../shared/reccobeats/schemas.js';

describe('Function: spotifyIdOfHref', () => {
  it('reads the Spotify id out of a track or artist link', () => {
    expect(spotifyIdOfHref('https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC')).toBe(
      '4uLU6hMCjMI75M1A2tKUQC',
    );
    expect(spotifyIdOfHref('https://open.spotify.com/artist/0gxyHStUsqpMadRV0Di1Qt?si=abc')).toBe(
      '0gxyHStUsqpMadRV0Di1Qt',
    );
  });

  it('answers undefined, without throwing, for anything that is not such a link', () => {
    for (const href of [
      '',
      'https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC',
      'https://api.reccobeats.com/v1/track/4uLU6hMCjMI75M1A2tKUQC',
      'https://open.spotify.com/track/',
    ]) {
      expect(spotifyIdOfHref(href), href).toBeUndefined();
    }
  });
});
