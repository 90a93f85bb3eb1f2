/**
 * A decayed, log-binned histogram of a non-negative statistic that answers "how rare is this value for
 * this series?" as a tail probability. It is the calibration layer shared by every detector: raw
 * deviations of different kinds become comparable surprises, `-log10(P(statistic ≥ value))`.
 *
 * Layout: `TAIL_BINS` counts in a Float32Array and two scalars (weight, total) in a Float64Array.
 * Decay is lazy: instead of multiplying every bin by `1 - decay` per observation, each new observation
 * is added with a weight that grows by `1 / (1 - decay)`, and everything is rescaled once it gets large.
 */

/** Number of histogram bins of one tail estimator. */
export const TAIL_BINS = 32;
/** Number of Float64 slots of one tail estimator (weight, total). */
export const TAIL_SCALARS = 2;

/** Lower edge of the second bin; everything below it shares bin 0. */
const FIRST_EDGE = 0.25;
/** Ratio between consecutive bin edges (33 % wide bins, edges from 0.25 to about 1,300). */
const RATIO = 1.33;
const LOG_RATIO = Math.log(RATIO);
/** Upper edge of the last finite bin; the last bin holds everything above it. */
const LAST_EDGE = FIRST_EDGE * RATIO ** (TAIL_BINS - 2);
/** Exponent of the power-law tail assumed beyond the largest value seen. */
const EXTRAPOLATION_POWER = 2;
/**
 * Share of a histogram's mass, at its top, that `tailObserveSmoothed` fits with an exponential tail: the
 * top 2 %, about 66 of the ≈ 3,300 points a calibration remembers.
 */
const SMOOTHED_SHARE = 0.02;
/** Rescale the lazy weights before they lose Float32 range. */
const RESCALE_AT = 1e12;

const WEIGHT = 0;
const TOTAL = 1;

/** Upper edge of each bin (the last bin is open above; its entry repeats the last finite edge). */
const UPPER_EDGES = Float64Array.from({ length: TAIL_BINS }, (_, k) => (k >= TAIL_BINS - 1 ? LAST_EDGE : FIRST_EDGE * RATIO ** k));
/** A representative value of each bin for the fitted tail (the open last bin: half a bin above its edge). */
const MIDPOINTS = Float64Array.from({ length: TAIL_BINS }, (_, k) =>
  k === 0 ? UPPER_EDGES[0]! / 2 : k === TAIL_BINS - 1 ? LAST_EDGE * Math.sqrt(RATIO) : (UPPER_EDGES[k - 1]! + UPPER_EDGES[k]!) / 2,
);

/** The bin a value falls into. */
function binOf(z: number): number {
  if (!(z >= FIRST_EDGE)) return 0;
  if (z >= LAST_EDGE) return TAIL_BINS - 1;
  return Math.min(TAIL_BINS - 2, 1 + Math.floor(Math.log(z / FIRST_EDGE) / LOG_RATIO));
}

/** Resets a tail estimator at `scalars[s]` and `bins[b]` to "nothing seen yet". */
export function tailInit(scalars: Float64Array, s: number, bins: Float32Array, b: number): void {
  scalars[s + WEIGHT] = 1;
  scalars[s + TOTAL] = 0;
  bins.fill(0, b, b + TAIL_BINS);
}

/**
 * Surprise of `z`: `-log10` of the estimated probability of a value at least as large.
 * Beyond the largest value seen it extrapolates a power-law tail, so bigger records keep scoring higher.
 */
export function tailSurprise(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number): number {
  return surpriseInBin(scalars, s, bins, b, z, binOf(z), false);
}

/** `tailSurprise` then `tailLearn`, locating the bin once. */
export function tailObserve(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, decay: number): number {
  return observe(scalars, s, bins, b, z, decay, false);
}

/**
 * `tailObserve` with a smoothed top: among the values seen so far, a value is never called rarer than an
 * exponential tail fitted to the histogram's top `SMOOTHED_SHARE` says (peaks over threshold, as in SPOT).
 * The top bins of a 3,300-point memory hold a handful of points each, so their own estimate jumps from
 * bin to bin; beyond the largest value seen the power law applies as in `tailObserve`.
 */
export function tailObserveSmoothed(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, decay: number): number {
  return observe(scalars, s, bins, b, z, decay, true);
}

function observe(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, decay: number, smoothed: boolean): number {
  const k = binOf(z);
  const surprise = surpriseInBin(scalars, s, bins, b, z, k, smoothed);
  learnInBin(scalars, s, bins, b, k, decay);
  return surprise;
}

function surpriseInBin(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, k: number, smoothed: boolean): number {
  const weight = scalars[s + WEIGHT]!;
  const total = scalars[s + TOTAL]!;
  let above = 0;
  for (let j = k + 1; j < TAIL_BINS; j++) above += bins[b + j]!;
  // Only a value in the top share of the history can be capped by the fitted tail.
  const inFittedTop = smoothed && above < SMOOTHED_SHARE * total;
  const lower = k === 0 ? 0 : UPPER_EDGES[k - 1]!;
  const fraction = k === TAIL_BINS - 1 ? 1 : Math.min(1, (z - lower) / (UPPER_EDGES[k]! - lower));
  above += bins[b + k]! * (1 - fraction);
  // Nothing learned yet: no evidence that anything is unusual.
  if (total === 0) return 0;
  // Half an observation of prior mass beyond every value keeps unseen values from having probability zero.
  let tail = (above + 0.5 * weight) / (total + 0.5 * weight);
  let beyondLargest = false;
  if (above < 0.5 * weight) {
    let top = TAIL_BINS - 1;
    while (top > 0 && bins[b + top]! < 0.5 * weight) top--;
    const largest = UPPER_EDGES[top]!;
    beyondLargest = z > largest;
    if (beyondLargest) tail *= (largest / z) ** EXTRAPOLATION_POWER;
  }
  if (inFittedTop && !beyondLargest) tail = Math.max(tail, fittedTail(bins, b, z, total, weight));
  const surprise = -Math.log10(tail);
  return surprise > 0 ? surprise : 0;
}

