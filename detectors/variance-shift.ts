/**
 * Variance shift: the short-term mean |z| around a fast robust level over its long-term mean. Catches a
 * metric that gets noisier (or bursts of spikes) without its level moving.
 *
 * @example
 * ```ts
 * const d = varianceShift.create();
 * // 1,000 points of ±1 noise, then ±8 noise: the ratio climbs to ~8 and the score with it.
 * ```
 */
import { BASE_SCALARS, CalibratedDetector, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import { formatNumber } from './internal/format.ts';
import { LEVEL_SCALARS, levelInit, levelLearn, levelSigma, levelValue, type LevelRates } from './internal/robust-level.ts';
import type { DetectorDefinition } from './types.ts';

/** Options of the variance shift detector. */
export interface VarianceShiftOptions extends CalibratedOptions {
  /** The fast robust level deviations are measured from. */
  level: LevelRates;
  /** EWMA rate of the short-term mean |z| (1 / horizon in points). */
  shortRate: number;
  /** EWMA rate of the long-term mean |z|. */
  longRate: number;
  /** |z| is capped here so one giant outlier reads as one outlier, not as a variance change. */
  zCap: number;
}

const DEFAULTS: VarianceShiftOptions = {
  warmup: 100,
  tailDecay: 0.0003,
  level: { level: 0.2, spread: 0.02, clip: 3 },
  shortRate: 0.1,
  longRate: 0.002,
  zCap: 6,
};

const SHORT = BASE_SCALARS;
const LONG = SHORT + 1;
const LEVEL = LONG + 1;
const SCALARS = 2 + LEVEL_SCALARS;

class VarianceShift extends CalibratedDetector<VarianceShiftOptions> {
  readonly method = 'variance-shift';

  protected start(x: number): void {
    levelInit(this.s, LEVEL, x);
  }

  protected observe(x: number, _time: number, n: number): Observation {
    const { s, options } = this;
    const level = levelValue(s, LEVEL);
    const sigma = levelSigma(s, LEVEL, this.quantum);
    const absZ = Math.min(Math.abs(x - level) / sigma, options.zCap);
    s[SHORT] = s[SHORT]! + options.shortRate * (absZ - s[SHORT]!);
    const ratio = s[SHORT]! / (s[LONG]! + 1e-9);
    s[LONG] = s[LONG]! + Math.max(options.longRate, 1 / n) * (absZ - s[LONG]!);
    levelLearn(s, LEVEL, x, options.level, n, this.quantum);
    // The band shows how far the current noise reaches: ratio × the usual 4σ.
    return { statistic: ratio, expected: level, band: 4 * sigma * Math.max(1, ratio), what: `variance ${formatNumber(ratio)}× its usual` };
  }
}

function withDefaults(options: Partial<VarianceShiftOptions> = {}): VarianceShiftOptions {
  return { ...DEFAULTS, ...options, level: { ...DEFAULTS.level, ...options.level } };
}

/** Registry entry for the variance shift detector. */
export const varianceShift: DetectorDefinition<VarianceShiftOptions, CalibratedState> = {
  method: 'variance-shift',
  description: 'Flags a metric that becomes noisier or bursty: short-term mean deviation over its long-term mean.',
  defaults: DEFAULTS,
  create: (options) => new VarianceShift(withDefaults(options), ...CalibratedDetector.allocate(SCALARS, 0)),
  restore: (state) => new VarianceShift(withDefaults(state.options as Partial<VarianceShiftOptions>), ...CalibratedDetector.load(state.state, SCALARS, 0)),
};
