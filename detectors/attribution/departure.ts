/**
 * When did a series start to depart from its normal level? Detectors fire only once a deviation is
 * unmistakable, which on a slow ramp can be minutes after the metric began to move; a one-sided
 * CUSUM run backwards-anchored on the crossing finds where the run began.
 */
import type { SeriesTrack } from './track.ts';

const MINUTE = 60_000;
/** Normal level is learned from this window before the onset... */
const BASELINE_FROM_MS = 40 * MINUTE;
/** ...ending this long before it, so a slow ramp does not leak into the baseline. */
const BASELINE_TO_MS = 10 * MINUTE;
/** CUSUM slack and decision threshold, in robust standard deviations. */
const SLACK = 0.5;
const THRESHOLD = 6;

/**
 * Event time at which `track` began its run away from normal in `direction` (+1 up, -1 down), found
 * between 10 minutes before `onset` and `now`; null when there is too little history or no run.
 */
export function departureTime(track: SeriesTrack, onset: number, now: number, direction: number): number | null {
  const baseline = track.history.valuesBetween(onset - BASELINE_FROM_MS, onset - BASELINE_TO_MS);
  if (baseline.length < 20) return null;
  const sorted = [...baseline].sort((a, b) => a - b);
  const median = middle(sorted);
  const mad = middle(sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b));
  const sigma = Math.max(1.4826 * mad, Math.abs(median) * 1e-3, 1e-12);
  let sum = 0;
  let runStart: number | null = null;
  for (const { time, value } of track.history.samplesBetween(onset - BASELINE_TO_MS, now + 1)) {
    sum = Math.max(0, sum + (direction * (value - median)) / sigma - SLACK);
    if (sum === 0) runStart = null;
    else runStart ??= time;
    if (sum >= THRESHOLD) return runStart;
  }
  return null;
}

function middle(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
