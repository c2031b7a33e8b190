import { gauss3, hashString, type Rng } from '../prng.js';
import { dayNumber, msPerDay } from './days.js';
import { chartIds, chartSizes, type CatalogArtist, type ChartId } from './model.js';

/**
 * How the charts move. Every released track has a score on a day,
 *   appeal × weight(chart) × curve(days since release) × season × momentum noise × daily noise,
 * and a chart is the top N scores. The curve rises over a few days after release, decays with a
 * track-specific half-life, and leaves a slowly fading tail, so recent releases climb in, old hits
 * slide out, and tracks near the cut-off drop out and come back a few days later (re-entries).
 * The momentum noise moves slowly (a knot a week), the daily noise does not.
 *
 * Tuned so that ~40% of the catalog ever charts, global sees ~6 entries a day, and the hostile
 * evergreens stay on it.
 */

const knotDays = 7;
const momentumSigma = 0.3;
const dailySigma = 0.06;

/** The share of regular tracks that are holiday songs, which only chart around Christmas. */
export const holidayShare = 0.012;

/**
 * Every track's chart parameters, by catalog index, in typed arrays: ranking a day scores every
 * track, so they are kept flat rather than on the track objects.
 */
export interface ChartDynamics {
  readonly size: number;
  readonly releaseDay: Int32Array;
  readonly appeal: Float64Array;
  readonly riseDays: Float64Array;
  readonly tau: Float64Array;
  readonly floorShare: Float64Array;
  readonly tauLong: Float64Array;
  readonly holiday: Uint8Array;
  readonly noiseScale: Float64Array;
  readonly weights: Readonly<Record<ChartId, Float64Array>>;
  readonly momentumSalt: number;
  readonly chartSalts: Readonly<Record<ChartId, number>>;
}

/** Room for `size` tracks' parameters, and the noise salts of the seed. */
export const allocateChartDynamics = (size: number, seedKey: string): ChartDynamics => ({
  size,
  releaseDay: new Int32Array(size),
  appeal: new Float64Array(size),
  riseDays: new Float64Array(size),
  tau: new Float64Array(size),
  floorShare: new Float64Array(size),
  tauLong: new Float64Array(size),
  holiday: new Uint8Array(size),
  noiseScale: new Float64Array(size).fill(1),
  weights: Object.fromEntries(chartIds.map((c) => [c, new Float64Array(size)])) as Record<
    ChartId,
    Float64Array
  >,
  momentumSalt: hashString(`${seedKey}:momentum`),
  chartSalts: Object.fromEntries(chartIds.map((c) => [c, hashString(`${seedKey}:daily:${c}`)])) as Record<
    ChartId,
    number
  >,
});

/** How much each chart likes a track: its home market's chart much more than the others. */
export const drawChartWeights = (rng: Rng, dynamics: ChartDynamics, i: number, lead: CatalogArtist) => {
  for (const c of chartIds) {
    dynamics.weights[c][i] =
      c === 'global' ? 1 : lead.homeMarket === c ? 3 * rng.logNormal(0, 0.25) : 0.45 * rng.logNormal(0, 0.5);
  }
};

/**
 * An evergreen hostile single's parameters: a flat curve and little noise, so that it sits on the
 * global chart every day. Its appeal is set by `calibrateEvergreens`, once the chart's level is known.
 */
export const setEvergreen = (
  rng: Rng,
  dynamics: ChartDynamics,
  i: number,
  releaseDay: number,
  lead: CatalogArtist,
) => {
  dynamics.releaseDay[i] = releaseDay;
  dynamics.riseDays[i] = 0.01;
  dynamics.tau[i] = 1e9;
  dynamics.floorShare[i] = 1;
  dynamics.tauLong[i] = 1e9;
  dynamics.noiseScale[i] = 0.25;
  drawChartWeights(rng, dynamics, i, lead);
};

/**
 * A regular track's parameters. `position` is how much its place on the release favours it: lead
 * singles carry an album; deep cuts and compilations rarely chart.
 */
