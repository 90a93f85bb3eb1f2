/** How detectors score a metric that stopped reporting, from its typical interval between points. */
import { formatNumber } from './format.ts';
import { safeScore } from './sanitize.ts';
import type { Score } from '../types.ts';

/** The silence scores 0.5 after this many typical intervals without a point. */
export const SILENT_INTERVALS = 10;

/**
 * Scores the silence from `lastTime` to `now` against the typical `interval` between points; `ready` is
 * false while the detector is warming up (it then says "reporting"). `expected` is shown as the band.
 */
export function silenceScore(now: number, lastTime: number, interval: number, expected: number, ready: boolean): Score {
  const silent = now - lastTime;
  if (!ready || !(interval > 0) || !(silent > interval)) return { score: 0, expected, lower: expected, upper: expected, reason: 'reporting' };
  const missed = silent / interval;
  return {
    score: safeScore(missed / (missed + SILENT_INTERVALS)),
    expected,
    lower: expected,
    upper: expected,
    reason: `no point for ${formatNumber(silent / 1000)} s, about ${formatNumber(missed)} usual intervals`,
  };
}
