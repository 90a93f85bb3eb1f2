/**
 * CUSUM: a two-sided cumulative sum of deviations from a slow robust level, in σ units. Catches level
 * shifts and slow drifts that are too small for any single point to look odd.
 *
 * Each point adds its clipped deviation minus a slack; the sums reset to zero when they would go
 * negative. When a shift is flagged (score ≥ 0.5) the level jumps to the new value and the sums restart,
 * so one shift raises one alarm.
 *
 * @example
 * ```ts
 * const d = cusum.create();
 * for (let i = 0; i < 300; i++) d.update({ timestamp: i * 60_000, value: 100 + ((i * 7) % 5) - 2 });
 * for (let i = 300; i < 330; i++) d.update({ timestamp: i * 60_000, value: 106 + ((i * 7) % 5) - 2 }); // scores rise
 * ```
 */
import { BASE_SCALARS, CalibratedDetector, HALF_SCORE_SURPRISE, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import { LEVEL_SCALARS, levelInit, levelLearn, levelReset, levelSigma, levelValue, type LevelRates } from './internal/robust-level.ts';
import type { DetectorDefinition } from './types.ts';

/** Options of the CUSUM detector. */
export interface CusumOptions extends CalibratedOptions {
  /** The slow robust level deviations are measured from. */
  level: LevelRates;
  /** Deviations smaller than this many σ do not accumulate. */
  slack: number;
  /** Each point's deviation is clipped at ±this many σ so one spike cannot fake a shift. */
  clip: number;
  /** Half-width of the shown band, in σ. */
  bandSigmas: number;
}

const DEFAULTS: CusumOptions = {
  warmup: 100,
  tailDecay: 0.0003,
  level: { level: 0.01, spread: 0.02, clip: 3 },
  slack: 1,
  clip: 4,
  bandSigmas: 4,
};

const UP = BASE_SCALARS;
const DOWN = UP + 1;
const LEVEL = DOWN + 1;
const SCALARS = 2 + LEVEL_SCALARS;

class Cusum extends CalibratedDetector<CusumOptions> {
  readonly method = 'cusum';

  protected start(x: number): void {
    levelInit(this.s, LEVEL, x);
  }

  protected observe(x: number, _time: number, n: number): Observation {
    const { s, options } = this;
    const level = levelValue(s, LEVEL);
    const sigma = levelSigma(s, LEVEL, this.quantum);
    const z = Math.max(-options.clip, Math.min(options.clip, (x - level) / sigma));
    s[UP] = Math.max(0, s[UP]! + z - options.slack);
    s[DOWN] = Math.max(0, s[DOWN]! - z - options.slack);
    levelLearn(s, LEVEL, x, options.level, n, this.quantum);
    const up = s[UP]! >= s[DOWN]!;
    return {
      statistic: Math.max(s[UP]!, s[DOWN]!),
      expected: level,
      band: options.bandSigmas * sigma,
      what: up ? 'the level shifted up' : 'the level shifted down',
    };
  }

  protected override afterScore(surprise: number, x: number): void {
    if (surprise < HALF_SCORE_SURPRISE) return;
    levelReset(this.s, LEVEL, x);
    this.s[UP] = 0;
    this.s[DOWN] = 0;
  }
}

function withDefaults(options: Partial<CusumOptions> = {}): CusumOptions {
  return { ...DEFAULTS, ...options, level: { ...DEFAULTS.level, ...options.level } };
}

/** Registry entry for the CUSUM change-point detector. */
export const cusum: DetectorDefinition<CusumOptions, CalibratedState> = {
  method: 'cusum',
  description: 'Flags level shifts and slow drifts with a two-sided CUSUM of deviations from a slow robust level.',
  defaults: DEFAULTS,
  create: (options) => new Cusum(withDefaults(options), ...CalibratedDetector.allocate(SCALARS, 0)),
  restore: (state) => new Cusum(withDefaults(state.options as Partial<CusumOptions>), ...CalibratedDetector.load(state.state, SCALARS, 0)),
};
