/**
 * Public entry of the detectors library: the registry of methods and the default detector factory.
 */
import { ensemble } from './ensemble.ts';
import { robustZScore } from './robust-zscore.ts';
import type { Detector, DetectorDefinition, DetectorState, SeriesHints } from './types.ts';

export type * from './types.ts';

/** Every detector method by name. */
export const registry: ReadonlyMap<string, DetectorDefinition<any, any>> = new Map<string, DetectorDefinition<any, any>>(
  [ensemble, robustZScore].map((definition) => [definition.method, definition]),
);

/** Creates the detector changewatch uses for a series by default. */
export function createDefaultDetector(_hints: SeriesHints = {}): Detector {
  return ensemble.create();
}

/** Restores any registered detector from its serialized state; throws on an unknown method. */
export function restoreDetector(state: DetectorState): Detector {
  const def = registry.get(state.method);
  if (!def) throw new Error(`unknown detector method "${state.method}"`);
  return def.restore(state);
}
