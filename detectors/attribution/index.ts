/**
 * Public entry of the change-attribution engine: create or restore an engine, its options, and the
 * change-failure statistics built on its verdicts.
 */
import { ChangeAttributor, type AttributorJSON, type AttributorJSONVersion1 } from './engine.ts';
import { ATTRIBUTION_DEFAULTS, type AttributorOptions } from './options.ts';
import type { Attributor } from './types.ts';

export type * from './types.ts';
export { ATTRIBUTION_DEFAULTS, type AttributorOptions } from './options.ts';
export { agentOf, computeChangeStats, LINK_CONFIDENCE, UNNAMED_AGENT, type IncidentVerdict, type TimeRange } from './change-stats.ts';

/** Creates an attribution engine; unspecified options take ATTRIBUTION_DEFAULTS. */
export function createAttributor(options: Partial<AttributorOptions> = {}): Attributor {
  return new ChangeAttributor({ ...ATTRIBUTION_DEFAULTS, ...options });
}

/**
 * Restores an engine from the `toJSON()` output of another; it continues exactly where that one was,
 * with `options` (the configuration of now) replacing the saved ones they name.
 */
export function restoreAttributor(json: unknown, options: Partial<AttributorOptions> = {}): Attributor {
  return ChangeAttributor.fromJSON(json as AttributorJSON | AttributorJSONVersion1, options);
}
