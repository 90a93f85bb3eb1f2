/**
 * Proportion test for error ratios: is this interval's ratio more than its request count can explain?
 *
 * The baseline rate is the ratio of EWMA error counts to EWMA request counts (so busy intervals weigh
 * more), and the statistic is a binomial z-score `(p − p₀) / √(p₀(1 − p₀)/n)`: 3 errors in 10 requests is
 * noise, 300 in 1,000 is an incident. Without `count` on a point, the running mean count is assumed.
 * By default only increases count (`direction: 'up'`): fewer errors is not an incident.
 *
 * @example
 * ```ts
 * const d = proportion.create();
 * for (let i = 0; i < 300; i++) d.update({ timestamp: i * 60_000, value: 0.01, count: 1000 });
 * d.update({ timestamp: 300 * 60_000, value: 0.31, count: 1000 }).reason;
 * // "0.31 vs expected 0.01 ± 0.0126: 1000 events, rarer than 1 in …"
 * ```
 */
import { BASE_SCALARS, CalibratedDetector, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import type { DetectorDefinition, Point } from './types.ts';

/** Options of the proportion detector. */
export interface ProportionOptions extends CalibratedOptions {
  /** EWMA rate of the baseline counts (1 / horizon in points). */
  rate: number;
  /** Events assumed behind a point that has no `count` before any count was seen. */
  assumedCount: number;
  /** `up` scores only ratios above the baseline; `both` also scores drops. */
  direction: 'up' | 'both';
  /** Half-width of the shown band, in binomial σ. */
  bandSigmas: number;
}

const DEFAULTS: ProportionOptions = { warmup: 30, tailDecay: 0.0003, rate: 0.01, assumedCount: 100, direction: 'up', bandSigmas: 4 };

const HITS = BASE_SCALARS;
const TRIALS = HITS + 1;
const SCALARS = 2;

class Proportion extends CalibratedDetector<ProportionOptions> {
  readonly method = 'proportion';

  protected start(x: number, _time: number, point: Point): void {
    const trials = this.trials(point);
    this.s[HITS] = ratio(x) * trials;
    this.s[TRIALS] = trials;
  }

  protected observe(x: number, _time: number, n: number, point: Point): Observation {
    const { s, options } = this;
    const p = ratio(x);
    const trials = this.trials(point);
    // Add-one smoothing keeps p₀ off 0 and 1, where the binomial variance would vanish.
    const baseline = (s[HITS]! + 1) / (s[TRIALS]! + 2);
    const sigma = Math.sqrt((baseline * (1 - baseline)) / trials);
    const z = (p - baseline) / sigma;
    const learn = Math.max(options.rate, 1 / n);
    s[HITS] = s[HITS]! + learn * (p * trials - s[HITS]!);
    s[TRIALS] = s[TRIALS]! + learn * (trials - s[TRIALS]!);
    return {
      statistic: options.direction === 'up' ? Math.max(0, z) : Math.abs(z),
      expected: baseline,
      band: options.bandSigmas * sigma,
      what: `${Math.round(trials)} events`,
    };
  }

  /** Events behind a point: its count, else the running mean count, else `assumedCount`. */
  private trials(point: Point): number {
    const count = Number(point.count);
    if (Number.isFinite(count) && count > 0) return Math.min(count, 1e12);
    return this.s[TRIALS]! > 0 ? this.s[TRIALS]! : this.options.assumedCount;
  }
}

/** Clamps a ratio into [0, 1] (a producer may send a percentage by mistake; it saturates, never breaks). */
function ratio(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Registry entry for the proportion detector. */
export const proportion: DetectorDefinition<ProportionOptions, CalibratedState> = {
  method: 'proportion',
  description: 'Flags error ratios that their event counts cannot explain, with a binomial test against a weighted baseline rate.',
  defaults: DEFAULTS,
  create: (options) => new Proportion({ ...DEFAULTS, ...options }, ...CalibratedDetector.allocate(SCALARS, 0)),
  restore: (state) => new Proportion({ ...DEFAULTS, ...(state.options as Partial<ProportionOptions>) }, ...CalibratedDetector.load(state.state, SCALARS, 0)),
};
