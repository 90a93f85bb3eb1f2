/** How detectors score a metric that stopped reporting, from its typical interval between points. */
import { formatNumber } from './format.ts';
import { safeScore } from './sanitize.ts';
import type { Score } from '../types.ts';

/**
 * The silence scores 0.5 (pages) after this many typical intervals without a point: one or two missed
 * scrapes are routine (a timeout, a collector restart), ten in a row are not.
 */
export const SILENT_INTERVALS = 10;
/**
 * ...but never later than this: a service silent for a quarter of an hour is down or cut off whatever
 * its sampling interval (at 5-minute points, ten intervals would be 50 minutes; Prometheus already
 * marks a series stale after 5 minutes), so slow series page after fewer missed points...
 */
export const MAX_SILENCE_MS = 15 * 60_000;
/** ...and never after fewer than this many: a late point or two of an hourly series is not an outage. */
export const MIN_SILENT_INTERVALS = 3;

/**
 * Scores the silence from `lastTime` to `now` against the typical `interval` between points; `ready` is
 * false while the detector is warming up (it then says "reporting"). `expected` is shown as the band.
 */
export function silenceScore(now: number, lastTime: number, interval: number, expected: number, ready: boolean): Score {
  const silent = now - lastTime;
  if (!ready || !(interval > 0) || !(silent > interval)) return { score: 0, expected, lower: expected, upper: expected, reason: 'reporting' };
  const missed = silent / interval;
  // The score reaches 0.5 when the silence lasts `pageAfter`: ten intervals, capped at MAX_SILENCE_MS, at least three.
  const pageAfter = Math.max(MIN_SILENT_INTERVALS * interval, Math.min(SILENT_INTERVALS * interval, MAX_SILENCE_MS));
  const counted = (SILENT_INTERVALS * silent) / pageAfter;
  return {
    score: safeScore(counted / (counted + SILENT_INTERVALS)),
    expected,
    lower: expected,
    upper: expected,
    reason: `no point for ${formatNumber(silent / 1000)} s, about ${formatNumber(missed)} usual intervals`,
  };
}
