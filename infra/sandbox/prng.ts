import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the sandbox. Two kinds: a sequential generator (mulberry32) for
 * building the catalog once, and stateless hashes for values asked for in any order (a track's
 * noise on a given day), so that a chart for one day never depends on which days were asked
 * before it. Nothing here reads `Math.random` or the clock.
 */

/** murmur3's 32-bit finalizer: a cheap, well-mixed bijection on uint32. */
const fmix32 = (input: number): number => {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** A uint32 hash of three integers; fixed arity so the chart's hot loop allocates nothing. */
export const hash3 = (a: number, b: number, c: number): number =>
  fmix32(Math.imul(fmix32(Math.imul(fmix32(a ^ 0x9e3779b9) ^ b, 0x01000193)) ^ c, 0x01000193));

/** The hash as a number in [0, 1). */
export const unit3 = (a: number, b: number, c: number): number => hash3(a, b, c) / 4294967296;

/**
 * A cheap bell curve in [-3, 3] with mean 0 and standard deviation 1: the sum of three hashed
 * uniforms (Irwin–Hall), rescaled. Bounded on purpose, so that a noise factor has a known maximum.
 */
export const gauss3 = (a: number, b: number, c: number): number =>
  (unit3(a, b, c) + unit3(a ^ 0x68e31da4, b, c) + unit3(a ^ 0x1b56c4e9, b, c) - 1.5) * 2;

/** A uint32 from any string (FNV-1a followed by a finalizer), for seeds and namespaces. */
export const hashString = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
};

/** A sequential generator: the same seed gives the same sequence, on every machine. */
export interface Rng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** A standard normal variate (Box–Muller). */
  normal(): number;
  /** exp(N(mu, sigma)): positive, skewed, like appeal or durations. */
  logNormal(mu: number, sigma: number): number;
}

/** mulberry32: tiny, fast, and good enough for synthetic data. */
export const createRng = (seed: number): Rng => {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    // 1 - next() is in (0, 1], so the logarithm is finite.
    const u = 1 - next();
    const v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
    normal,
    logNormal: (mu, sigma) => Math.exp(mu + sigma * normal()),
  };
};

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A Spotify-shaped id: 22 base62 characters encoding 128 bits, derived from a name such as
 * `"track:42"`. Spotify ids are 128-bit numbers in base62 too, so these look and sort alike.
 */
export const spotifyId = (name: string): string => {
  let n = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 32)}`);
  let out = '';
  for (let i = 0; i < 22; i += 1) {
    out = base62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
};
