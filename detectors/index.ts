/**
 * Public entry of the detectors library: the registry of methods and the default detector factory.
 */
import { cusum } from './cusum.ts';
import { dailyProfile } from './daily-profile.ts';
import { ensemble } from './ensemble.ts';
import { flatline } from './flatline.ts';
import { proportion } from './proportion.ts';
import { robustZScore } from './robust-zscore.ts';
import type { Detector, DetectorDefinition, DetectorState, SeriesHints } from './types.ts';
import { varianceShift } from './variance-shift.ts';

export type * from './types.ts';

/**
 * Scores at or above this open an alert. Scores are calibrated per series: 0.5 means the point is rarer
 * than 1 in 10,000 of that series' recent points (see docs/detectors.md).
 */
export const ALERT_THRESHOLD = 0.5;

/** Every detector method by name. */
export const registry: ReadonlyMap<string, DetectorDefinition<any, any>> = new Map<string, DetectorDefinition<any, any>>(
  [ensemble, robustZScore, cusum, varianceShift, dailyProfile, flatline, proportion].map((definition) => [definition.method, definition]),
);

/** Error, failure or success ratios: a proportion test over the events behind each value. */
const RATIO_METRIC = /(error|fail|failure|success|timeout|drop|retry)[_.-]?(rate|ratio|fraction|pct|percent)$|_ratio$/i;
/** Monotonic counters by Prometheus naming convention: modelled as per-second rates. */
const COUNTER_METRIC = /_(total|count|sum)$/i;
/** Latencies, durations and sizes: multiplicative noise, modelled on a log scale. */
const LOG_METRIC = /latency|duration|response[_.-]?time|_p\d{2,3}$|_seconds$|_ms$|_bytes$|size/i;

/**
 * Creates the detector changewatch uses for a series: the proportion test for error ratios, else the
 * ensemble, on per-second rates for counters and on a log scale for latencies and sizes.
 */
export function createDefaultDetector(hints: SeriesHints = {}): Detector {
  const metric = hints.metric ?? '';
  if (RATIO_METRIC.test(metric)) return proportion.create();
  if (COUNTER_METRIC.test(metric)) return ensemble.create({ transform: 'rate' });
  if (LOG_METRIC.test(metric)) return ensemble.create({ transform: 'log' });
  return ensemble.create();
}

/** Restores any registered detector from its serialized state; throws on an unknown method. */
export function restoreDetector(state: DetectorState): Detector {
  const def = registry.get(state.method);
  if (!def) throw new Error(`unknown detector method "${state.method}"`);
  return def.restore(state);
}
