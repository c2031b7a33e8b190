import { describe, expect, it, vi } from 'vitest';
import { logger } from '../../../shared/logger.js';
import { SpotifyAccess } from '../../../shared/spotify/access.js';

describe('Class: SpotifyAccess', () => {
  it('knows nothing of either endpoint, nor of the access level, before any answer', () => {
    const access = new SpotifyAccess();

    expect(access.state('multiTracks')).toBe('unknown');
    expect(access.state('audioFeatures')).toBe('unknown');
    expect(access.reason('multiTracks')).toBeUndefined();
    expect(access.reason('audioFeatures')).toBeUndefined();
    expect(access.level).toBe('unknown');
  });

  it('opens an endpoint on its first answer, and only that endpoint', () => {
    const access = new SpotifyAccess();

    access.open('audioFeatures');

    expect(access.state('audioFeatures')).toBe('open');
    expect(access.state('multiTracks')).toBe('unknown');
    expect(access.level).toBe('unknown');
  });

  it('calls the app extended when multi-id lookups are open, development when they are closed', () => {
    const extended = new SpotifyAccess();
    extended.open('multiTracks');
    expect(extended.level).toBe('extended');

    const development = new SpotifyAccess();
    development.close('multiTracks', 'HTTP 403 on GET /v1/tracks?ids=');
    expect(development.level).toBe('development');
  });

  it('judges the level by multi-id lookups alone, not by audio features', () => {
    const featuresClosed = new SpotifyAccess();
    featuresClosed.close('audioFeatures', 'HTTP 403 on GET /v1/audio-features');
    expect(featuresClosed.level).toBe('unknown');

    const featuresOpen = new SpotifyAccess();
    featuresOpen.open('audioFeatures');
    featuresOpen.close('multiTracks', 'HTTP 403 on GET /v1/tracks?ids=');
    expect(featuresOpen.level).toBe('development');
  });

  it('keeps a closed endpoint closed: a later answer does not open it again', () => {
    const access = new SpotifyAccess();
    access.close('multiTracks', 'HTTP 403 on GET /v1/tracks?ids=');

    access.open('multiTracks');

    expect(access.state('multiTracks')).toBe('closed');
    expect(access.level).toBe('development');
  });

  it('closes an endpoint that was open, with the reason', () => {
    const access = new SpotifyAccess();
    access.open('audioFeatures');

    access.close('audioFeatures', 'HTTP 403 on GET /v1/audio-features');

    expect(access.state('audioFeatures')).toBe('closed');
    expect(access.reason('audioFeatures')).toBe('HTTP 403 on GET /v1/audio-features');
    expect(access.reason('multiTracks')).toBeUndefined();
  });

  it('keeps the first reason an endpoint closed for, and warns of it once', () => {
    const access = new SpotifyAccess();
    // The warning goes to standard error; the logger's own call is what can be read back.
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      access.close('audioFeatures', 'HTTP 403 on GET /v1/audio-features');
      access.close('audioFeatures', 'closed with multi-id lookups');

      expect(access.reason('audioFeatures')).toBe('HTTP 403 on GET /v1/audio-features');
      expect(warn.mock.calls).toEqual([
        [
          'Spotify endpoint closed to this app; using the fallbacks',
          { endpoint: 'audioFeatures', reason: 'HTTP 403 on GET /v1/audio-features' },
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});
