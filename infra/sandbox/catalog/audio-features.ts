import type { Rng } from '../prng.js';
import type { AudioFeatures } from './model.js';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** `value` held inside [min, max]. */
export const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** A track's audio features, drawn around the values Spotify's charting tracks have. */
export const drawAudioFeatures = (rng: Rng, durationMs: number): AudioFeatures => {
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
