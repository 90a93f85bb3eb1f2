/**
 * The configurations `bench:nab` compares: the default detector and its neighbours. `--neighbours` reports
 * the mean of their standard scores (a plateau check) and the leave-one-category-out score chooses among
 * them on six categories at a time, so this list is the "parameters" that LOCO fits.
 *
 * To point both at another detector, change `CANDIDATES` (or call `buildCandidates` with other factories):
 * nothing else in the bench knows what the candidates are.
 */
import { ensemble, type EnsembleOptions } from '../../detectors/ensemble.ts';
import { createDefaultDetector } from '../../detectors/index.ts';
import type { Detector } from '../../detectors/types.ts';

/** A configuration: its label and a factory of fresh detectors (one per corpus file). */
export type CandidateFactory = [label: string, create: () => Detector];

/**
 * Each main option of `detectors/ensemble.ts` moved down and up to a value an engineer could as well have
 * chosen (docs/detectors.md reports means over this set); the defaults are the first entry.
 */
export const NEIGHBOUR_OPTIONS: ReadonlyArray<[string, Partial<EnsembleOptions>]> = [
  ['defaults', {}],
  ['warm-up 50', { warmup: 50 }],
  ['warm-up 200', { warmup: 200 }],
  ['cooldown 50', { cooldown: 50 }],
  ['cooldown 200', { cooldown: 200 }],
  ['fast level rate 0.1', { fast: { ...ensemble.defaults.fast, level: 0.1 } }],
  ['fast level rate 0.4', { fast: { ...ensemble.defaults.fast, level: 0.4 } }],
  ['slow level rate 0.01', { slow: { ...ensemble.defaults.slow, level: 0.01 } }],
  ['slow level rate 0.001', { slow: { ...ensemble.defaults.slow, level: 0.001 } }],
  ['CUSUM slack 0.75', { cusumSlack: 0.75 }],
  ['CUSUM slack 1.25', { cusumSlack: 1.25 }],
  ['calibration decay 0.0005', { tailDecay: 0.0005 }],
  ['calibration decay 0.0002', { tailDecay: 0.0002 }],
];

/**
 * The candidate list: `defaults` first (built by `createDefaults`), then one entry per neighbour of
 * `NEIGHBOUR_OPTIONS`, built by `createNeighbour` from its options.
 */
export function buildCandidates(createDefaults: () => Detector, createNeighbour: (options: Partial<EnsembleOptions>) => Detector): CandidateFactory[] {
  return NEIGHBOUR_OPTIONS.map(([label, options]): CandidateFactory => (label === 'defaults' ? [label, createDefaults] : [label, () => createNeighbour(options)]));
}

/** The default detector (what the pipeline uses) and the default ensemble's twelve neighbours. */
export const CANDIDATES: CandidateFactory[] = buildCandidates(
  () => createDefaultDetector(),
  (options) => ensemble.create(options),
);
