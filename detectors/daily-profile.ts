/**
 * Daily profile: a Holt-Winters-style seasonal baseline with one EWMA per half hour of the day (UTC).
 * Catches values that are normal in general but wrong for this time of day, such as a traffic dip at
 * peak hour or a nightly job that did not run.
 *
 * Until the profile has seen about three days and explains the series better than a plain level, the
 * statistic is 0 (a series without a daily cycle never triggers this detector).
 *
 * @example
 * ```ts
 * const d = dailyProfile.create();
 * // Feed a week of 5-minute points following a daily cycle, then a flat value at the daily peak: score near 1.
 * ```
 */
import { BASE_CELLS, BASE_SCALARS, CalibratedDetector, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import {
  PROFILE_CELLS,
  PROFILE_SCALARS,
  bucketOf,
  profileActive,
  profileKnows,
  profileLearn,
  profileSigma,
  profileValue,
  type ProfileRates,
} from './internal/daily-profile.ts';
import { LEVEL_SCALARS, levelInit, levelLearn, levelValue, type LevelRates } from './internal/robust-level.ts';
import type { DetectorDefinition } from './types.ts';

/** Options of the daily profile detector. */
export interface DailyProfileOptions extends CalibratedOptions {
  /** The profile's buckets and spread. */
  profile: ProfileRates;
  /** The plain level the profile must beat before it is trusted. */
  level: LevelRates;
  /** Half-width of the shown band, in σ. */
  bandSigmas: number;
}

const DEFAULTS: DailyProfileOptions = {
  warmup: 100,
  tailDecay: 0.0003,
  profile: { bucket: 0.2, spread: 0.02, clip: 3, advantage: 0.9 },
  level: { level: 0.2, spread: 0.02, clip: 3 },
  bandSigmas: 4,
};

const PROFILE = BASE_SCALARS;
const LEVEL = PROFILE + PROFILE_SCALARS;
const SCALARS = PROFILE_SCALARS + LEVEL_SCALARS;

class DailyProfile extends CalibratedDetector<DailyProfileOptions> {
  readonly method = 'daily-profile';

  protected start(x: number, time: number): void {
    levelInit(this.s, LEVEL, x);
    profileLearn(this.s, PROFILE, this.c, BASE_CELLS, time, x, 0, this.options.profile, 0);
  }

  protected observe(x: number, time: number, n: number): Observation {
    const { s, c, options } = this;
    const bucket = bucketOf(time);
    const active = profileActive(s, PROFILE, options.profile) && profileKnows(s, PROFILE, bucket);
    const level = levelValue(s, LEVEL);
    const expected = active ? profileValue(c, BASE_CELLS, bucket) : level;
    const sigma = profileSigma(s, PROFILE, this.quantum, expected);
    levelLearn(s, LEVEL, x, options.level, n, this.quantum);
    profileLearn(s, PROFILE, c, BASE_CELLS, time, x, x - level, options.profile, this.quantum);
    return {
      statistic: active ? Math.abs(x - expected) / sigma : 0,
      expected,
      band: options.bandSigmas * sigma,
      what: `${x >= expected ? 'high' : 'low'} for this time of day`,
    };
  }
}

function withDefaults(options: Partial<DailyProfileOptions> = {}): DailyProfileOptions {
  return { ...DEFAULTS, ...options, profile: { ...DEFAULTS.profile, ...options.profile }, level: { ...DEFAULTS.level, ...options.level } };
}

/** Registry entry for the daily profile detector. */
export const dailyProfile: DetectorDefinition<DailyProfileOptions, CalibratedState> = {
  method: 'daily-profile',
  description: 'Flags values that are unusual for this time of day, once the series shows a daily cycle.',
  defaults: DEFAULTS,
  create: (options) => new DailyProfile(withDefaults(options), ...CalibratedDetector.allocate(SCALARS, PROFILE_CELLS)),
  restore: (state) =>
    new DailyProfile(withDefaults(state.options as Partial<DailyProfileOptions>), ...CalibratedDetector.load(state.state, SCALARS, PROFILE_CELLS)),
};
