/**
 * When did a series start to depart from its normal level? Detectors fire only once a deviation is
 * unmistakable, which on a slow ramp can be minutes after the metric began to move; a one-sided
 * CUSUM run backwards-anchored on the crossing finds where the run began.
 *
 * On 10 s samples that start is uncertain by minutes (a noise excursion just before a ramp is
 * absorbed into the run), so it comes with an interval: every start whose evidence for a shift, up
 * to the crossing, is within a margin of the best start's.
 */
import type { SeriesTrack } from './track.ts';

const MINUTE = 60_000;
/** Normal level is learned from this window before the onset... */
const BASELINE_FROM_MS = 40 * MINUTE;
/** ...ending this long before it, so a slow ramp does not leak into the baseline. */
const BASELINE_TO_MS = 10 * MINUTE;
/**
 * The CUSUM looks for a shift of δ robust standard deviations; each increment `δ·(z − δ/2)` is the
 * log-likelihood ratio of that shift against none, and a run is declared at THRESHOLD (a likelihood
 * ratio of e⁶ ≈ 400 : 1). δ is a share of the anomaly's own size, never below 1 σ: a 1 σ wobble just
 * before a 15 σ step is noise, not the step beginning, while a slow ramp still crosses because its
 * early part is a good fraction of what it reaches at the onset.
 */
const MIN_SHIFT = 1;
/**
 * δ as a share of the anomaly's size (its median deviation from the onset to now): half. The run an
 * engineer would call "the anomaly starting" is where the level has gone a good part of the way, not
 * where it first twitched; with δ = half the size, the run starts where the level passes a quarter of
 * it (increments turn positive at z > δ/2). The exact share matters little: on 20 seeds of
 * bench:attribution nobody tuned on (101–120), top-1 per alert was 0.83–0.84 with a half and 0.829
 * with a quarter, against about 0.805 with the fixed 1 σ before (docs/attribution.md).
 */
const SHIFT_SHARE = 0.5;
const THRESHOLD = 6;
/**
 * Starts whose log-likelihood is within this much of the best one form the interval: 2 is about the
 * 95 % profile-likelihood interval (χ²₁ / 2 = 1.92).
 */
const MARGIN = 2;

/** When a run began: the CUSUM's estimate and the interval of starts about as likely as it. */
export interface Departure {
  /** The run start (the first sample after the CUSUM was last zero). */
  at: number;
  /** Earliest and latest start whose log-likelihood is within MARGIN of the best (earliest ≤ at ≤ latest). */
  earliest: number;
  latest: number;
}

/**
 * Event time at which `track` began its run away from normal in `direction` (+1 up, -1 down), found
 * between 10 minutes before `onset` and `now`; null when there is too little history or no run.
 */
export function departureTime(track: SeriesTrack, onset: number, now: number, direction: number): number | null {
  return departure(track, onset, now, direction)?.at ?? null;
}

/**
 * departureTime with its uncertainty: the run start, and the span of starts whose log-likelihood
 * (the CUSUM increments summed from that start to the crossing) is within MARGIN of the run's. One
 * pass forwards to the crossing, one backwards over the same samples: O(ring).
 */
export function departure(track: SeriesTrack, onset: number, now: number, direction: number): Departure | null {
  const history = track.history;
  const from = onset - BASELINE_FROM_MS;
  const to = onset - BASELINE_TO_MS;
  const order = history.rankOrder();
  let median: number;
  let mad: number;
  if (order) {
    // The baseline read in the ring's value order is already sorted. Against sorting the window, only
    // a zero's sign can differ, and neither the spread nor the run below depend on it.
    const { index, times, values } = order;
    const sorted = new Float64Array(history.countBetween(from, to));
    if (sorted.length < 20) return null;
    let j = 0;
    for (let k = 0; k < index.length; k++) {
      const at = index[k]!;
      const time = times[at]!;
      if (time >= from && time < to) sorted[j++] = values[at]!;
    }
    median = middle(sorted);
    const deviations = new Float64Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) deviations[i] = Math.abs(sorted[i]! - median);
    mad = middle(deviations.sort());
  } else {
    const baseline = history.valuesBetween(from, to);
    if (baseline.length < 20) return null;
    const sorted = [...baseline].sort((a, b) => a - b);
    median = middle(sorted);
    mad = middle(sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b));
  }
  const sigma = Math.max(1.4826 * mad, Math.abs(median) * 1e-3, 1e-12);
  const shift = shiftFor(track, onset, now, median, sigma, direction);
  let sum = 0;
  let runStart: number | null = null;
  const end = now + 1;
  for (let i = 0; i < history.length; i++) {
    const time = history.timeAt(i);
    if (!(time >= to && time < end)) continue;
    const value = history.valueAt(i);
    sum = Math.max(0, sum + shift * ((direction * (value - median)) / sigma - shift / 2));
    if (sum === 0) runStart = null;
    else runStart ??= time;
    if (sum >= THRESHOLD) {
      const { earliest, latest } = likelyStarts(track, i, to, median, sigma, direction, shift, sum);
      return { at: runStart!, earliest: Math.min(earliest, runStart!), latest: Math.max(latest, runStart!) };
    }
  }
  return null;
}

/**
 * Walks back from the crossing (sample `crossing`, CUSUM value `best`, which is the largest sum of
 * increments from any start to it) and returns the earliest and latest start whose sum is within MARGIN.
 */
function likelyStarts(track: SeriesTrack, crossing: number, to: number, median: number, sigma: number, direction: number, shift: number, best: number): { earliest: number; latest: number } {
  const history = track.history;
  let sum = 0;
  let earliest = Infinity;
  let latest = -Infinity;
  for (let i = crossing; i >= 0; i--) {
    const time = history.timeAt(i);
    if (time < to) continue;
    sum += shift * ((direction * (history.valueAt(i) - median)) / sigma - shift / 2);
    if (sum >= best - MARGIN) {
      if (time < earliest) earliest = time;
      if (time > latest) latest = time;
    }
  }
  return { earliest, latest };
}

/**
 * The shift the CUSUM looks for: SHIFT_SHARE of the median deviation (in σ, in `direction`) of the
 * samples from the onset to now, at least MIN_SHIFT.
 */
function shiftFor(track: SeriesTrack, onset: number, now: number, median: number, sigma: number, direction: number): number {
  const after = track.history.valuesBetween(onset, now + 1);
  if (!after.length) return MIN_SHIFT;
  const deviations = after.map((v) => (direction * (v - median)) / sigma).sort((a, b) => a - b);
  return Math.max(MIN_SHIFT, SHIFT_SHARE * middle(deviations));
}

function middle(sorted: ArrayLike<number>): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
