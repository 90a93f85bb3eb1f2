/**
 * Robust z-score: how many robust σ a point lies from a fast, outlier-resistant level. Catches spikes
 * and dips.
 *
 * The level is a Huber-clipped EWMA and σ comes from an EWMA of absolute deviations, a streaming stand-in
 * for the median and MAD of a sliding window at O(1) cost and a few numbers of state.
 *
 * @example
 * ```ts
 * const d = robustZScore.create();
 * for (let i = 0; i < 200; i++) d.update({ timestamp: i * 60_000, value: 10 + (i % 3) });
 * d.update({ timestamp: 200 * 60_000, value: 50 }).score; // > 0.5
 * ```
 */
import { BASE_SCALARS, CalibratedDetector, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import { LEVEL_SCALARS, levelInit, levelLearn, levelSigma, levelValue, type LevelRates } from './internal/robust-level.ts';
import type { DetectorDefinition } from './types.ts';

/** Options of the robust z-score detector. */
export interface RobustZScoreOptions extends CalibratedOptions {
  /** The robust level (rates are 1 / horizon in points). */
  level: LevelRates;
  /** Half-width of the shown band, in σ. */
  bandSigmas: number;
}

const DEFAULTS: RobustZScoreOptions = {
  warmup: 100,
  tailDecay: 0.0003,
  level: { level: 0.2, spread: 0.02, clip: 3 },
  bandSigmas: 4,
};

const LEVEL = BASE_SCALARS;

class RobustZScore extends CalibratedDetector<RobustZScoreOptions> {
  readonly method = 'robust-zscore';

  protected start(x: number): void {
    levelInit(this.s, LEVEL, x);
  }

  protected observe(x: number, _time: number, n: number): Observation {
    const s = this.s;
    const level = levelValue(s, LEVEL);
    const sigma = levelSigma(s, LEVEL, this.quantum);
    levelLearn(s, LEVEL, x, this.options.level, n, this.quantum);
    return { statistic: Math.abs(x - level) / sigma, expected: level, band: this.options.bandSigmas * sigma, what: x >= level ? 'a spike' : 'a dip' };
  }
}

/** Registry entry for the robust z-score detector. */
export const robustZScore: DetectorDefinition<RobustZScoreOptions, CalibratedState> = {
  method: 'robust-zscore',
  description: 'Flags spikes and dips: points many robust standard deviations away from a fast outlier-resistant level.',
  defaults: DEFAULTS,
  create: (options) => new RobustZScore({ ...DEFAULTS, ...options, level: { ...DEFAULTS.level, ...options?.level } }, ...CalibratedDetector.allocate(LEVEL_SCALARS, 0)),
  restore: (state) => {
    const options = state.options as Partial<RobustZScoreOptions>;
    return new RobustZScore({ ...DEFAULTS, ...options, level: { ...DEFAULTS.level, ...options.level } }, ...CalibratedDetector.load(state.state, LEVEL_SCALARS, 0));
  },
};