/**
 * P(statistic ≥ z) from an exponential tail fitted to the histogram's top `SMOOTHED_SHARE`: the threshold
 * is the lower edge of the highest bin at which that share is reached, the scale the mean excess over it.
 * 0 when `z` lies below the threshold.
 */
function fittedTail(bins: Float32Array, b: number, z: number, total: number, weight: number): number {
  let mass = 0;
  let t = TAIL_BINS - 1;
  for (; t > 0; t--) {
    mass += bins[b + t]!;
    if (mass >= SMOOTHED_SHARE * total) break;
  }
  const threshold = t === 0 ? 0 : UPPER_EDGES[t - 1]!;
  if (!(z > threshold) || !(mass > 0)) return 0;
  let excess = 0;
  for (let j = t; j < TAIL_BINS; j++) excess += bins[b + j]! * (MIDPOINTS[j]! - threshold);
  const meanExcess = Math.max(1e-9, excess / mass);
  return ((mass + 0.5 * weight) / (total + 0.5 * weight)) * Math.exp(-(z - threshold) / meanExcess);
}

/** Adds `z` to the histogram, decaying older observations by `decay` per observation. */
export function tailLearn(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, decay: number): void {
  learnInBin(scalars, s, bins, b, binOf(z), decay);
}

function learnInBin(scalars: Float64Array, s: number, bins: Float32Array, b: number, k: number, decay: number): void {
  let weight = scalars[s + WEIGHT]! / (1 - decay);
  let total = scalars[s + TOTAL]! + weight;
  bins[b + k] = bins[b + k]! + weight;
  if (weight > RESCALE_AT) {
    for (let j = 0; j < TAIL_BINS; j++) bins[b + j] = bins[b + j]! / weight;
    total /= weight;
    weight = 1;
  }
  scalars[s + WEIGHT] = weight;
  scalars[s + TOTAL] = total;
}

/**
 * Episode bookkeeping: a second set of `TAIL_BINS` cells (at `pending`) that records what the tail at
 * `bins[b]` learned since an episode opened, so the episode can later be taken back out (`tailDiscard`)
 * or kept (`tailCommit`). One Float64 slot (at `scalars[p]`) holds the pending total.
 */
export const PENDING_SCALARS = 1;

/** Learns `z` into the tail and records it as pending (see `tailDiscard`). */
export function tailLearnPending(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, decay: number, p: number, pending: number): void {
  const k = binOf(z);
  const before = scalars[s + WEIGHT]!;
  learnInBin(scalars, s, bins, b, k, decay);
  const added = before / (1 - decay);
  bins[pending + k] = bins[pending + k]! + added;
  scalars[p] = scalars[p]! + added;
  // `learnInBin` rescaled the tail: rescale what is pending the same way.
  if (scalars[s + WEIGHT] === 1 && added > RESCALE_AT) {
    for (let j = 0; j < TAIL_BINS; j++) bins[pending + j] = bins[pending + j]! / added;
    scalars[p] = scalars[p]! / added;
  }
}

/** Surprise of `z` against the tail without what is pending: the history before the episode. */
export function tailSurpriseCommitted(scalars: Float64Array, s: number, bins: Float32Array, b: number, z: number, p: number, pending: number): number {
  const k = binOf(z);
  const weight = scalars[s + WEIGHT]!;
  const total = scalars[s + TOTAL]! - scalars[p]!;
  if (!(total > 0)) return 0;
  let above = 0;
  for (let j = k + 1; j < TAIL_BINS; j++) above += Math.max(0, bins[b + j]! - bins[pending + j]!);
  const inBin = Math.max(0, bins[b + k]! - bins[pending + k]!);
  const lower = k === 0 ? 0 : UPPER_EDGES[k - 1]!;
  const fraction = k === TAIL_BINS - 1 ? 1 : Math.min(1, (z - lower) / (UPPER_EDGES[k]! - lower));
  above += inBin * (1 - fraction);
  let tail = (above + 0.5 * weight) / (total + 0.5 * weight);
  if (above < 0.5 * weight) {
    let top = TAIL_BINS - 1;
    while (top > 0 && bins[b + top]! - bins[pending + top]! < 0.5 * weight) top--;
    const largest = UPPER_EDGES[top]!;
    if (z > largest) tail *= (largest / z) ** EXTRAPOLATION_POWER;
  }
  const surprise = -Math.log10(tail);
  return surprise > 0 ? surprise : 0;
}

/** Takes everything pending back out of the tail, as if the episode had never been learned. */
export function tailDiscard(scalars: Float64Array, s: number, bins: Float32Array, b: number, p: number, pending: number): void {
  for (let j = 0; j < TAIL_BINS; j++) {
    bins[b + j] = Math.max(0, bins[b + j]! - bins[pending + j]!);
    bins[pending + j] = 0;
  }
  scalars[s + TOTAL] = Math.max(0, scalars[s + TOTAL]! - scalars[p]!);
  scalars[p] = 0;
}

/** Keeps what is pending in the tail (the episode becomes ordinary history). */
export function tailCommit(scalars: Float64Array, bins: Float32Array, p: number, pending: number): void {
  bins.fill(0, pending, pending + TAIL_BINS);
  scalars[p] = 0;
}