export const drawTrackDynamics = (
  rng: Rng,
  dynamics: ChartDynamics,
  i: number,
  releaseDay: number,
  credited: CatalogArtist & { readonly star: number },
  position: number,
) => {
  const isHoliday = rng.chance(holidayShare);
  dynamics.releaseDay[i] = releaseDay;
  dynamics.appeal[i] = credited.star * rng.logNormal(0, 0.7) * position * (isHoliday ? 4 : 1);
  dynamics.riseDays[i] = 1 + rng.logNormal(1, 0.6);
  dynamics.tau[i] = rng.logNormal(Math.log(60), 0.7);
  // A few become evergreens that stay for years, as real charts keep their classics.
  const evergreen = rng.chance(0.04);
  dynamics.floorShare[i] = evergreen ? 0.35 + 0.3 * rng.next() : 0.04 + 0.25 * rng.next() ** 2;
  dynamics.tauLong[i] = isHoliday ? 1e9 : rng.logNormal(Math.log(evergreen ? 3000 : 900), 0.5);
  dynamics.holiday[i] = isHoliday ? 1 : 0;
  drawChartWeights(rng, dynamics, i, credited);
};

/** 0..1 in the weeks around Christmas, 0 elsewhere. */
export const seasonOf = (day: number): number => {
  const date = new Date(day * msPerDay);
  const peak = Date.UTC(date.getUTCFullYear(), 11, 22) / msPerDay;
  const distance = Math.min(Math.abs(day - peak), Math.abs(day - (peak - 365)));
  return Math.exp(-((distance / 14) ** 2));
};

/** How much a track is listened to on a day, before any chart's regional taste or daily noise. */
export const momentumOf = (d: ChartDynamics, i: number, day: number, season: number): number => {
  const age = day - (d.releaseDay[i] as number);
  if (age < 0) return 0;
  const rise = 1 - Math.exp(-(age + 1) / (d.riseDays[i] as number));
  const share = d.floorShare[i] as number;
  const body =
    (1 - share) * Math.exp(-age / (d.tau[i] as number)) + share * Math.exp(-age / (d.tauLong[i] as number));
  const seasonal = d.holiday[i] ? 0.05 + 1.5 * season : 1;
  // Value noise: smooth between weekly knots, so momentum drifts instead of jumping.
  const knot = Math.floor(day / knotDays);
  const f = (day - knot * knotDays) / knotDays;
  const g0 = gauss3(d.momentumSalt, i, knot);
  const g1 = gauss3(d.momentumSalt, i, knot + 1);
  const drift = g0 + (g1 - g0) * f * f * (3 - 2 * f);
  return (
    (d.appeal[i] as number) *
    rise *
    body *
    seasonal *
    Math.exp(momentumSigma * (d.noiseScale[i] as number) * drift)
  );
};

/** The top `size` tracks of a chart on a day (catalog indices), with their scores, best first. */
export const rankChart = (
  d: ChartDynamics,
  chartId: ChartId,
  day: number,
  size: number,
): { indices: number[]; scores: number[] } => {
  const weight = d.weights[chartId];
  const salt = d.chartSalts[chartId];
  const season = seasonOf(day);
  const scores = new Float64Array(d.size);
  const candidates: number[] = [];
  for (let i = 0; i < d.size; i += 1) {
    if ((d.releaseDay[i] as number) > day) continue;
    const m = momentumOf(d, i, day, season);
    if (m === 0) continue;
    scores[i] =
      m * (weight[i] as number) * Math.exp(dailySigma * (d.noiseScale[i] as number) * gauss3(salt, i, day));
    candidates.push(i);
  }
  // Ties are broken by catalog order, so the ranking is total and stable.
  candidates.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const indices = candidates.slice(0, size);
  return { indices, scores: indices.map((i) => scores[i] as number) };
};

// The days the chart's level is measured on: spread over years, so that no season dominates.
const sampleDays = Array.from({ length: 16 }, (_, s) => dayNumber('2020-01-01') + s * 233);

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Sets the evergreen hostile names' appeal so that they sit well inside the global chart every day. */
export const calibrateEvergreens = (d: ChartDynamics, evergreenCount: number): void => {
  const cutOff = median(
    sampleDays.map((day) => rankChart(d, 'global', day, chartSizes.global).scores.at(-1) ?? 0),
  );
  for (let k = 0; k < evergreenCount; k += 1) d.appeal[k] = cutOff * (3 + 0.4 * k);
};

/** A typical global #1's momentum, which popularity is anchored to (it reads about 90). */
export const topMomentumOf = (d: ChartDynamics): number =>
  median(
    sampleDays.map((day) => {
      const top = rankChart(d, 'global', day, 1).indices[0];
      return top === undefined ? 1 : momentumOf(d, top, day, seasonOf(day));
    }),
  );
