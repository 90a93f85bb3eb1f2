/**
 * Public entry of the detectors library: the registry of methods and the default detector factory.
 */
import { cusum } from './cusum.ts';
import { dailyProfile } from './daily-profile.ts';
import { effect } from './effect.ts';
import { ensemble } from './ensemble.ts';
import { flatline } from './flatline.ts';
import { metricKindOf, unitOf } from './metric-kind.ts';
import { practical } from './practical.ts';
import { proportion } from './proportion.ts';
import { robustZScore } from './robust-zscore.ts';
import type { Detector, DetectorDefinition, DetectorState, SeriesHints } from './types.ts';
import { varianceShift } from './variance-shift.ts';

export type * from './types.ts';

/** The default alert threshold (detectors/types.ts says why 0.5). */
export { ALERT_THRESHOLD } from './types.ts';

/** Every detector method by name. */
export const registry: ReadonlyMap<string, DetectorDefinition<any, any>> = new Map<string, DetectorDefinition<any, any>>(
  [practical, effect, ensemble, robustZScore, cusum, varianceShift, dailyProfile, flatline, proportion].map((definition) => [definition.method, definition]),
);

/**
 * Creates the detector changewatch uses for a series: the practical detector for the metric's kind
 * (`metric-kind.ts`): statistical rarity (the proportion test for error ratios, else the ensemble, on a log
 * scale for latencies and sizes) combined with an effect size that says which changes matter.
 */
export function createDefaultDetector(hints: SeriesHints = {}): Detector {
  const kind = metricKindOf(hints.metric);
  const unit = unitOf(hints.metric);
  return practical.create({ kind, ...(hints.effectSize ? { size: hints.effectSize } : {}), ...(unit !== 1 ? { unit } : {}) });
}

/** Restores any registered detector from its serialized state; throws on an unknown method. */
export function restoreDetector(state: DetectorState): Detector {
  const def = registry.get(state.method);
  if (!def) throw new Error(`unknown detector method "${state.method}"`);
  return def.restore(state);
}
